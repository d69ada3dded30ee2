"""A live migration right after RabbitMQ was restarted.

Runs after the other move scenarios (stestr runs them in name order): the
services' state reports can lag for a while after the broker comes back.
"""

from tests.cloud import base


class BrokerRestartTest(base.CloudScenario):

    def test_next_migration_after_a_broker_restart(self):
        server = self.boot('lm.vf1', 'compute1')

        self.cloud.rabbit.restart()
        for host in self.cloud.layout:
            base.wait_for('%s up after the broker restart' % host,
                          lambda host=host: self.compute_up(host))

        self.assertEqual('completed',
                         self.live_migrate(server, 'compute2')['status'])
        self.assert_runs_on(server, 'compute2', 1)
