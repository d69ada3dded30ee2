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

"""At most ``[vfio_lm] max_migrating_vfs_per_pf`` VFs of one PF migrating."""

import collections
import threading

import fixtures
import nova.conf
import nova.db.main.api
from nova import objects
from oslo_db import exception as db_exc

from nova_vfio_lm.changes import compute_live_migration_pf_limit as pf_limit
from nova_vfio_lm import conf as vfio_lm_conf
from nova_vfio_lm_cloud.inprocess import cloud

#: fake libvirt's first and second PF
PF0 = '0000:81:00.0'
PF1 = '0000:81:01.0'


def pf_of(vf_address):
    """Fake libvirt puts each PF at function 0 of its VFs' slot."""
    return vf_address.rsplit('.', 1)[0] + '.0'


class _PfLimitCloud(cloud.VfioCloudTestCase):
    """Every VF live-migratable; at most 2 VFs of one PF migrating."""

    PCI_DEVICE_SPEC = [cloud.device_spec(live_migratable='yes',
                                         managed='no')]
    PCI_ALIAS = [cloud.alias('lm-vf', live_migratable='yes')]
    LIMIT = 2

    def setUp(self):
        # the options exist with the plugin inactive too (for the checks
        # that these tests fail without it)
        vfio_lm_conf.register_opts(nova.conf.CONF)
        super().setUp()
        self.flags(max_migrating_vfs_per_pf=self.LIMIT, group='vfio_lm')
        # no queue of Nova's own on the sources: only the PF limit holds
        # migrations back (read when each compute starts)
        self.flags(max_concurrent_live_migrations=0)
        self.use_live_migration_hypervisor()
        self.hold_each_migration()
        self.flavor = self.create_pci_flavor('lm-vf')

    def hold_each_migration(self):
        """The hypervisor holds each migration until :meth:`release` it.

        Counts the VFs of each PF the hypervisor is moving at once
        (``('source' | 'dest', PF address)``) and keeps the peak.
        """
        original = cloud.fakelibvirt.Domain.migrateToURI3
        lock = threading.Lock()
        self.in_hypervisor = {}  # server uuid: its release
        self.moving = collections.Counter()
        self.peak = collections.Counter()

        def migrateToURI3(domain, dconnuri, params, flags):
            pfs = ([('source', pf_of(vf)) for vf in _hostdevs(
                domain.XMLDesc(0))] +
                [('dest', pf_of(vf)) for vf in _hostdevs(
                    params['destination_xml'])])
            release = threading.Event()
            with lock:
                self.in_hypervisor[domain.UUIDString()] = release
                self.moving.update(pfs)
                for pf in pfs:
                    self.peak[pf] = max(self.peak[pf], self.moving[pf])
            try:
                release.wait(60)  # a bound: a forgotten hold fails
                return original(domain, dconnuri, params, flags)
            finally:
                with lock:
                    self.moving.subtract(pfs)

        self.useFixture(fixtures.MonkeyPatch(
            'nova.tests.fixtures.libvirt.Domain.migrateToURI3',
            migrateToURI3))

    def release(self, *server_ids):
        """Let these held migrations (all by default) go on."""
        for server_id, release in list(self.in_hypervisor.items()):
            if not server_ids or server_id in server_ids:
                release.set()

    def settle(self):
        """Release every held migration and wait for all to end."""
        def ended():
            self.release()
            return not objects.MigrationList.get_by_filters(self.ctxt, {
                'migration_type': 'live-migration',
                'status': list(pf_limit.IN_PROGRESS_STATUSES)})
        self.wait_until(ended)

    def release_until_ended(self, servers):
        """Release each migration once in the hypervisor, until all end."""
        def ended():
            self.release()
            return all(self.live_migrations(server['id'])[0]['status'] in
                       ('completed', 'error', 'failed', 'cancelled')
                       for server in servers)
        self.assertTrue(self.wait_until(ended))

    def boot_on(self, host):
        server = self._create_server(flavor_id=self.flavor,
                                     networks='none', host=host)
        self.assertEqual(host, server['OS-EXT-SRV-ATTR:host'])
        return server

    def moved_and_waiting(self):
        return (set(self.in_hypervisor),
                set(pf_limit.waiting_migrations()))

    def wait_until_held_or_waiting(self, servers):
        """Each server's migration is in the hypervisor or waits its turn.

        :returns: the servers in the hypervisor, those waiting (ids).
        """
        ids = {server['id'] for server in servers}
        self.wait_until(lambda: ids <= set().union(*self.moved_and_waiting()))
        return self.moved_and_waiting()

    def dest_vfs(self, server_id, host):
        node = objects.ComputeNode.get_by_nodename(self.ctxt, host)
        return [d for d in self.server_pci_devices(server_id)
                if d.compute_node_id == node.id]

    def assert_dest_claim_freed(self, server_id):
        """Nothing of the server's is claimed on compute2 any more.

        The migration ends on the source; compute2 frees its claim when
        the source's rollback reaches it, a moment later.
        """
        self.wait_until(lambda: not self.dest_vfs(server_id, 'compute2'))
        self.assertEqual([], self.dest_vfs(server_id, 'compute2'))

    def assert_landed(self, server, host):
        """Completed; the guest on ``host`` has exactly its VFs there."""
        server, migration = self.wait_for_live_migration(server)
        self.assertEqual('completed', migration['status'])
        self.assertEqual(('ACTIVE', host), (
            server['status'], server['OS-EXT-SRV-ATTR:host']))
        devices = self.server_pci_devices(server['id'])
        self.assertEqual(['allocated'], [d.status for d in devices])
        self.assertEqual(devices, self.dest_vfs(server['id'], host))
        self.assertEqual([(devices[0].address, 'no')],
                         self.guest_hostdevs(host, server['id']))
        return devices[0]


def _hostdevs(xml):
    from lxml import etree
    return [cloud._source_address(hostdev) for hostdev in etree.fromstring(
        xml).findall("./devices/hostdev[@type='pci']")]


class WaitTest(_PfLimitCloud):
    """Four one-VF servers on compute1's one PF, to compute2's one PF."""

    def setUp(self):
        super().setUp()
        self.start_sriov_compute('compute1', num_pfs=1, num_vfs=4)
        self.start_sriov_compute('compute2', num_pfs=1, num_vfs=4)
        # before the computes stop: a failed test must not leave a
        # migration held or running
        self.addCleanup(self.settle)

    def start_migrations(self, count):
        servers = [self.boot_on('compute1') for _ in range(count)]
        for server in servers:
            self.start_live_migration(server, host='compute2')
            self.assertIsNone(self.api_error)
        return servers

    def test_never_more_than_the_limit_of_one_pf_migrating(self):
        servers = self.start_migrations(4)

        moving, waiting = self.wait_until_held_or_waiting(servers)

        self.assertEqual({('source', PF0): 2, ('dest', PF0): 2},
                         dict(self.peak))
        self.assertEqual((2, 2), (len(moving), len(waiting)))
        for server_id in waiting:
            [migration] = self.live_migrations(server_id)
            self.assertEqual('queued', migration['status'])
        self.assertIn('waits: PF %s on compute1 has 2 VF(s) migrating, '
                      'this migration adds 1' % PF0,
                      self.stdlog.logger.output)

        # one ends: one of the waiting ones takes its place, no more
        first = sorted(moving)[0]
        self.release(first)
        self.assert_landed({'id': first}, 'compute2')
        self.assertTrue(self.wait_until(lambda: len(self.in_hypervisor) == 3))
        self.assertEqual(1, len(pf_limit.waiting_migrations()))

        # the others, each once it is in the hypervisor
        self.release_until_ended(servers)

        self.assertEqual({('source', PF0): 2, ('dest', PF0): 2},
                         dict(self.peak))
        vfs = {self.assert_landed(server, 'compute2').address
               for server in servers}
        self.assertEqual({cloud.vf_address(f) for f in (1, 2, 3, 4)}, vfs)
        self.assert_nothing_claimed('compute1')
        self.assertEqual([], [d.address for d in self.pci_devices('compute2')
                              if d.status == 'claimed'])

    def test_abort_while_waiting_leaves_nothing_behind(self):
        servers = self.start_migrations(3)
        moving, waiting = self.wait_until_held_or_waiting(servers)
        self.assertEqual((2, 1), (len(moving), len(waiting)), self.peak)
        [server_id] = waiting
        [migration] = self.live_migrations(server_id)
        [source_vf] = [d.address for d in
                       self.server_pci_devices(server_id)
                       if d.status == 'allocated']
        # its VF on compute2 is claimed while it waits
        self.assertEqual(1, len(self.dest_vfs(server_id, 'compute2')))

        self.abort_live_migration({'id': server_id}, migration)
        server, migration = self.wait_for_live_migration({'id': server_id})

        self.assertEqual('cancelled', migration['status'])
        self.assertEqual(('ACTIVE', 'compute1'), (
            server['status'], server['OS-EXT-SRV-ATTR:host']))
        self.assert_dest_claim_freed(server_id)
        self.assertEqual([(source_vf, 'allocated')],
                         [(d.address, d.status) for d in
                          self.server_pci_devices(server_id)])
        self.assertEqual([(source_vf, 'no')],
                         self.guest_hostdevs('compute1', server_id))
        self.assertNotIn(server_id, self.in_hypervisor)
        # the two that moved land; nothing stays claimed anywhere
        self.release_until_ended([{'id': moved} for moved in moving])
        for moved in moving:
            self.assert_landed({'id': moved}, 'compute2')
        self.assertEqual([], [d.address for d in self.pci_devices('compute2')
                              if d.status == 'claimed'])
        self.assertEqual((4, 2), self.pci_counts('compute2'))
        self.assertEqual((4, 3), self.pci_counts('compute1'))

    def one_waiting(self):
        """Three moves of compute1's PF: two held, one waiting.

        :returns: the held ones' ids, the waiting one's id.
        """
        servers = self.start_migrations(3)
        moving, waiting = self.wait_until_held_or_waiting(servers)
        self.assertEqual((2, 1), (len(moving), len(waiting)), self.peak)
        [server_id] = waiting
        return moving, server_id

    def assert_rolled_back_while_waiting(self, server_id, moving, logged):
        """``error``, on compute1, nothing on compute2; the held ones land."""
        server, migration = self.wait_for_live_migration({'id': server_id})
        self.assertEqual('error', migration['status'])
        self.assertEqual(('ACTIVE', 'compute1'), (
            server['status'], server['OS-EXT-SRV-ATTR:host']))
        self.assert_dest_claim_freed(server_id)
        self.assertNotIn(server_id, self.in_hypervisor)
        self.assertIn(logged, self.stdlog.logger.output)
        self.release_until_ended([{'id': moved} for moved in moving])
        for moved in moving:
            self.assert_landed({'id': moved}, 'compute2')
        self.assertEqual((4, 2), self.pci_counts('compute2'))

    def test_a_wait_too_long_rolls_back(self):
        self.flags(max_migrating_vfs_wait=1, group='vfio_lm')
        moving, server_id = self.one_waiting()

        # the two in the hypervisor are held until after it gave up
        self.assert_rolled_back_while_waiting(
            server_id, moving, 'gave up after waiting 1 seconds')

    def test_an_error_while_waiting_rolls_back(self):
        moving, server_id = self.one_waiting()

        # the database stops answering the waiting migration's count
        def moving_vfs(*args, **kwargs):
            raise db_exc.DBConnectionError('database gone')

        self.useFixture(fixtures.MonkeyPatch(
            'nova_vfio_lm.changes.compute_live_migration_pf_limit.'
            'moving_vfs', moving_vfs))
        self.assert_rolled_back_while_waiting(
            server_id, moving, 'failed while it waited for its PFs')

    def test_the_database_down_while_waiting_rolls_back_once_it_is_back(self):
        self.quick_backend_wait()
        moving, server_id = self.one_waiting()

        # the database stops answering: the waiting migration's count and
        # the reads of its rollback (the server, its block devices)
        def moving_vfs(*args, **kwargs):
            raise db_exc.DBConnectionError('database gone')

        self.useFixture(fixtures.MonkeyPatch(
            'nova_vfio_lm.changes.compute_live_migration_pf_limit.'
            'moving_vfs', moving_vfs))
        back = self.database_down('instance_get_by_uuid',
                                  'block_device_mapping_get_all_by_instance')
        self.wait_for_log('its rollback waits for it')
        back.set()

        self.assert_rolled_back_while_waiting(
            server_id, moving, 'failed while it waited for its PFs')
        self.assertIn('The database and neutron answer again; its rollback '
                      'goes on', self.stdlog.logger.output)


class QueuePlaceTest(_PfLimitCloud):
    """compute1 moves at most three live migrations at once (Nova's queue)."""

    def setUp(self):
        super().setUp()
        # read when the computes start
        self.flags(max_concurrent_live_migrations=3)
        self.start_sriov_compute('compute1', num_pfs=1, num_vfs=4)
        self.start_sriov_compute('compute2', num_pfs=1, num_vfs=4)
        self.addCleanup(self.settle)

    def test_a_migration_waiting_for_its_pf_keeps_no_place(self):
        # two fill the PF's limit, the third waits for the PF; Nova's queue
        # has three places, so a server without VFs still moves at once
        self.assert_waiting_one_keeps_no_place()

    def test_a_migration_that_finds_its_pf_full_gives_its_place_back(self):
        # the PF had room when the third's call came, so it joined Nova's
        # queue; when its place came the PF was full: it must give the
        # place back rather than wait in it
        self.useFixture(fixtures.MonkeyPatch(
            'nova_vfio_lm.changes.compute_live_migration_pf_limit.'
            '_busy_now', lambda instance, migration: False))
        self.assert_waiting_one_keeps_no_place()

    def assert_waiting_one_keeps_no_place(self):
        servers = [self.boot_on('compute1') for _ in range(3)]
        for server in servers:
            self.start_live_migration(server, host='compute2')
        moving, waiting = self.wait_until_held_or_waiting(servers)
        self.assertEqual((2, 1), (len(moving), len(waiting)), self.peak)
        plain = self._create_server(
            flavor_id=self.create_plain_flavor(), networks='none',
            host='compute1')

        self.start_live_migration(plain, host='compute2')

        self.assertTrue(self.wait_until(
            lambda: plain['id'] in self.in_hypervisor),
            'the migration without VFs stays queued behind the one that '
            'waits for its PF')
        self.assertEqual(waiting, set(pf_limit.waiting_migrations()))
        [migration] = self.live_migrations(*waiting)
        self.assertEqual('queued', migration['status'])
        self.release_until_ended(servers + [plain])
        for server in servers + [plain]:
            server, migration = self.wait_for_live_migration(server)
            self.assertEqual(('completed', 'compute2'), (
                migration['status'], server['OS-EXT-SRV-ATTR:host']))
        self.assertEqual({('source', PF0): 2, ('dest', PF0): 2},
                         dict(self.peak))


class DownSourceTest(_PfLimitCloud):
    """compute1 and compute3 each send servers to compute2's one PF."""

    def setUp(self):
        super().setUp()
        for host in ('compute1', 'compute2', 'compute3'):
            self.start_sriov_compute(host, num_pfs=1, num_vfs=4)
        self.addCleanup(self.settle)

    def test_a_down_source_does_not_count(self):
        # compute3's two migrations fill compute2's PF; compute1's waits.
        # Then compute3 is down (here: forced down, as Nova sees a compute
        # that stopped reporting): its migrations' jobs ended with it, so
        # they no longer count and compute1's goes on.
        held = [self.boot_on('compute3') for _ in range(2)]
        for server in held:
            self.start_live_migration(server, host='compute2')
        self.wait_until_held_or_waiting(held)
        waiting = self.boot_on('compute1')
        self.start_live_migration(waiting, host='compute2')
        self.wait_until_held_or_waiting([waiting])
        self.assertEqual({waiting['id']}, set(pf_limit.waiting_migrations()))

        [service] = self.api.get_services(binary='nova-compute',
                                          host='compute3')
        self.api.put_service_force_down(service['id'], True)
        self.addCleanup(self.api.put_service_force_down, service['id'],
                        False)

        self.assertTrue(self.wait_until(
            lambda: waiting['id'] in self.in_hypervisor))
        self.assertIn('is not counted against [vfio_lm] '
                      'max_migrating_vfs_per_pf: its source compute '
                      'compute3 is down', self.stdlog.logger.output)
        self.release(waiting['id'])
        self.assert_landed(waiting, 'compute2')


class DestinationPreferenceTest(_PfLimitCloud):
    """compute2 has two PFs of 4 VFs; the sources one PF each."""

    def setUp(self):
        super().setUp()
        self.start_sriov_compute('compute1', num_pfs=1, num_vfs=4)
        self.start_sriov_compute('compute3', num_pfs=1, num_vfs=4)
        self.start_sriov_compute('compute2', num_pfs=2, num_vfs=8)
        self.addCleanup(self.settle)

    def claimed_pf(self, server):
        [device] = self.dest_vfs(server['id'], 'compute2')
        self.assertEqual('claimed', device.status)
        return device.parent_addr

    def test_claim_avoids_a_pf_at_the_limit(self):
        first, second = self.boot_on('compute1'), self.boot_on('compute1')
        third = self.boot_on('compute3')
        for server in (first, second):
            self.start_live_migration(server, host='compute2')
        self.wait_until_held_or_waiting([first, second])
        busy_pf = self.claimed_pf(first)
        # below the limit the claim keeps Nova's own choice
        self.assertEqual(busy_pf, self.claimed_pf(second))

        self.start_live_migration(third, host='compute2')

        other_pf = self.claimed_pf(third)
        self.assertEqual({PF0, PF1}, {busy_pf, other_pf})
        self.release_until_ended([first, second, third])
        for server in (first, second):
            self.assertEqual(busy_pf, self.assert_landed(
                server, 'compute2').parent_addr)
        self.assertEqual(other_pf, self.assert_landed(
            third, 'compute2').parent_addr)
        self.assertLessEqual(max(self.peak.values()), self.LIMIT)
