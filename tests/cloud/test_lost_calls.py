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

"""A call of a live migration that gets no answer in time.

RPC between Nova's services is at most once and each call waits
``rpc_response_timeout`` (60 s) for its answer. The scenarios stop the
service that should answer (SIGSTOP) at a hold point of the stand-in
hypervisor, so that the call is in flight at a known step, and let it go
(SIGCONT) once the caller has given up.
"""

from tests.cloud import base


class LostCallTest(base.CloudScenario):

    def test_progress_save_lost_while_the_job_completes(self):
        """The source's progress save times out; the job completed meanwhile.

        The source's monitor pauses right after its first look at the
        running job (the save comes next); the conductor is stopped and
        the job completes at the hypervisor; then the monitor goes on and
        its save waits for the stopped conductor until it times out. Nova
        alone ends the monitor there and puts the server into ERROR on
        compute1 while its guest runs on compute2. The migration must
        complete instead, once the conductor answers again.
        """
        server = self.migration_with_monitor_paused()
        source_log = self.log_from_now('nova-compute-compute1')
        self.stop_service('nova-conductor')
        self.complete_held_job(server)

        self.hypervisor.resume_monitor(server)
        base.wait_for('the progress save of %s timed out' % server,
                      lambda: 'Could not save the progress of live '
                      'migration' in source_log(), interval=1.0)
        self.continue_service('nova-conductor')

        self.assertEqual('completed',
                         self.wait_for_migration(server)['status'])
        self.assert_runs_on(server, 'compute2', 1)
        self.assert_nothing_claimed('compute1')
        self.assert_cloud_consistent()
