# Licensed under the Apache License, Version 2.0 (the "License"); you may
# not use this file except in compliance with the License. You may obtain
# a copy of the License at
#
#      http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
# WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
# License for the specific language governing permissions and limitations
# under the License.

"""Which VFs a flavor's ``live_migratable`` may land on, at boot.

The truth table, one test per device tag and PCI-in-placement setting;
each test boots the three aliases (yes, no, unset) on a host whose VFs all
carry that tag and checks the whole row:

=============  ==========  ===========  ===========
alias \\ VF     ``true``    ``false``    untagged
=============  ==========  ===========  ===========
yes            ACTIVE      NoValidHost  NoValidHost
no             NoValidHost ACTIVE       NoValidHost
unset          ACTIVE      ACTIVE       ACTIVE
=============  ==========  ===========  ===========
"""

from nova_vfio_lm_cloud.inprocess import cloud

ALIASES = {'yes': cloud.alias('a-yes', live_migratable='yes'),
           'no': cloud.alias('a-no', live_migratable='no'),
           'unset': cloud.alias('a-unset')}


class _TableRow:
    """Mixed into a cloud test case that sets the VFs' tag and the row."""

    PCI_ALIAS = list(ALIASES.values())
    DEVICE_TAGS = {}
    EXPECTED = {}
    PCI_IN_PLACEMENT = False

    def setUp(self):
        self.PCI_DEVICE_SPEC = [cloud.device_spec(**self.DEVICE_TAGS)]
        super().setUp()
        if self.PCI_IN_PLACEMENT:
            self.enable_pci_in_placement()
        self.start_sriov_compute('compute1', num_pfs=1, num_vfs=2)

    def test_boot_outcome_for_each_alias(self):
        outcome = {}
        for key in ALIASES:
            flavor_id = self.create_pci_flavor('a-%s' % key)
            server = self.boot(flavor_id, name=key)
            outcome[key] = server['status']
            if server['status'] == 'ERROR':
                self.assertIn('No valid host', server['fault']['message'])
            else:
                [device] = self.server_pci_devices(server['id'])
                self.assertEqual(self.VF_EXTRA_INFO,
                                 device.extra_info.get('live_migratable'))
            self._delete_server(server)
            self.assert_nothing_claimed('compute1')
        self.assertEqual(self.EXPECTED, outcome)


class TrueVfs(_TableRow, cloud.VfioCloudTestCase):
    VF_EXTRA_INFO = 'true'
    DEVICE_TAGS = {'live_migratable': 'yes'}
    EXPECTED = {'yes': 'ACTIVE', 'no': 'ERROR', 'unset': 'ACTIVE'}


class FalseVfs(_TableRow, cloud.VfioCloudTestCase):
    VF_EXTRA_INFO = 'false'
    DEVICE_TAGS = {'live_migratable': 'no'}
    EXPECTED = {'yes': 'ERROR', 'no': 'ACTIVE', 'unset': 'ACTIVE'}


class UntaggedVfs(_TableRow, cloud.VfioCloudTestCase):
    VF_EXTRA_INFO = None
    DEVICE_TAGS = {}
    EXPECTED = {'yes': 'ERROR', 'no': 'ERROR', 'unset': 'ACTIVE'}


class TrueVfsInPlacement(TrueVfs):
    PCI_IN_PLACEMENT = True


class FalseVfsInPlacement(FalseVfs):
    PCI_IN_PLACEMENT = True


class UntaggedVfsInPlacement(UntaggedVfs):
    PCI_IN_PLACEMENT = True
