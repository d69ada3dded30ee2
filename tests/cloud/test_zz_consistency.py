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
