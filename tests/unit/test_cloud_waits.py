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

"""The test cloud's waits stay bounded and end early on a dead process.

Each wait of the cloud polls through :func:`supervisor.poll`; a service
that dies while starting must fail its ``up`` at once, not after its
whole timeout.
"""

import os
import subprocess
import sys
import time
from unittest import mock

import fixtures
import testtools

from nova_vfio_lm_cloud import supervisor
from nova_vfio_lm_cloud import upgrade

from tests.unit import run_folders

SLEEPS = [sys.executable, '-c', 'import time; time.sleep(120)']
EXITS = [sys.executable, '-c', 'print("bad config"); raise SystemExit(3)']


class PollTest(testtools.TestCase):

    def test_returns_the_first_true_value(self):
        answers = iter([None, 0, 'ready'])
        self.assertEqual('ready', supervisor.poll(
            lambda: next(answers), timeout=10, interval=0.01))

    def test_returns_the_last_false_value_after_the_timeout(self):
        started = time.monotonic()
        self.assertEqual([], supervisor.poll(lambda: [], 0.3, 0.05))
        self.assertLess(time.monotonic() - started, 5)

    def test_what_check_raises_ends_the_wait(self):
        def check():
            raise supervisor.ServiceFailed('gone')
        self.assertRaises(supervisor.ServiceFailed, supervisor.poll,
                          check, 60, 0.05)


class SupervisorTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        run = self.useFixture(run_folders.RunFolder()).run
        self.sup = supervisor.Supervisor(run)
        self.addCleanup(self.sup.stop_all, timeout=1)

    def test_wait_ready_fails_at_once_when_the_process_dies(self):
        self.sup.start('broken', EXITS)
        started = time.monotonic()
        error = self.assertRaises(
            supervisor.ServiceFailed, self.sup.wait_ready, 'broken',
            lambda: False, timeout=60)
        self.assertLess(time.monotonic() - started, 30)
        self.assertIn('broken exited while starting', str(error))
        self.assertIn('bad config', str(error))

    def test_wait_ready_times_out(self):
        self.sup.start('slow', SLEEPS)
        error = self.assertRaises(
            supervisor.ServiceFailed, self.sup.wait_ready, 'slow',
            lambda: False, timeout=0.5, interval=0.1)
        self.assertIn('slow was not ready within 0 s', str(error))

    def test_ready_raising_means_not_ready_yet(self):
        self.sup.start('api', SLEEPS)
        answers = iter([OSError('refused'), True])

        def ready():
            answer = next(answers)
            if isinstance(answer, Exception):
                raise answer
            return answer
        self.sup.wait_ready('api', ready, timeout=60, interval=0.01)

    def test_kill_and_stop_end_the_process(self):
        self.sup.start('crash', SLEEPS)
        self.sup.start('calm', SLEEPS)
        self.sup.kill('crash')
        self.assertIsNone(self.sup.pid('crash'))
        self.assertIn('crash', self.sup.names())  # a crash keeps its record
        self.sup.stop('calm', timeout=10)
        self.assertIsNone(self.sup.pid('calm'))
        self.assertNotIn('calm', self.sup.names())

    def test_a_zombie_is_not_alive(self):
        proc = subprocess.Popen([sys.executable, '-c', 'pass'])
        self.addCleanup(proc.wait)
        self.assertTrue(supervisor._start_ticks(proc.pid))
        # ended but not reaped: still in the process table, as a zombie
        os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOWAIT)
        self.assertFalse(supervisor._alive(proc.pid))
        self.assertTrue(supervisor._alive(os.getpid()))


class OnlineDataMigrationsTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.cloud = mock.Mock()
        self.cloud.nova.bin.return_value = 'nova-manage'
        self.check = self.useFixture(fixtures.MockPatchObject(
            upgrade, 'check_command')).mock

    def test_runs_until_no_work_is_left(self):
        self.check.side_effect = [(1, 'more'), (0, 'done')]
        self.assertEqual('done', upgrade.online_data_migrations(self.cloud))
        self.assertEqual(2, self.check.call_count)

    def test_gives_up_after_its_attempts(self):
        self.check.return_value = (1, 'more')
        error = self.assertRaises(upgrade.UpgradeError,
                                  upgrade.online_data_migrations,
                                  self.cloud, attempts=2)
        self.assertIn('still had work after 2 runs', str(error))
        self.assertEqual(2, self.check.call_count)

    def test_a_failure_is_not_retried(self):
        self.check.return_value = (2, 'boom')
        error = self.assertRaises(upgrade.UpgradeError,
                                  upgrade.online_data_migrations,
                                  self.cloud)
        self.assertIn('exited 2:\nboom', str(error))
        self.assertEqual(1, self.check.call_count)
