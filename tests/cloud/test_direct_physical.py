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

"""A neutron ``direct-physical`` port: a whole PF in the guest.

Each compute has a lone PF (``0000:83:00.0``, no VFs) on ``physnet3``,
whose ``[pci]device_spec`` entry says ``managed=no``. Nova's VIF driver
gives such a port a plain ``<hostdev>``, not an ``<interface>``; with the
plugin the server boots and the ``<hostdev>`` keeps ``managed='no'``
(Nova writes ``managed='yes'``). The PF's state does not move: a live
migration unplugs it on the source and plugs the destination's PF, as
Nova does without the plugin. neutron-server binds the port without any
agent, and gives it the MAC address of the PF it is bound to.
"""

from nova_vfio_lm_cloud import layout

from tests.cloud import base

PF_NET = 'pf-net'
LONE_PFS = {host: layout.lone_pfs(cards)[0]
            for host, cards in layout.default_layout().items()}
PF = layout.pf_address(LONE_PFS['compute1'])


class DirectPhysicalPortTest(base.CloudScenario):

    def assert_on_pf(self, server, port, host, port_status='ACTIVE'):
        """ACTIVE on ``host``, its guest on that host's PF, unmanaged.

        Nova allocated the PF to it there, the guest's ``<hostdev>`` has
        it with ``managed='no'``, neutron's one binding is active there
        with it, and the port has that PF's MAC address.

        :param port_status: the port's ``status``.
        """
        found = self.show(server)
        self.assertEqual(('ACTIVE', host), (
            found['status'], found['OS-EXT-SRV-ATTR:host']))
        self.assertEqual([(PF, 'allocated')], [
            (row['address'], row['status']) for row in self.pci_device_rows(
                host, server, dev_type='type-PF')])
        self.assertEqual([(PF, 'no')], self.guest_pci_hostdevs(host, server))
        self.assertEqual({}, self.guest_port_vfs(host, server))
        self.assertEqual([(host, 'ACTIVE', PF)], self.port_bindings(port))
        found = self.port(port)
        self.assertEqual(
            (host, PF, LONE_PFS[host]['mac'], port_status),
            (found['binding:host_id'], found['binding:profile']['pci_slot'],
             found['mac_address'], found['status']))

    def test_pf_port_boots_and_is_unplugged_and_plugged_by_a_move(self):
        port = self.create_port(PF_NET, vnic_type='direct-physical')
        server = self.boot('plain', 'compute1', ports=[port])
        self.assert_on_pf(server, port, 'compute1')

        migration = self.live_migrate(server, 'compute2')

        self.assertEqual('completed', migration['status'])
        # neutron's own behaviour, on every release here: activating the
        # destination's binding puts the port DOWN, and only an agent
        # reporting the device up makes it ACTIVE again; no agent handles
        # PF ports (ML2 made it ACTIVE at its first binding, agent-less)
        self.assert_on_pf(server, port, 'compute2', port_status='DOWN')
        # nothing of it left on compute1: no guest, its PF free
        self.assertIsNone(self.hypervisor.host('compute1').get(server))
        self.assertEqual([(PF, 'available', None)], [
            (row['address'], row['status'], row['instance_uuid'])
            for row in self.pci_device_rows('compute1', dev_type='type-PF')])
        self.assertEqual([('compute2', PF)], [
            (row['host'], row['address'])
            for row in self.pci_device_rows(instance=server)])
        self.assertEqual(['compute2'], list(self.allocations(server)))
        # Nova's unplug and plug: the PF out on the source, in on the
        # destination
        self.assertEqual([('compute1', 'detach', 'hostdev', [PF]),
                          ('compute2', 'attach', 'hostdev', [PF])],
                         self.pci_plugs(server))
        self.assert_cloud_consistent()
