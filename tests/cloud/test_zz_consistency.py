"""The whole cloud is consistent after every other scenario.

Named to run last (stestr runs the scenarios in name order, one at a
time): the whole-cloud check of every scenario's base
(:meth:`~tests.cloud.base.CloudScenario.assert_cloud_consistent`).
"""

from tests.cloud import base


class ConsistencyTest(base.CloudScenario):

    def test_placement_audit_and_pci_counts_agree_with_the_guests(self):
        server = self.boot('lm.vf3', 'compute2')
        self.assertEqual('completed',
                         self.live_migrate(server, 'compute1')['status'])
        # and back, the scheduler choosing (only compute2 has room)
        self.assertEqual('completed', self.live_migrate(server)['status'])
        self.assert_runs_on(server, 'compute2', 3)

        self.assert_cloud_consistent()
