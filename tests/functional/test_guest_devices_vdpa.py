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

"""A VF a running guest uses through vDPA is never handed out either.

A vDPA interface names its device by the vhost-vdpa character device
(``<source dev='/dev/vhost-vdpa-3'/>``), not by the VF's PCI address, so
the hypervisor's answer to "which VFs do the running guests use" must map
it to its VF (libvirt's node devices), as for ``hostdev`` devices and
interfaces. Two hosts, each with a ConnectX-6 Dx PF whose four VFs each
carry a vDPA device (as in Nova's own vDPA tests).
"""

import re

from nova.tests.fixtures import libvirt as fakelibvirt
from oslo_serialization import jsonutils
from oslo_utils import uuidutils

from nova_vfio_lm_cloud.inprocess import cloud


class VdpaGuestDeviceNotHandedOutTest(cloud.VfioCloudTestCase):

    PCI_DEVICE_SPEC = [jsonutils.dumps(
        {'vendor_id': '15b3', 'product_id': '101e',
         'physical_network': 'physnet4'})]
    PCI_ALIAS = []
    NUM_VFS = 4

    def setUp(self):
        super().setUp()
        self.use_neutron()
        for hostname in ('compute1', 'compute2'):
            self.start_vdpa_compute(hostname)

    def start_vdpa_compute(self, hostname):
        pci_info = fakelibvirt.HostPCIDevicesInfo(
            num_pci=0, num_pfs=0, num_vfs=0)
        vdpa_info = fakelibvirt.HostVDPADevicesInfo()
        pci_info.add_device(
            dev_type='PF', bus=0x6, slot=0x0, function=0, iommu_group=40,
            numa_node=0, vf_ratio=self.NUM_VFS, vend_id='15b3',
            vend_name='Mellanox Technologies', prod_id='101d',
            prod_name='MT2892 Family [ConnectX-6 Dx]',
            driver_name='mlx5_core')
        for idx in range(self.NUM_VFS):
            vf = pci_info.add_device(
                dev_type='VF', bus=0x6, slot=0x0, function=idx + 1,
                iommu_group=idx + 41, numa_node=0, vf_ratio=self.NUM_VFS,
                parent=(0x6, 0x0, 0), vend_id='15b3',
                vend_name='Mellanox Technologies', prod_id='101e',
                prod_name='ConnectX Family mlx5Gen Virtual Function',
                driver_name='mlx5_core')
            vdpa_info.add_device('vdpa_vdpa%d' % idx, idx, vf)
        self.start_compute(hostname=hostname, pci_info=pci_info,
                           vdpa_info=vdpa_info)

    def vdpa_port(self, mac):
        port = {
            'id': uuidutils.generate_uuid(),
            'network_id': self.neutron.network_4['id'],
            'status': 'ACTIVE',
            'mac_address': mac,
            'fixed_ips': [{'ip_address': '192.168.4.%d' % int(mac[-2:]),
                           'subnet_id': self.neutron.subnet_4['id']}],
            'binding:vif_details': {},
            'binding:vif_type': 'ovs',
            'binding:vnic_type': 'vdpa',
        }
        return self.neutron.create_port({'port': port})['port']

    def boot_with_vdpa_port(self, host, mac):
        port = self.vdpa_port(mac)
        server = self._create_server(
            flavor_id=self.create_plain_flavor(),
            networks=[{'port': port['id']}], host=host)
        self.assertEqual(host, server['OS-EXT-SRV-ATTR:host'])
        return server, self.neutron.show_port(port['id'])['port'][
            'binding:profile']['pci_slot']

    def test_a_claim_skips_a_vf_a_running_guest_uses_through_vdpa(self):
        # A guest runs on compute2 on the vDPA device of a VF that Nova
        # records available there (here a copy of a compute1 guest, as a
        # guest started outside Nova). No claim may hand that VF out.
        server, vf = self.boot_with_vdpa_port('compute1', 'b5:bc:2e:e7:51:10')
        xml = self.domain_xml('compute1', server['id'])
        self.assertIn('/dev/vhost-vdpa-', xml)
        other = '11111111-2222-3333-4444-555555555555'
        xml = re.sub('<name>[^<]*</name>', '<name>outside-nova</name>',
                     xml.replace(server['id'], other))
        self.computes['compute2'].driver._host.get_connection().createXML(
            xml, 0)
        self.assertEqual('available', {
            d.address: d.status for d in self.pci_devices('compute2')}[vf])

        _second, second_vf = self.boot_with_vdpa_port(
            'compute2', 'b5:bc:2e:e7:51:11')

        self.assertNotEqual(vf, second_vf)
        self.assertIn('PCI device %s is available in Nova\'s records but in '
                      'use by the running guest of server %s on this host'
                      % (vf, other), self.stdlog.logger.output)
        self.assertEqual('available', {
            d.address: d.status for d in self.pci_devices('compute2')}[vf])
