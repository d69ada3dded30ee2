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

"""A live migration right after RabbitMQ was restarted.

Runs after the other move scenarios (stestr runs them in name order): the
services' state reports can lag for a while after the broker comes back,
and so can their RPC consumers. Nova's queues do not outlive the broker:
a cast sent before a service declared its queue again is dropped (seen on
nova 2026.2: the conductor's ``live_migration`` cast to the source's
``compute-alt`` queue, sent while that compute was still reconnecting,
left the migration ``queued`` for good). So the scenario waits, as an
operator would with ``rabbitmqctl list_queues``, until every Nova queue
that had a consumer before has one again.
"""

from tests.cloud import base


class BrokerRestartTest(base.CloudScenario):

    def test_next_migration_after_a_broker_restart(self):
        server = self.boot('lm.vf1', 'compute1')
        nova_queues = self.nova_queues()

        self.cloud.rabbit.restart()
        for host in self.cloud.layout:
            base.wait_for('%s up after the broker restart' % host,
                          lambda host=host: self.compute_up(host))
        self.wait_for_consumers(nova_queues)

        self.assertEqual('completed',
                         self.live_migrate(server, 'compute2')['status'])
        self.assert_runs_on(server, 'compute2', 1)
