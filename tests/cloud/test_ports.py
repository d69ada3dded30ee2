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

"""Neutron ``direct`` ports on live-migratable VFs, with a real neutron-server.

neutron-server decides which host a port may bind to (ML2's
``sriovnicswitch`` driver wants a live SR-IOV agent there with the
port's physical network), keeps the two bindings of a live migration and
activates the destination's when Nova says so. A port on ``lm-net``
(``physnet1``) gets a ConnectX-7 VF, whose state moves with the guest;
one on ``legacy-net`` (``physnet2``) a ConnectX-6 Dx VF, which Nova
unplugs before and plugs after the move, as it does without the plugin.
"""

from nova_vfio_lm_cloud import layout

from tests.cloud import base

LM_NET = 'lm-net'
LEGACY_NET = 'legacy-net'
#: A QoS port's guaranteed egress (kbit/s).
MIN_KBPS = 1000
#: Placement's name of the bandwidth provider of a host's ConnectX-7 PF.
CX7_PF_PROVIDER = '%%s:NIC Switch agent:%s' % layout.pf_netdev(
    layout.default_layout()['compute1'][0])


class DirectPortTest(base.CloudScenario):

    def boot_with_port(self, flavor='plain'):
        port = self.create_port(LM_NET)
        server = self.boot(flavor, 'compute1', ports=[port])
        return server, port

    def port_vf(self, port_id):
        return self.port(port_id)['binding:profile']['pci_slot']

    def assert_port_moved_with_state(self, server, port, host):
        """Bound on ``host`` to the VF the guest there uses, nothing plugged.

        The VF is one Nova claimed for the server on ``host``; the guest's
        interface on ``host`` uses it; no device was hot-plugged anywhere.
        """
        vf = self.port_vf(port)
        self.assertIn(vf, self.server_vfs(server, host))
        self.assert_port_on(port, host, vf)
        mac = self.port(port)['mac_address']
        self.assertEqual({mac: vf}, self.guest_port_vfs(host, server))
        self.assertEqual([], self.plugs(server))

    def test_port_moves_with_its_state(self):
        server, port = self.boot_with_port()
        source_vf = self.port_vf(port)
        self.assertEqual([source_vf], self.assert_runs_on(
            server, 'compute1', 1))
        self.assert_port_on(port, 'compute1', source_vf)

        migration = self.live_migrate(server, 'compute2')

        self.assertEqual('completed', migration['status'])
        self.assert_runs_on(server, 'compute2', 1)
        self.assert_port_moved_with_state(server, port, 'compute2')
        self.assertIn(source_vf, self.server_vfs(None, 'compute1',
                                                 status='available'))
        self.assert_nothing_claimed('compute1')

    def test_port_and_flavor_vf_move_together(self):
        server, port = self.boot_with_port('lm.vf1')
        self.assert_runs_on(server, 'compute1', 2)

        migration = self.live_migrate(server, 'compute2')

        self.assertEqual('completed', migration['status'])
        vfs = self.assert_runs_on(server, 'compute2', 2)
        self.assert_port_moved_with_state(server, port, 'compute2')
        # the other VF is the flavor's, a <hostdev> of the guest
        self.assertEqual(1, len(set(vfs) - {self.port_vf(port)}))
        self.assert_nothing_claimed('compute1')

    def test_failed_and_aborted_moves_leave_the_port_on_its_source(self):
        server, port = self.boot_with_port()
        source_vf = self.port_vf(port)

        self.hypervisor.set_mode('fail')
        failed = self.live_migrate(server, 'compute2')

        self.assertIn(failed['status'], ('error', 'failed'))
        self.assert_runs_on(server, 'compute1', 1)
        # the inactive binding Nova made on compute2 is gone again
        self.assert_port_on(port, 'compute1', source_vf)
        self.assert_nothing_claimed('compute2')

        self.hypervisor.set_mode('hold')
        self.start_live_migration(server, 'compute2')
        migration = self.wait_until_held(server)
        # meanwhile neutron keeps both: active here, inactive there
        self.assertEqual(
            ['compute1', 'compute2'],
            [host for host, _status, _vf in self.port_bindings(port)])
        self.admin.run('server', 'migration', 'abort', server,
                       migration['id'])

        self.assertEqual('cancelled',
                         self.wait_for_migration(server)['status'])
        self.assert_runs_on(server, 'compute1', 1)
        self.assert_port_on(port, 'compute1', source_vf)
        self.assertEqual({self.port(port)['mac_address']: source_vf},
                         self.guest_port_vfs('compute1', server))
        self.assertEqual([], self.plugs(server))
        self.assert_nothing_claimed('compute2')

    def test_port_whose_vf_cannot_move_is_unplugged_and_plugged(self):
        """Beside a port that moves with its state, Nova's unplug/plug."""
        moving = self.create_port(LM_NET)
        legacy = self.create_port(LEGACY_NET)
        server = self.boot('plain', 'compute1', ports=[moving, legacy])
        legacy_source_vf = self.port_vf(legacy)

        migration = self.live_migrate(server, 'compute2')

        self.assertEqual('completed', migration['status'])
        self.assertEqual('compute2', self.host_of(server))
        vfs = {port: self.port_vf(port) for port in (moving, legacy)}
        self.assertEqual(sorted(vfs.values()),
                         self.server_vfs(server, 'compute2'))
        for port, vf in vfs.items():
            self.assert_port_on(port, 'compute2', vf)
        self.assertEqual(
            {self.port(port)['mac_address']: vf for port, vf in vfs.items()},
            self.guest_port_vfs('compute2', server))
        # only the ConnectX-6 Dx VF went out on the source and came back
        # on the destination
        self.assertEqual([('compute1', 'detach', [legacy_source_vf]),
                          ('compute2', 'attach', [vfs[legacy]])],
                         self.plugs(server))
        self.assertEqual([], self.claims_elsewhere(server, 'compute2'))
        self.assertIsNone(self.guest_vfs('compute1', server))

    def test_qos_port_takes_its_bandwidth_to_the_destination_pf(self):
        """A minimum-bandwidth port's allocation moves to the new PF."""
        policy = self.create_min_bandwidth_policy(MIN_KBPS)
        port = self.create_port(LM_NET, qos_policy=policy)
        server = self.boot('plain', 'compute1', ports=[port])
        bandwidth = {'NET_BW_EGR_KILOBIT_PER_SEC': MIN_KBPS}
        self.assertEqual(bandwidth, self.allocations(server).get(
            CX7_PF_PROVIDER % 'compute1'))

        migration = self.live_migrate(server, 'compute2')

        self.assertEqual('completed', migration['status'])
        allocations = self.allocations(server)
        self.assertEqual(['compute2', CX7_PF_PROVIDER % 'compute2'],
                         sorted(allocations))
        self.assertEqual(bandwidth, allocations[CX7_PF_PROVIDER % 'compute2'])
        # the port names the provider its bandwidth is on (per request
        # group where neutron has port-resource-request-groups)
        allocation = self.port(port)['binding:profile']['allocation']
        self.assertEqual(
            [self.provider_uuid(CX7_PF_PROVIDER % 'compute2')],
            list(allocation.values()) if isinstance(allocation, dict)
            else [allocation])
        self.assert_port_moved_with_state(server, port, 'compute2')
        self.assert_nothing_claimed('compute1')
