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

"""Placement down at a step of a live migration.

Placement's uwsgi is killed (SIGKILL, connections then refused) at a hold
point and started again once the step is over.
"""

from tests.cloud import base


class BackendDownTest(base.CloudScenario):

    def test_placement_down_during_the_source_post_migration(self):
        """The source frees its VF after the switch-over, placement down.

        The conductor is stopped as the held job is released, so the
        source's post-migration waits on it; placement is killed, then the
        conductor goes on. The source's report of the VF it freed fails:
        the migration must complete anyway, the report waits for the next
        audit once placement is back.
        """
        server = self.held_migration()
        self.stop_service('nova-conductor')
        self.complete_held_job(server)
        source_log = self.log_from_now('nova-compute-compute1')
        self.cloud.sup.kill('placement')
        self.addCleanup(self.start_if_stopped, 'placement')

        self.continue_service('nova-conductor')
        migration = self.wait_for_migration(server)
        self.cloud.start_service('placement')

        self.assertEqual('completed', migration['status'])
        self.assertIn('could not save them or report the pools',
                      source_log())
        self.assert_runs_on(server, 'compute2', 1)
        self.assert_nothing_claimed('compute1')
        self.delete_migration_allocation(migration['uuid'])
        self.assert_cloud_consistent()
