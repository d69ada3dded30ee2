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

"""A service killed (SIGKILL) with a live migration in flight, then started.

Whatever dies, the server ends ACTIVE on exactly one host with its VFs
there, and nothing stays claimed on the other host once that host's
resource audit has run (the cloud runs it every few seconds). The fake
hypervisor keeps each migration job in its source nova-compute, so a
killed source ends its job, as libvirt ends a job whose client is gone.
"""

import subprocess

from tests.cloud import base
from tests import commands


class CrashTest(base.CloudScenario):

    def test_source_compute_killed(self):
        server = self.held_migration()

        self.cloud.sup.kill('nova-compute-compute1')
        self.restart_service('nova-compute-compute1')

        self.assertIn(self.wait_for_migration(server)['status'],
                      ('error', 'failed'))
        self.assert_runs_on(server, 'compute1', 1)
        self.assert_nothing_claimed('compute2')

    def test_source_compute_killed_with_a_migration_queued(self):
        """A migration waiting in the source's queue when the source dies.

        Nova runs one live migration at a time per source compute
        (``max_concurrent_live_migrations = 1``): a second one waits
        ``queued``, its VF already claimed on the destination. Nova's reset
        at start handles ``running`` migrations only; the queued one must
        end too, the server ACTIVE on its source, nothing left claimed.
        """
        first = self.held_migration()
        second = self.boot('lm.vf1', 'compute1')
        self.start_live_migration(second, 'compute2')
        self.assertEqual('queued', self.wait_for_migration(
            second, ('queued',))['status'])
        self.assertTrue(self.pci_rows('compute2', second))

        self.cloud.sup.kill('nova-compute-compute1')
        self.restart_service('nova-compute-compute1')

        for server in (first, second):
            self.assertIn(self.wait_for_migration(server)['status'],
                          ('error', 'failed'))
            self.assert_runs_on(server, 'compute1', 1)
        self.assert_nothing_claimed('compute2')
        self.assert_cloud_consistent()

    def test_destination_compute_killed(self):
        server = self.held_migration()

        self.cloud.sup.kill('nova-compute-compute2')
        self.hypervisor.decide(server, 'fail')
        self.assertIn(self.wait_for_migration(server)['status'],
                      ('error', 'failed'))
        self.restart_service('nova-compute-compute2')

        self.assert_runs_on(server, 'compute1', 1)
        self.assert_nothing_claimed('compute2')

    def test_conductor_killed(self):
        server = self.held_migration()
        # the source saves the migration's progress through the conductor
        # between two looks at the job; a save the dying conductor took is
        # lost (RPC is at most once) and fails the migration although the
        # hypervisor completes it, a Nova hazard documented in the admin
        # guide. Kill it between two saves, the outage this scenario is
        # about: with the source's monitor paused at its look at the job.
        self.pause_monitor(server)
        self.wait_until_monitor_paused(server)

        self.cloud.sup.kill('nova-conductor')
        self.hypervisor.decide(server, 'release')
        self.restart_service('nova-conductor')
        self.hypervisor.resume_monitor(server)

        self.assertEqual('completed',
                         self.wait_for_migration(server)['status'])
        self.assert_runs_on(server, 'compute2', 1)
        self.assert_nothing_claimed('compute1')

    def test_source_killed_after_the_switch_over(self):
        """The job completes; the source's post-migration never runs.

        The conductor is stopped (SIGSTOP) when the held job is released,
        so the source's post-migration waits on it, and the source compute
        is killed there. As libvirt with Nova's flags, the hypervisor
        already stopped and undefined the source guest when the job
        completed: the guest runs on the destination only, while Nova
        places the server on the source. The destination keeps the VFs
        its guest uses, at every audit, and says so; the operator then
        does what the admin guide says ("A guest runs where Nova does not
        place it"): destroy that guest, hard-reboot the server.
        """
        server = self.held_migration()
        self.stop_service('nova-conductor')

        self.complete_held_job(server)
        # nothing reached the database since: the source waits
        self.assertEqual('running', self.migrations(server)[0]['status'])
        in_use = self.guest_vfs('compute2', server)
        self.assertEqual(1, len(in_use))
        compute2_log = self.log_from_now('nova-compute-compute2')
        self.cloud.sup.kill('nova-compute-compute1')
        self.continue_service('nova-conductor')
        self.restart_service('nova-compute-compute1')

        self.assertEqual({'compute2': True}, self.domain_states(server))
        self.assertNotIn(self.wait_for_migration(server)['status'],
                         ('running', 'completed'))
        self.assertEqual('compute1', self.host_of(server))
        self.wait_for_audits()
        # Nova's records would free them here (the server is not on
        # compute2, its migration ended in error): the guest's word wins
        self.assertEqual(in_use, sorted(
            row['address'] for row in self.pci_rows('compute2', server)))
        self.assertIn('in use by the running guest of server %s on this '
                      'host, but Nova would free it' % server,
                      compute2_log())

        # the operator's action
        subprocess.run(commands.cloud() + [
            'hypervisor', 'destroy', server, '--host',
            'compute2'], check=True, timeout=60)
        # an audit that listed the guests before the destroy may end after
        # it: wait for one that began after the destroy
        self.wait_for_audits()
        self.assertEqual([], self.pci_rows('compute2', server))
        self.admin.run('server', 'reboot', '--hard', '--wait', server)
        self.assert_runs_on(server, 'compute1', 1)
        self.assert_cloud_consistent()
