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

"""The upgrade check of this host's live-migratable VFs, on fixture hosts.

check-host's rules on the hosts under ``tests/fixtures/hosts``, with their
recorded devlink and virsh outputs; no Nova service is needed.
"""

import fixtures
import nova.conf
from oslo_config import fixture as config_fixture
from oslo_upgradecheck import upgradecheck as oslo_upgradecheck
import testtools

from nova_vfio_lm import upgradecheck
from tests.unit import test_hostcheck

Code = oslo_upgradecheck.Code
CHECK_HOST = ('"nova-vfio-lm check-host --config-file /etc/nova/nova.conf" '
              'on this host')


class HostDevicesCheckTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.conf = self.useFixture(config_fixture.Config(nova.conf.CONF))

    def check(self, host, device_spec=test_hostcheck.UNMANAGED):
        self.conf.config(device_spec=device_spec, group='pci')
        commands = upgradecheck.UpgradeCommands(
            host_root=test_hostcheck.root(host),
            host_runner=test_hostcheck.recorded(host))
        result = commands._check_host_devices()
        self.assertIsInstance(result, oslo_upgradecheck.Result)
        return result

    def test_is_the_last_check_of_the_command(self):
        name, method = upgradecheck.UpgradeCommands._upgrade_checks[-1]
        self.assertEqual(upgradecheck.HOST_DEVICES_CHECK, name)
        self.assertIs(upgradecheck.UpgradeCommands._check_host_devices,
                      method)

    def test_defaults_to_this_host_and_its_tools(self):
        commands = upgradecheck.UpgradeCommands()
        self.assertEqual(('/', None),
                         (commands.host_root, commands.host_runner))

    def test_ready_host_succeeds(self):
        result = self.check('ready-cx7')
        self.assertEqual(Code.SUCCESS, result.code, result.details)
        self.assertIn('The 2 VF(s) of host cx7-ready', result.details)
        self.assertIn('reads only the devices of the host it runs on',
                      result.details)
        self.assertNotIn('other blocking', result.details)

    def test_vf_bound_to_plain_vfio_pci_fails(self):
        result = self.check('not-ready', test_hostcheck.MIXED)
        self.assertEqual(Code.FAILURE, result.code)
        self.assertIn('2 of the 4 VF(s) of host cx7-not-ready',
                      result.details)
        self.assertIn('0000:81:00.2: bound to plain vfio-pci, which cannot '
                      'migrate device state; bind it to mlx5_vfio_pci '
                      '(managed=no)', result.details)
        # unbound, yet managed=no: nothing binds it before the guest starts
        self.assertIn('0000:81:00.3: unbound; managed=no needs it bound to '
                      'mlx5_vfio_pci', result.details)
        # managed=yes VFs: libvirt binds them (a warning in check-host)
        self.assertNotIn('0000:82:00.2:', result.details)
        self.assertNotIn('0000:82:00.3:', result.details)
        self.assertIn(CHECK_HOST, result.details)
        # check-host's other blocking findings are counted, not judged here
        self.assertIn('check-host also finds 14 other blocking problem(s)',
                      result.details)

    def test_list_of_vfs_is_bounded(self):
        self.useFixture(fixtures.MonkeyPatch(
            'nova_vfio_lm.upgradecheck.MAX_LISTED', 1))
        result = self.check('not-ready', test_hostcheck.MIXED)
        self.assertEqual(Code.FAILURE, result.code)
        self.assertIn('0000:81:00.2:', result.details)
        self.assertNotIn('0000:81:00.3:', result.details)
        self.assertIn('and 1 more', result.details)

    def test_device_spec_without_live_migratable_succeeds(self):
        result = self.check('not-ready', [test_hostcheck.spec()])
        self.assertEqual(Code.SUCCESS, result.code, result.details)
        self.assertIn('No [pci]device_spec entry of this nova.conf says '
                      'live_migratable=yes, so host cx7-not-ready has no VF '
                      'to check', result.details)
        self.assertIn('reads only the devices of the host it runs on',
                      result.details)

    def test_no_matching_vf_on_this_host_succeeds(self):
        # a controller: the computes' entries, none of their VFs
        result = self.check('not-ready', [test_hostcheck.spec(
            address='0000:99:*.*', live_migratable='yes')])
        self.assertEqual(Code.SUCCESS, result.code, result.details)
        self.assertIn('No VF that a live_migratable=yes [pci]device_spec '
                      'entry matches is visible on host cx7-not-ready',
                      result.details)

    def test_invalid_device_spec_fails(self):
        result = self.check('ready-cx7', [test_hostcheck.spec(
            live_migratable='maybe')])
        self.assertEqual(Code.FAILURE, result.code)
        # in the plugin's words on 2024.x, in Nova's on 2025.1+
        self.assertIn('[pci]device_spec of this nova.conf is invalid: ',
                      result.details)
        self.assertIn("'maybe'", result.details)
        self.assertIn('Correct [pci]device_spec', result.details)
