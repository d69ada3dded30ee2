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

"""Neutron SR-IOV ports on live-migratable VFs move with their state.

Each host has one PF with four VFs: VF 1-3 on ``physnet4`` tagged
``live_migratable=yes`` (bound to their variant driver, ``managed=no``),
VF 4 on ``bar`` without the tag. A ``direct`` port on ``physnet4`` thus
gets a live-migratable VF, one on ``bar`` a legacy one.
"""

import copy
import threading

import fixtures
from nova import objects
from nova.tests.functional.libvirt import base as libvirt_base
from oslo_utils import uuidutils

from nova_vfio_lm_cloud.inprocess import cloud

LEGACY_VF = cloud.vf_address(4)


def _legacy_port():
    """A ``direct`` port on the VLAN network of physnet ``bar``."""
    fixture = libvirt_base.LibvirtNeutronFixture
    port = copy.deepcopy(fixture.network_4_port_1)
    port.update({
        'id': uuidutils.generate_uuid(),
        'network_id': fixture.network_2['id'],
        'mac_address': 'b5:bc:2e:e7:51:aa',
        'fixed_ips': [{'ip_address': '192.168.1.20',
                       'subnet_id': fixture.subnet_2['id']}],
        'binding:vif_details': {'vlan': 123},
    })
    return port


class _PortCloud(cloud.VfioCloudTestCase):

    PCI_DEVICE_SPEC = (
        [cloud.device_spec(cloud.vf_address(vf), physical_network='physnet4',
                           live_migratable='yes', managed='no')
         for vf in (1, 2, 3)] +
        [cloud.device_spec(LEGACY_VF, physical_network='bar')])
    PCI_ALIAS = [cloud.alias('lm-vf', live_migratable='yes')]
    HYPERVISOR_FAILS = False
    HYPERVISOR_HOLDS = False
    #: compute2's own ``[pci]device_spec``, when it differs
    DEST_DEVICE_SPEC = None
    #: PFs per host; the four VFs are shared out among them
    NUM_PFS = 1

    def setUp(self):
        super().setUp()
        self.use_neutron()
        self.use_live_migration_hypervisor(fail=self.HYPERVISOR_FAILS,
                                           hold=self.HYPERVISOR_HOLDS)
        self.start_sriov_compute('compute1', num_pfs=self.NUM_PFS)
        self.start_sriov_compute('compute2', num_pfs=self.NUM_PFS,
                                 device_specs=self.DEST_DEVICE_SPEC)

    def migratable_port(self):
        return self.neutron.create_port(
            {'port': self.neutron.network_4_port_1})['port']

    def legacy_port(self):
        return self.neutron.create_port({'port': _legacy_port()})['port']

    def boot_with_compute2_vf_taken(self):
        """A moving port's server on compute1; compute2's first VF taken.

        Another server holds compute2's first live-migratable VF.

        :returns: the server, its port and the port's VF on compute1.
        """
        self._create_server(flavor_id=self.create_pci_flavor('lm-vf'),
                            networks='none', host='compute2')
        port = self.migratable_port()
        server = self.boot_with_ports([port])
        return server, port, self.bound_vf(port)

    def boot_with_ports(self, ports, flavor_id=None):
        # without a flavor of its own, Nova's helper may take a PCI one
        server = self._create_server(
            flavor_id=flavor_id or self.create_plain_flavor(),
            networks=[{'port': p['id']} for p in ports],
            host='compute1')
        self.assertEqual('compute1', server['OS-EXT-SRV-ATTR:host'])
        return server

    def boot_with_both_kinds(self):
        """A server with a moving and a legacy port, before migrating.

        :returns: the server, ``{port id: VF}`` and the legacy port.
        """
        moving, legacy = self.migratable_port(), self.legacy_port()
        server = self.boot_with_ports([moving, legacy])
        before = {p['id']: self.bound_vf(p) for p in (moving, legacy)}
        self.plugged.clear()
        return server, before, legacy

    def boot_with_port_and_flavor_vf(self):
        """A server with a moving port and a flavor VF, before migrating.

        :returns: the server and ``({port id: VF}, sorted source VFs)``.
        """
        port = self.migratable_port()
        server = self.boot_with_ports(
            [port], flavor_id=self.create_pci_flavor('lm-vf'))
        self.plugged.clear()
        return server, ({port['id']: self.bound_vf(port)}, sorted(
            d.address for d in self.server_pci_devices(server['id'])))

    def assert_all_back_on_source(self, server, before):
        """The port and the flavor VF as before, nothing claimed."""
        ports, source_vfs = before
        self.assert_ports_back_on_source(server, ports, None)
        self.assertEqual(source_vfs, sorted(
            d.address for d in self.server_pci_devices(server['id'])))

    def bound_vf(self, port):
        profile = self.neutron.show_port(port['id'])['port'][
            'binding:profile']
        return profile['pci_slot']

    def port_vfs(self, server_id, hostname):
        """``{port id: VF}`` of the server's ports, from the database."""
        requests = {r.request_id: r.requester_id
                    for r in self.server_pci_requests(server_id)
                    if r.requester_id}
        node = objects.ComputeNode.get_by_nodename(self.ctxt, hostname)
        return {requests[d.request_id]: d.address
                for d in self.server_pci_devices(server_id)
                if d.request_id in requests and d.compute_node_id == node.id}

    def assert_ports_back_on_source(self, server, before, legacy):
        """ACTIVE on compute1, ports bound to their source VFs again.

        :param before: ``{port id: VF}`` before the migration.
        :param legacy: the port that is unplugged and plugged again, or
            ``None`` if the migration failed before any unplug.
        """
        self.assertEqual([], self.wait_for_claims_released('compute2'))
        server = self.api.get_server(server['id'])
        self.assertEqual('ACTIVE', server['status'])
        self.assertEqual('compute1', server['OS-EXT-SRV-ATTR:host'])
        # the legacy port went out and came back; the moving one stayed
        self.assertEqual([('detach_interface', legacy['id']),
                          ('attach_interface', legacy['id'])]
                         if legacy else [], self.plugged)
        self.assertEqual(before, {port_id: self.bound_vf({'id': port_id})
                                  for port_id in before})
        for port_id in before:
            self.assert_bound_only_on(port_id, 'compute1')
        self.assertEqual(before, self.port_vfs(server['id'], 'compute1'))
        self.assert_nothing_claimed('compute2')

    def assert_bound_only_on(self, port_id, host):
        """The port's active binding is on ``host``, no other is left."""
        from neutronclient.common import exceptions

        self.assertEqual(host, self.neutron.show_port(
            port_id)['port']['binding:host_id'])
        for other in {'compute1', 'compute2'} - {host}:
            self.assertRaises(exceptions.NeutronClientException,
                              self.neutron.show_port_binding, port_id, other)

    def interface_managed(self, xml):
        """``{MAC: managed}`` of the hostdev interfaces of a guest XML."""
        return {mac: managed for mac, (_vf, managed)
                in self.hostdev_interfaces(xml).items()}

    def sent_interfaces(self):
        """``{MAC: VF}`` of the hostdev interfaces in the XML sent over."""
        [xml] = self.destination_xmls
        return {mac: vf for mac, (vf, _managed)
                in self.hostdev_interfaces(xml).items()}


class MigratablePortTest(_PortCloud):

    def test_port_moves_with_its_state_and_binding(self):
        port = self.migratable_port()
        server = self.boot_with_ports([port])
        source_vf = self.bound_vf(port)
        self.assertIn(source_vf, [cloud.vf_address(vf) for vf in (1, 2, 3)])
        self.plugged.clear()

        server, migration = self.live_migrate(server)

        self.assertEqual('completed', migration['status'])
        self.assertEqual('ACTIVE', server['status'])
        self.assertEqual('compute2', server['OS-EXT-SRV-ATTR:host'])
        # no unplug on the source, no plug on the destination
        self.assertEqual([], self.plugged)
        dest_vf = self.port_vfs(server['id'], 'compute2')[port['id']]
        self.assertEqual('true', [
            d for d in self.pci_devices('compute2') if d.address == dest_vf
        ][0].extra_info['live_migratable'])
        # the guest XML sent over names the destination VF
        self.assertEqual({port['mac_address']: dest_vf},
                         self.sent_interfaces())
        # the port is bound to the destination VF, MAC and VLAN untouched
        bound = self.neutron.show_port(port['id'])['port']
        self.assertEqual(dest_vf, bound['binding:profile']['pci_slot'])
        self.assertEqual('physnet4',
                         bound['binding:profile']['physical_network'])
        self.assertEqual('8086:1515',
                         bound['binding:profile']['pci_vendor_info'])
        self.assertEqual(port['mac_address'], bound['mac_address'])
        self.assertEqual({'vlan': 42}, bound['binding:vif_details'])
        self.assert_bound_only_on(port['id'], 'compute2')
        self.assertEqual((4, 4), self.pci_counts('compute1'))
        self.assertEqual((4, 3), self.pci_counts('compute2'))

    def test_migratable_and_legacy_ports_each_take_their_path(self):
        moving, legacy = self.migratable_port(), self.legacy_port()
        server = self.boot_with_ports([moving, legacy])
        self.assertEqual(LEGACY_VF, self.bound_vf(legacy))
        # the variant driver's VF stays bound to it: managed='no'
        self.assertEqual(
            {moving['mac_address']: 'no', legacy['mac_address']: 'yes'},
            self.interface_managed(self.domain_xml('compute1',
                                                   server['id'])))
        self.plugged.clear()

        server, migration = self.live_migrate(server)

        self.assertEqual('completed', migration['status'])
        self.assertEqual('compute2', server['OS-EXT-SRV-ATTR:host'])
        # only the legacy port is unplugged and plugged again
        self.assertEqual([('detach_interface', legacy['id']),
                          ('attach_interface', legacy['id'])], self.plugged)
        vfs = self.port_vfs(server['id'], 'compute2')
        self.assertEqual(LEGACY_VF, vfs[legacy['id']])
        self.assertEqual({moving['mac_address']: vfs[moving['id']]},
                         self.sent_interfaces())
        self.assertEqual({moving['mac_address']: 'no'},
                         self.interface_managed(self.destination_xmls[0]))
        self.assertEqual(vfs[moving['id']], self.bound_vf(moving))
        self.assertEqual(LEGACY_VF, self.bound_vf(legacy))
        self.assertEqual((4, 4), self.pci_counts('compute1'))
        self.assertEqual((4, 2), self.pci_counts('compute2'))

    def test_destination_vf_at_another_address_keeps_managed_no(self):
        # compute2's first live-migratable VF is taken: the port's VF
        # there is not at its source VF's address
        server, port, source_vf = self.boot_with_compute2_vf_taken()

        server, migration = self.live_migrate(server)

        self.assertEqual('completed', migration['status'])
        dest_vf = self.port_vfs(server['id'], 'compute2')[port['id']]
        self.assertNotEqual(source_vf, dest_vf)
        # the destination VF's own tag decides, though only the
        # destination has claimed it when the source writes the XML
        self.assertEqual({port['mac_address']: (dest_vf, 'no')},
                         self.hostdev_interfaces(self.destination_xmls[0]))

    def test_port_and_flavor_vf_move_in_one_migration(self):
        port = self.migratable_port()
        server = self.boot_with_ports(
            [port], flavor_id=self.create_pci_flavor('lm-vf'))
        self.plugged.clear()

        server, migration = self.live_migrate(server)

        self.assertEqual('completed', migration['status'])
        self.assertEqual('compute2', server['OS-EXT-SRV-ATTR:host'])
        self.assertEqual([], self.plugged)
        port_vf = self.port_vfs(server['id'], 'compute2')[port['id']]
        self.assertEqual({port['mac_address']: port_vf},
                         self.sent_interfaces())
        self.assertEqual(port_vf, self.bound_vf(port))
        flavor_vfs = [address for address, _managed in
                      self.guest_hostdevs('compute2', server['id'])]
        self.assertEqual(1, len(flavor_vfs))
        self.assertNotEqual(port_vf, flavor_vfs[0])
        self.assertEqual((4, 4), self.pci_counts('compute1'))
        # both VFs are the server's for good: allocated, none left claimed
        self.assertEqual(
            sorted([(port_vf, 'allocated'), (flavor_vfs[0], 'allocated')]),
            sorted((d.address, d.status) for d in self.pci_devices('compute2')
                   if not d.is_available()))


class MigratablePortFailureTest(_PortCloud):

    HYPERVISOR_FAILS = True

    def test_failed_migration_keeps_port_bound_on_source(self):
        server, before, legacy = self.boot_with_both_kinds()

        server, migration = self.live_migrate(server)

        self.assertIn(migration['status'], ('error', 'failed'))
        self.assert_ports_back_on_source(server, before, legacy)

    def test_failed_migration_with_flavor_vf_frees_every_claim(self):
        server, before = self.boot_with_port_and_flavor_vf()

        server, migration = self.live_migrate(server)

        self.assertIn(migration['status'], ('error', 'failed'))
        # the port's and the flavor's destination VFs are both freed
        self.assert_all_back_on_source(server, before)


class AbortedPortMigrationTest(_PortCloud):

    HYPERVISOR_HOLDS = True

    def test_abort_keeps_ports_bound_on_source(self):
        server, before, legacy = self.boot_with_both_kinds()
        self.start_live_migration(server, host='compute2')
        migration = self.wait_until_held(server)

        self.abort_live_migration(server, migration)
        server, migration = self.wait_for_live_migration(server)

        self.assertEqual('cancelled', migration['status'])
        self.assert_ports_back_on_source(server, before, legacy)


class PreLiveMigrationFailurePortTest(_PortCloud):

    def test_failure_on_destination_keeps_ports_bound_on_source(self):
        # the destination fails to prepare (e.g. a disk or network error);
        # there is no real stand-in for that on the fake host
        from nova import exception
        self.useFixture(fixtures.MockPatch(
            'nova.virt.libvirt.driver.LibvirtDriver.pre_live_migration',
            side_effect=exception.NovaException('destination not ready')))
        server, before, legacy = self.boot_with_both_kinds()

        server, migration = self.live_migrate(server)

        self.assertIn(migration['status'], ('error', 'failed'))
        # the source had not unplugged anything yet
        self.assert_ports_back_on_source(server, before, None)


class PostMigrationFailurePortTest(_PortCloud):

    def test_error_after_switch_over_leaves_port_with_the_guest(self):
        # The guest already runs on compute2 when its post-migration step
        # fails there (no real stand-in for that on the fake host): the
        # server is in ERROR on compute2 (Nova's rule). The port must be
        # bound to the VF the guest uses there, nothing claimed anywhere.
        from nova import exception
        self.useFixture(fixtures.MockPatch(
            'nova.virt.libvirt.driver.LibvirtDriver.'
            'post_live_migration_at_destination',
            side_effect=exception.NovaException('post-migration failed')))
        port = self.migratable_port()
        server = self.boot_with_ports([port])
        self.plugged.clear()

        server, migration = self.live_migrate(server)

        self.assertEqual('ERROR', server['status'])
        self.assertEqual('compute2', server['OS-EXT-SRV-ATTR:host'])
        self.assertEqual([], self.plugged)
        dest_vf = self.port_vfs(server['id'], 'compute2')[port['id']]
        self.assertEqual({port['mac_address']: dest_vf},
                         self.sent_interfaces())
        self.assertEqual(dest_vf, self.bound_vf(port))
        # active on compute2 (Nova leaves the inactive source binding for
        # the operator's cleanup of an ERROR server, as for every port)
        self.assertEqual('compute2', self.neutron.show_port(
            port['id'])['port']['binding:host_id'])
        self.assertEqual({'allocated'}, {
            d.status for d in self.server_pci_devices(server['id'])})
        self.assertEqual((4, 4), self.pci_counts('compute1'))
        self.assertEqual((4, 3), self.pci_counts('compute2'))


class NeutronDownAfterSwitchOverTest(_PortCloud):
    """Neutron does not answer when the source's post-migration begins.

    The job completed at the hypervisor (the guest runs on compute2).
    Nova alone goes on with the post-migration, skips the ports it cannot
    look up, and the destination's post-migration fails on neutron: the
    server goes to ERROR on compute2. The source's post-migration must
    wait until neutron answers, then complete.
    """

    HYPERVISOR_HOLDS = True
    #: the neutron calls of a live migration's post-migration
    NEUTRON_CALLS = ('list_extensions', 'list_ports', 'show_port',
                     'update_port', 'show_port_binding',
                     'activate_port_binding', 'delete_port_binding')

    def neutron_down(self):
        """Neutron's calls fail (503) until the returned event is set."""
        from neutronclient.common import exceptions

        back = threading.Event()
        for name in self.NEUTRON_CALLS:
            def call(*args, _real=getattr(self.neutron, name), **kwargs):
                if not back.is_set():
                    raise exceptions.ServiceUnavailable()
                return _real(*args, **kwargs)
            setattr(self.neutron, name, call)
            self.addCleanup(delattr, self.neutron, name)
        return back

    def test_post_migration_waits_until_neutron_answers(self):
        self.quick_backend_wait()
        port = self.migratable_port()
        server = self.boot_with_ports([port])
        self.plugged.clear()
        self.start_live_migration(server, host='compute2')
        self.wait_until_held(server)

        back = self.neutron_down()
        self.release_live_migrations()
        self.wait_for_log('its post-migration waits')
        back.set()
        server, migration = self.wait_for_live_migration(server)

        self.assertEqual(('completed', 'ACTIVE', 'compute2'), (
            migration['status'], server['status'],
            server['OS-EXT-SRV-ATTR:host']))
        self.assertIn('neutron does not answer (ServiceUnavailable',
                      self.stdlog.logger.output)
        self.assertEqual([], self.plugged)
        dest_vf = self.port_vfs(server['id'], 'compute2')[port['id']]
        self.assertEqual(dest_vf, self.bound_vf(port))
        self.assert_bound_only_on(port['id'], 'compute2')
        self.assert_nothing_claimed('compute1')


class RefusedDestinationBindingTest(_PortCloud):
    """Neutron cannot bind the ports on compute2 (e.g. its agent is down).

    compute2's pre-check has already claimed a VF for each port (and the
    flavor's) when the conductor asks neutron for the bindings there.
    """

    def setUp(self):
        super().setUp()
        from neutronclient.common import exceptions
        self.refused = []
        original = self.neutron.create_port_binding

        def create_port_binding(port_id, body):
            if body['binding']['host'] == 'compute2':
                self.refused.append(port_id)
                raise exceptions.NeutronClientException(status_code=500)
            return original(port_id, body)

        self.useFixture(fixtures.MonkeyPatch(
            'nova.tests.fixtures.NeutronFixture.create_port_binding',
            lambda _fixture, *args: create_port_binding(*args)))

    def test_every_destination_claim_is_freed(self):
        server, before, legacy = self.boot_with_both_kinds()

        server, migration = self.live_migrate(server, host='compute2')

        self.assertEqual('error', migration['status'])
        self.assertNotEqual([], self.refused)
        self.assert_ports_back_on_source(server, before, None)

    def test_flavor_vf_claim_is_freed_too(self):
        server, before = self.boot_with_port_and_flavor_vf()

        server, migration = self.live_migrate(server, host='compute2')

        self.assertEqual('error', migration['status'])
        # compute2 had passed its pre-check: both VFs claimed there
        self.assertNotEqual([], self.refused)
        self.assert_all_back_on_source(server, before)


class NoMigratableVfForPortTest(_PortCloud):
    """On compute2 only VF 1 of physnet4 is live-migratable."""

    DEST_DEVICE_SPEC = (
        [cloud.device_spec(cloud.vf_address(1), physical_network='physnet4',
                           live_migratable='yes', managed='no')] +
        [cloud.device_spec(cloud.vf_address(vf), physical_network='physnet4')
         for vf in (2, 3)] +
        [cloud.device_spec(LEGACY_VF, physical_network='bar')])

    def test_refused_rather_than_moved_to_a_legacy_vf(self):
        # compute2's live-migratable VF is taken; VF 2 and 3 of physnet4
        # are free but could not take the device state
        server, port, source_vf = self.boot_with_compute2_vf_taken()
        self.plugged.clear()

        server, migration = self.live_migrate(server)

        self.assertEqual('error', migration['status'])
        server = self.api.get_server(server['id'])
        self.assertEqual('ACTIVE', server['status'])
        self.assertEqual('compute1', server['OS-EXT-SRV-ATTR:host'])
        self.assertEqual([], self.plugged)
        self.assertEqual(source_vf, self.bound_vf(port))
        self.assert_bound_only_on(port['id'], 'compute1')
        self.assertEqual([], self.wait_for_claims_released('compute2'))
        self.assertEqual((4, 3), self.pci_counts('compute2'))
        # refused by the destination's pre-check, or already by the
        # scheduler when its view of the host's free VFs says so
        log = self.stdlog.logger.output
        self.assertTrue(
            'not enough free live-migratable VFs for the ports' in log or
            'No valid host was found' in log, 'no refusal logged')

    def test_scheduler_skips_a_host_without_free_migratable_vf(self):
        from nova.compute import manager
        checked = []
        original = manager.ComputeManager.check_can_live_migrate_destination

        def spy(compute, ctxt, instance, *args, **kwargs):
            checked.append(compute.host)
            return original(compute, ctxt, instance, *args, **kwargs)

        self.useFixture(fixtures.MonkeyPatch(
            'nova.compute.manager.ComputeManager.'
            'check_can_live_migrate_destination', spy))
        self._create_server(flavor_id=self.create_pci_flavor('lm-vf'),
                            networks='none', host='compute2')
        port = self.migratable_port()
        server = self.boot_with_ports([port])

        server, migration = self.live_migrate(server, host='compute2')

        self.assertEqual('error', migration['status'])
        # the scheduler dropped compute2: no claim was ever tried there
        self.assertEqual([], checked)
        self.assertIn('No valid host was found', self.stdlog.logger.output)
