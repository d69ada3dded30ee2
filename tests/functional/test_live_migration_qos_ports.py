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

"""A moving port's bandwidth allocation moves with it to the destination.

Each host has two PFs, netdevs ``ens1`` (VFs 0000:81:00.1-2) and ``ens2``
(VFs 0000:81:01.1-2), every VF on ``physnet4`` and live-migratable.
Neutron's SR-IOV agent gives bandwidth to ``ens1`` on compute1 and to
``ens2`` on compute2 only, so a port with a minimum-bandwidth request must
change PF when it moves: its destination VF has to come from the PF that
holds its new allocation.
"""

from nova import objects

from nova_vfio_lm_cloud.inprocess import cloud
from tests.functional import test_live_migration_ports as ports

PF1_VFS = [cloud.vf_address(vf, slot=0) for vf in (1, 2)]
PF2_VFS = [cloud.vf_address(vf, slot=1) for vf in (1, 2)]
KBPS = 1000
TRAITS = ['CUSTOM_PHYSNET_PHYSNET4', 'CUSTOM_VNIC_TYPE_DIRECT']


class _QosPortCloud(ports._PortCloud):

    NUM_PFS = 2
    PF_NETDEVS = {cloud.vf_address(0, slot=0): 'ens1',
                  cloud.vf_address(0, slot=1): 'ens2'}
    PCI_DEVICE_SPEC = [
        cloud.device_spec(address, physical_network='physnet4',
                          live_migratable='yes', managed='no')
        for address in PF1_VFS + PF2_VFS]

    def setUp(self):
        super().setUp()
        self.pf_rps = {
            'compute1': self.add_sriov_agent_providers(
                'compute1', {'ens1': 100000, 'ens2': 0}, TRAITS),
            'compute2': self.add_sriov_agent_providers(
                'compute2', {'ens1': 0, 'ens2': 100000}, TRAITS),
        }

    def qos_port(self):
        port = dict(self.neutron.network_4_port_1, resource_request={
            'resources': {'NET_BW_IGR_KILOBIT_PER_SEC': KBPS,
                          'NET_BW_EGR_KILOBIT_PER_SEC': KBPS},
            'required': TRAITS})
        return self.neutron.create_port({'port': port})['port']

    def boot_on_ens1(self):
        """A server with a QoS port on compute1, before migrating.

        :returns: the server, the port and its VF (one of ens1's).
        """
        port = self.qos_port()
        server = self.boot_with_ports([port])
        source_vf = self.assert_port_on(server, port, 'compute1', 'ens1',
                                        PF1_VFS)
        self.plugged.clear()
        return server, port, source_vf

    def bandwidth_used(self):
        """``{(host, PF netdev): kbit/s used}`` where any is used."""
        used = {}
        for host, rps in self.pf_rps.items():
            for ifname, rp_uuid in rps.items():
                usage = self._get_provider_usages(rp_uuid).get(
                    'NET_BW_EGR_KILOBIT_PER_SEC')
                if usage:
                    used[(host, ifname)] = usage
        return used

    def port_pf(self, server_id):
        """The PF netdev the server's port request is pinned to."""
        [request] = [r for r in objects.InstancePCIRequests
                     .get_by_instance_uuid(self.ctxt, server_id).requests
                     if r.requester_id]
        return request.spec[0].get('parent_ifname')

    def assert_port_on(self, server, port, host, ifname, vfs):
        self.assert_bound_only_on(port['id'], host)
        bound = self.neutron.show_port(port['id'])['port']
        self.assertIn(bound['binding:profile']['pci_slot'], vfs)
        self.assertEqual(self.pf_rps[host][ifname],
                         bound['binding:profile']['allocation'])
        self.assertEqual({(host, ifname): KBPS}, self.bandwidth_used())
        self.assertEqual(ifname, self.port_pf(server['id']))
        return bound['binding:profile']['pci_slot']

    def assert_port_back_on_source(self, server, port, source_vf):
        """ACTIVE on compute1, port on its VF of ens1, never unplugged."""
        self.assertEqual([], self.wait_for_claims_released('compute2'))
        server = self.api.get_server(server['id'])
        self.assertEqual('ACTIVE', server['status'])
        self.assertEqual('compute1', server['OS-EXT-SRV-ATTR:host'])
        self.assertEqual([], self.plugged)
        self.assertEqual(source_vf, self.assert_port_on(
            server, port, 'compute1', 'ens1', PF1_VFS))
        self.assert_nothing_claimed('compute2')


class QosPortMigrationTest(_QosPortCloud):

    def test_port_moves_to_the_vf_of_the_pf_holding_its_bandwidth(self):
        server, port, _source_vf = self.boot_on_ens1()

        server, migration = self.live_migrate(server)

        self.assertEqual('completed', migration['status'])
        self.assertEqual('compute2', server['OS-EXT-SRV-ATTR:host'])
        # moved with its state: never unplugged nor plugged again
        self.assertEqual([], self.plugged)
        dest_vf = self.assert_port_on(server, port, 'compute2', 'ens2',
                                      PF2_VFS)
        self.assertEqual({port['mac_address']: dest_vf},
                         self.sent_interfaces())
        self.assertEqual(
            {port['id']: dest_vf}, self.port_vfs(server['id'], 'compute2'))


class FailedQosPortMigrationTest(_QosPortCloud):

    HYPERVISOR_FAILS = True

    def test_bandwidth_and_vf_stay_on_the_source(self):
        server, port, source_vf = self.boot_on_ens1()

        server, migration = self.live_migrate(server)

        self.assertIn(migration['status'], ('error', 'failed'))
        self.assert_port_back_on_source(server, port, source_vf)


class NoMigratableVfOnBandwidthPfTest(_QosPortCloud):
    """On compute2 ens1 has the migratable VFs, ens2 the bandwidth."""

    DEST_DEVICE_SPEC = (
        [cloud.device_spec(address, physical_network='physnet4',
                           live_migratable='yes', managed='no')
         for address in PF1_VFS] +
        [cloud.device_spec(address, physical_network='physnet4')
         for address in PF2_VFS])

    def test_refused_and_nothing_moves(self):
        server, port, source_vf = self.boot_on_ens1()

        server, migration = self.live_migrate(server, host='compute2')

        self.assertEqual('error', migration['status'])
        # the destination's pre-check looked for a live-migratable VF of
        # ens2, where placement put the bandwidth, and found none
        self.assertIn('not enough free live-migratable VFs for the ports',
                      self.stdlog.logger.output)
        self.assert_port_back_on_source(server, port, source_vf)
