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

"""``live_migratable`` in ``[pci]alias``, at server create and resize."""

from nova.api.openstack import wsgi_app
from nova import exception

from nova_vfio_lm_cloud.inprocess import cloud

SPEC_BASE = {'vendor_id': cloud.VENDOR_ID, 'product_id': cloud.VF_PRODUCT_ID,
             'dev_type': 'type-VF'}


class AliasLiveMigratableTest(cloud.VfioCloudTestCase):
    """VF 1-2: live-migratable and unmanaged; VF 3-4: not migratable."""

    PCI_DEVICE_SPEC = cloud.split_device_specs((1, 2), (3, 4))
    PCI_ALIAS = [
        cloud.alias('lm-vf', live_migratable='Yes'),
        cloud.alias('pinned-vf', live_migratable='0'),
        cloud.alias('any-vf'),
    ]

    def setUp(self):
        super().setUp()
        self.start_sriov_compute('compute1')

    def _boot(self, alias_name, count=1):
        flavor_id = self.create_pci_flavor(alias_name, count)
        return self._create_server(flavor_id=flavor_id, networks='none',
                                   host='compute1')

    def test_boot_stores_request_spec_as_native_nova(self):
        server = self._boot('lm-vf')
        [request] = self.server_pci_requests(server['id'])
        self.assertEqual('lm-vf', request.alias_name)
        # exactly what Nova 2025.1+ stores for this alias
        self.assertEqual([dict(SPEC_BASE, live_migratable='true')],
                         request.spec)

    def test_boot_with_live_migratable_alias_gets_unmanaged_migratable_vf(
            self):
        server = self._boot('lm-vf', count=2)
        self.assertEqual('ACTIVE', server['status'])
        hostdevs = sorted(self.guest_hostdevs('compute1', server['id']))
        self.assertEqual(
            [(cloud.vf_address(1), 'no'), (cloud.vf_address(2), 'no')],
            hostdevs)
        self.assertEqual((4, 2), self.pci_counts('compute1'))

    def test_boot_with_non_migratable_alias_gets_managed_vf(self):
        server = self._boot('pinned-vf')
        [request] = self.server_pci_requests(server['id'])
        self.assertEqual([dict(SPEC_BASE, live_migratable='false')],
                         request.spec)
        [(address, managed)] = self.guest_hostdevs('compute1', server['id'])
        self.assertIn(address, (cloud.vf_address(3), cloud.vf_address(4)))
        self.assertEqual('yes', managed)

    def test_alias_without_key_stores_no_key(self):
        server = self._boot('any-vf')
        [request] = self.server_pci_requests(server['id'])
        self.assertEqual([SPEC_BASE], request.spec)

    def test_resize_to_live_migratable_flavor(self):
        self.start_sriov_compute('compute2')
        plain = self._create_server(
            flavor_id=self.create_plain_flavor(), networks='none',
            host='compute1')
        flavor_id = self.create_pci_flavor('lm-vf')
        with self.no_disk_copy():
            server = self._resize_server(plain, flavor_id)
        self.assertEqual('VERIFY_RESIZE', server['status'])
        server = self._confirm_resize(server)
        [request] = self.server_pci_requests(server['id'])
        self.assertEqual([dict(SPEC_BASE, live_migratable='true')],
                         request.spec)
        [(address, managed)] = self.guest_hostdevs(
            server['OS-EXT-SRV-ATTR:host'], server['id'])
        self.assertIn(address, (cloud.vf_address(1), cloud.vf_address(2)))
        self.assertEqual('no', managed)


class AliasWrongValueTest(cloud.VfioCloudTestCase):

    def test_compute_api_refuses_to_start_naming_alias_and_value(self):
        self.flags(alias=[cloud.alias('bad-vf', live_migratable='perhaps')],
                   group='pci')
        # what the compute API runs as it starts, under any WSGI server
        exc = self.assertRaises(
            exception.PciInvalidAlias, wsgi_app._setup_service,
            'api-host', 'osapi_compute')
        message = str(exc)
        self.assertIn('PCI alias', message)
        self.assertIn('perhaps', message)
        if not cloud.NOVA_SERIES.native:
            # the plugin's own message also names the option and the alias
            self.assertIn('[pci]alias', message)
            self.assertIn('bad-vf', message)
