"""Live migrations of VF servers between separate nova-compute processes."""

from tests.cloud import base


class LiveMigrationTest(base.CloudScenario):

    def test_one_vf_moves_to_the_named_host(self):
        server = self.boot('lm.vf1', 'compute1')
        source_vfs = self.assert_runs_on(server, 'compute1', 1)

        migration = self.live_migrate(server, 'compute2')

        self.assertEqual('completed', migration['Status'])
        self.assert_runs_on(server, 'compute2', 1)
        self.assertEqual([], self.server_vfs(server, 'compute1'))
        self.assertTrue(all(row['status'] == 'available'
                            for row in self.pci_rows('compute1')
                            if row['address'] in source_vfs))
        self.assert_nothing_claimed('compute2')

    def test_three_vfs_move_where_the_scheduler_finds_them(self):
        # compute3 has no live-migratable VF: only compute2 can take them
        server = self.boot('lm.vf3', 'compute1')
        self.assert_runs_on(server, 'compute1', 3)

        migration = self.live_migrate(server)

        self.assertEqual(('completed', 'compute2'), (
            migration['Status'], migration['Dest Compute']))
        self.assert_runs_on(server, 'compute2', 3)
        self.assert_nothing_claimed('compute1')
