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

"""``live_migratable`` and ``managed`` in ``[pci]device_spec``."""

from nova import exception

from nova_vfio_lm_cloud.inprocess import cloud


class DeviceSpecTagsTest(cloud.VfioCloudTestCase):
    """VF 1-2 live-migratable and unmanaged, VF 3 not, VF 4 untagged."""

    PCI_DEVICE_SPEC = [
        cloud.device_spec(cloud.vf_address(1), live_migratable='yes',
                          managed='No'),
        cloud.device_spec(cloud.vf_address(2), live_migratable='TRUE',
                          managed='0'),
        cloud.device_spec(cloud.vf_address(3), live_migratable='no'),
        cloud.device_spec(cloud.vf_address(4)),
    ]

    def setUp(self):
        super().setUp()
        self.start_sriov_compute('compute1')

    def test_pools_carry_normalised_live_migratable(self):
        values = sorted(
            (pool['count'], pool.get('live_migratable') or '-')
            for pool in self.pci_pools('compute1'))
        # VF 1 and 2 share a pool (same tags); VF 3 and VF 4 each have one
        self.assertEqual([(1, '-'), (1, 'false'), (2, 'true')], values)

    def test_pools_carry_normalised_managed(self):
        managed = sorted(
            pool.get('managed') or '-' for pool in self.pci_pools('compute1'))
        self.assertEqual(['-', '-', 'false'], managed)

    def test_devices_record_tags_in_extra_info(self):
        tags = {
            dev.address: (dev.extra_info.get('live_migratable'),
                          dev.extra_info.get('managed'))
            for dev in self.pci_devices('compute1')
            if dev.dev_type == 'type-VF'}
        self.assertEqual({
            cloud.vf_address(1): ('true', 'false'),
            cloud.vf_address(2): ('true', 'false'),
            cloud.vf_address(3): ('false', None),
            cloud.vf_address(4): (None, None),
        }, tags)


class DeviceSpecWrongValueTest(cloud.VfioCloudTestCase):

    def test_wrong_live_migratable_stops_compute_start(self):
        self.flags(device_spec=[cloud.device_spec(
            cloud.vf_address(1), live_migratable='maybe')], group='pci')
        exc = self.assertRaises(
            exception.PciConfigInvalidSpec,
            self.start_sriov_compute, 'compute1')
        message = str(exc)
        self.assertIn('[pci]device_spec', message)
        self.assertIn('maybe', message)
        self.assertIn('live_migratable', message)

    def test_wrong_managed_stops_compute_start(self):
        self.flags(device_spec=[cloud.device_spec(
            cloud.vf_address(1), managed='sometimes')], group='pci')
        exc = self.assertRaises(
            exception.PciConfigInvalidSpec,
            self.start_sriov_compute, 'compute1')
        self.assertIn('[pci]device_spec', str(exc))
        self.assertIn('sometimes', str(exc))


class DeviceSpecTagRemovedTest(cloud.VfioCloudTestCase):

    PCI_DEVICE_SPEC = [cloud.device_spec(live_migratable='yes', managed='no')]

    def test_removed_tags_leave_extra_info_on_restart(self):
        self.start_sriov_compute('compute1')
        before = {(d.extra_info.get('live_migratable'),
                   d.extra_info.get('managed'))
                  for d in self.pci_devices('compute1')}
        self.assertEqual({('true', 'false')}, before)

        self.flags(device_spec=[cloud.device_spec()], group='pci')
        self.restart_compute_service('compute1')

        after = {(d.extra_info.get('live_migratable'),
                  d.extra_info.get('managed'))
                 for d in self.pci_devices('compute1')}
        self.assertEqual({(None, None)}, after)
        self.assertEqual([None], [p.get('live_migratable')
                                  for p in self.pci_pools('compute1')])


class HypervisorVersionTest(cloud.VfioCloudTestCase):
    """live_migratable=yes needs libvirt >= 10.0.0 and QEMU >= 8.2.2."""

    PCI_DEVICE_SPEC = [cloud.device_spec(live_migratable='yes')]

    def test_old_libvirt_stops_compute_naming_versions(self):
        exc = self.assertRaises(
            exception.InvalidConfiguration, self.start_sriov_compute,
            'compute1', libvirt_version=(9, 0, 0))
        self.assertIn('live_migratable', str(exc))
        self.assertIn('libvirt >= 10.0.0 and QEMU >= 8.2.2', str(exc))
        self.assertIn('this host has libvirt 9.0.0 and QEMU 8.2.2', str(exc))

    def test_old_qemu_stops_compute(self):
        self.assertRaises(
            exception.InvalidConfiguration, self.start_sriov_compute,
            'compute1', qemu_version=(8, 2, 1))

    def test_declaring_no_needs_nothing(self):
        # stock Nova 2025.1+ refuses this host too; the plugin does not
        self.flags(device_spec=[cloud.device_spec(live_migratable='no')],
                   group='pci')
        self.start_sriov_compute('compute1', libvirt_version=(9, 0, 0),
                                 qemu_version=(8, 0, 0))
        self.assertEqual((4, 4), self.pci_counts('compute1'))
