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

"""Live migrations of VF servers between separate nova-compute processes."""

from nova_vfio_lm_cloud import client

from tests.cloud import base


class LiveMigrationTest(base.CloudScenario):

    def test_one_vf_refused_by_a_host_without_them_then_moves(self):
        server = self.boot('lm.vf1', 'compute1')
        source_vfs = self.assert_runs_on(server, 'compute1', 1)

        # compute3 has only VFs that cannot take the device state
        refused = self.assertRaises(
            client.ClientError, self.start_live_migration, server,
            'compute3')
        self.assertIn('No valid host', refused.output)
        self.assertEqual('error', self.wait_for_migration(server)['status'])
        self.assert_runs_on(server, 'compute1', 1)
        self.assertEqual([], self.pci_rows('compute3', server))

        migration = self.live_migrate(server, 'compute2')

        self.assertEqual('completed', migration['status'])
        self.assert_runs_on(server, 'compute2', 1)
        self.assertTrue(all(row['status'] == 'available'
                            for row in self.pci_rows('compute1')
                            if row['address'] in source_vfs))
        self.assert_nothing_claimed('compute2')

    def test_three_vfs_survive_a_hypervisor_failure_then_move(self):
        server = self.boot('lm.vf3', 'compute1')
        self.assert_runs_on(server, 'compute1', 3)

        self.hypervisor.set_mode('fail')
        failed = self.live_migrate(server, 'compute2')

        self.assertIn(failed['status'], ('error', 'failed'))
        self.assert_runs_on(server, 'compute1', 3)
        self.assert_nothing_claimed('compute2')

        # compute3 has no live-migratable VF: only compute2 can take them,
        # and the scheduler sees the VFs its rollback freed at once
        self.hypervisor.set_mode('complete')
        migration = self.live_migrate(server)

        self.assertEqual(('completed', 'compute2'), (
            migration['status'], migration['dest_compute']))
        self.assert_runs_on(server, 'compute2', 3)
        self.assert_nothing_claimed('compute1')

    def test_aborted_migration_leaves_the_server_on_its_source(self):
        server = self.boot('lm.vf1', 'compute2')
        self.hypervisor.set_mode('hold')
        self.start_live_migration(server, 'compute1')
        migration = self.wait_until_held(server)
        # the destination claimed a VF before anything moved (an audit of
        # compute1 since may count it allocated)
        self.assertEqual(1, len(self.pci_rows('compute1', server)))

        self.admin.run('server', 'migration', 'abort', server,
                       migration['id'])

        self.assertEqual('cancelled',
                         self.wait_for_migration(server)['status'])
        self.assert_runs_on(server, 'compute2', 1)
        self.assert_nothing_claimed('compute1')

    def test_flavor_whose_vfs_cannot_move_is_refused(self):
        server = self.boot('plain.vf1', 'compute1')

        refused = self.assertRaises(
            client.ClientError, self.start_live_migration, server,
            'compute2')

        self.assertIn('live_migratable', refused.output)
        self.assertEqual('ACTIVE', self.show(server)['status'])
        self.assertEqual('compute1', self.host_of(server))
        self.assertEqual(1, len(self.server_vfs(server, 'compute1')))
        self.assertEqual([], self.pci_rows('compute2', server))


class MemberTest(base.CloudScenario):

    def test_member_cannot_live_migrate_nor_see_hosts(self):
        server = self.boot('lm.vf1', client=self.member)

        refused = self.assertRaises(
            client.ClientError, self.start_live_migration, server,
            client=self.member)

        self.assertIn('403', refused.output)
        seen = self.member.json('server', 'show', server)
        self.assertEqual('ACTIVE', seen['status'])
        shown = {key: value for key, value in seen.items()
                 if value and (key.startswith('OS-EXT-SRV-ATTR')
                               or key == 'host_status')}
        self.assertEqual({}, shown)
        # no VF address: PCI details are an admin's
        self.assertNotIn('0000:', str(seen))
        self.assertEqual([], self.migrations(server))
