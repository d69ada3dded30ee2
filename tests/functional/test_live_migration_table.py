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

"""Which hosts a live migration may go to, by alias and destination VF tag.

The source host has VFs of each kind; each test class gives the only
other host VFs that all carry one tag, migrates one server per alias and
checks the whole row, with and without PCI in placement:

=============  ==========  ===========  ===========
alias \\ VF     ``true``    ``false``    untagged
=============  ==========  ===========  ===========
yes            completed   refused      refused
no             refused     refused      refused
unset          refused     refused      refused
=============  ==========  ===========  ===========

Only ``yes`` asks for a device whose state can move; ``no`` and unset are
refused before scheduling whatever the destination has. Every refusal
leaves the server ACTIVE on its source with its VF and nothing claimed on
the destination.
"""

from nova_vfio_lm_cloud.inprocess import cloud
from tests.functional.test_scheduling_table import ALIASES


#: the source's VFs: PF 0's are live-migratable, PF 1's are not, PF 2's
#: are untagged; fake libvirt puts PF n at slot n, its VFs at functions 1-2
SOURCE_DEVICE_SPEC = [
    cloud.device_spec('0000:81:00.*', live_migratable='yes', managed='no'),
    cloud.device_spec('0000:81:01.*', live_migratable='no'),
    cloud.device_spec('0000:81:02.*')]


class _TableRow:
    """Mixed into a cloud test case that sets the destination's tag."""

    PCI_ALIAS = list(ALIASES.values())
    DEST_TAGS = {}
    EXPECTED = {}
    PCI_IN_PLACEMENT = False

    def setUp(self):
        super().setUp()
        if self.PCI_IN_PLACEMENT:
            self.enable_pci_in_placement()
        self.use_live_migration_hypervisor()
        self.start_sriov_compute('compute1', num_pfs=3, num_vfs=6,
                                 device_specs=SOURCE_DEVICE_SPEC)
        self.start_sriov_compute(
            'compute2', num_pfs=1, num_vfs=2,
            device_specs=[cloud.device_spec(**self.DEST_TAGS)])

    def test_live_migration_outcome_for_each_alias(self):
        outcome = {}
        for key in ALIASES:
            server = self._create_server(
                flavor_id=self.create_pci_flavor('a-%s' % key),
                networks='none', host='compute1')
            server, migration = self.live_migrate(server)
            outcome[key] = migration['status']
            if migration['status'] == 'completed':
                self.assertEqual('compute2', server['OS-EXT-SRV-ATTR:host'])
                [device] = self.server_pci_devices(server['id'])
                self.assertEqual('true',
                                 device.extra_info.get('live_migratable'))
            else:
                self.assertEqual('ACTIVE', server['status'])
                self.assertEqual('compute1', server['OS-EXT-SRV-ATTR:host'])
                self.assertEqual(['allocated'], [
                    d.status for d in self.server_pci_devices(server['id'])])
                self.assertEqual(
                    [], self.wait_for_claims_released('compute2'))
                self.assert_nothing_claimed('compute2')
            self._delete_server(server)
            # a server deleted before its new host audited its resources
            # keeps its devices until that audit (Nova's own behaviour)
            self._run_periodics()
            self.assertEqual([], self.wait_for_claims_released(
                'compute2', statuses=('claimed', 'allocated')))
        self.assertEqual(self.EXPECTED, outcome)


ONLY_YES = {'yes': 'completed', 'no': 'error', 'unset': 'error'}
NONE = {'yes': 'error', 'no': 'error', 'unset': 'error'}


class TrueVfs(_TableRow, cloud.VfioCloudTestCase):
    DEST_TAGS = {'live_migratable': 'yes', 'managed': 'no'}
    EXPECTED = ONLY_YES


class FalseVfs(_TableRow, cloud.VfioCloudTestCase):
    DEST_TAGS = {'live_migratable': 'no'}
    EXPECTED = NONE


class UntaggedVfs(_TableRow, cloud.VfioCloudTestCase):
    EXPECTED = NONE


class TrueVfsInPlacement(TrueVfs):
    PCI_IN_PLACEMENT = True


class FalseVfsInPlacement(FalseVfs):
    PCI_IN_PLACEMENT = True


class UntaggedVfsInPlacement(UntaggedVfs):
    PCI_IN_PLACEMENT = True
