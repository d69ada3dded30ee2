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

"""Servers with a ``direct-physical`` port (a whole PF) under the plugin.

A PF port's guest device is a plain ``<hostdev>``, not an
``<interface type='hostdev'>``; every move Nova knows keeps working, the
PF keeps ``managed='no'`` where its ``[pci]device_spec`` entry says so
(stock Nova writes ``managed='yes'``), and a live migration unplugs and
plugs the PF as Nova always does, although its entry also says
``live_migratable=yes`` (the state of a whole PF port never moves: only a
``direct`` port's VF does).

Each host has its SR-IOV PF with four VFs (not in the device spec) and a
lone PF at ``0000:82:00.0`` on ``physnet4``, tagged ``live_migratable=yes``
and ``managed=no``, as a vendor-wide entry tags every function of a card.
"""

import copy

from nova.tests.functional.libvirt import base as libvirt_base
from oslo_utils import uuidutils

from nova_vfio_lm_cloud.inprocess import cloud

PF = cloud.lone_pf_address()


class DirectPhysicalPortTest(cloud.VfioCloudTestCase):

    PCI_DEVICE_SPEC = [cloud.device_spec(
        PF, product_id=cloud.PF_PRODUCT_ID, physical_network='physnet4',
        live_migratable='yes', managed='no')]

    def setUp(self):
        super().setUp()
        self.use_neutron()
        self.use_live_migration_hypervisor()
        for host in ('compute1', 'compute2'):
            self.start_sriov_compute(host, lone_pfs=1)

    def boot_with_pf_port(self):
        """A server on compute1 whose port holds the host's lone PF."""
        port = copy.deepcopy(libvirt_base.LibvirtNeutronFixture.
                             network_4_port_pf)
        port['id'] = uuidutils.generate_uuid()
        port = self.neutron.create_port({'port': port})['port']
        server = self._create_server(networks=[{'port': port['id']}],
                                     host='compute1')
        self.assertEqual('ACTIVE', server['status'])
        self.assert_pf_guest(server, 'compute1')
        self.plugged.clear()
        return server, port

    def assert_pf_guest(self, server, host, source_up=True):
        """ACTIVE on ``host``, its guest on that host's PF, unmanaged.

        :param source_up: whether the other host's compute runs (a down
            one frees its records of an evacuated server when it is back).
        """
        server = self.api.get_server(server['id'])
        self.assertEqual('ACTIVE', server['status'])
        self.assertEqual(host, server['OS-EXT-SRV-ATTR:host'])
        self.assertEqual([(PF, 'no')],
                         self.guest_hostdevs(host, server['id']))
        self.assertEqual([PF], [d.address for d in self.pci_devices(host)
                                if d.instance_uuid == server['id'] and
                                d.status == 'allocated'])
        self.assertEqual({}, self.hostdev_interfaces(
            self.domain_xml(host, server['id'])))
        other = ({'compute1', 'compute2'} - {host}).pop()
        if not source_up:
            return
        self.assertEqual([], [d.address for d in self.pci_devices(other)
                              if d.instance_uuid == server['id']])

    def test_boot(self):
        server, port = self.boot_with_pf_port()
        bound = self.neutron.show_port(port['id'])['port']
        self.assertEqual(PF, bound['binding:profile']['pci_slot'])

    def test_cold_migration(self):
        server, _port = self.boot_with_pf_port()
        with self.no_disk_copy():
            self._migrate_server(server)
        self._confirm_resize(server)
        self.assert_pf_guest(server, 'compute2')

    def test_evacuation(self):
        server, _port = self.boot_with_pf_port()
        self.api.put_service(self.computes['compute1'].service_ref.uuid,
                             {'forced_down': True})
        self.computes['compute1'].stop()
        # evacuated as it was when its host went down: stopped
        self._evacuate_server(server, expected_host='compute2')
        self._start_server(server)
        self.assert_pf_guest(server, 'compute2', source_up=False)

    def test_unshelve_elsewhere(self):
        server, _port = self.boot_with_pf_port()
        self._shelve_server(server)
        self.api.put_service(self.computes['compute1'].service_ref.uuid,
                             {'status': 'disabled'})
        self._unshelve_server(server)
        self.assert_pf_guest(server, 'compute2')

    def test_live_migration_unplugs_and_plugs_the_pf(self):
        server, port = self.boot_with_pf_port()

        server, migration = self.live_migrate(server)

        self.assertEqual('completed', migration['status'])
        self.assert_pf_guest(server, 'compute2')
        # the PF's state does not move: Nova's unplug and plug, as stock
        self.assertEqual([('detach_interface', port['id']),
                          ('attach_interface', port['id'])], self.plugged)
        bound = self.neutron.show_port(port['id'])['port']
        self.assertEqual(PF, bound['binding:profile']['pci_slot'])
        self.assertEqual('compute2', bound['binding:host_id'])
        self.assert_nothing_claimed('compute1')
