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


#: Nova's RPC queues (topic and per-host), by name.
NOVA_QUEUES = ('compute', 'conductor', 'scheduler')


class BrokerRestartTest(base.CloudScenario):

    def consumed_queues(self):
        """Names of the broker's queues that have a consumer."""
        found = set()
        for line in self.cloud.rabbit.ctl(
                ['list_queues', 'name', 'consumers', '--silent']).splitlines():
            fields = line.split()
            if len(fields) == 2 and fields[1].isdigit() and int(fields[1]):
                found.add(fields[0])
        return found

    def test_next_migration_after_a_broker_restart(self):
        server = self.boot('lm.vf1', 'compute1')
        nova_queues = {name for name in self.consumed_queues()
                       if name.startswith(NOVA_QUEUES)}

        self.cloud.rabbit.restart()
        for host in self.cloud.layout:
            base.wait_for('%s up after the broker restart' % host,
                          lambda host=host: self.compute_up(host))
        base.wait_for('consumers of %s again' % sorted(nova_queues),
                      lambda: nova_queues <= self.consumed_queues())

        self.assertEqual('completed',
                         self.live_migrate(server, 'compute2')['status'])
        self.assert_runs_on(server, 'compute2', 1)
