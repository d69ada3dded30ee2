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

"""``nova-vfio-lm-cloud down`` says what it stops, and what would not stop.

A cloud's services get SIGTERM together and up to 30 s; an operator
watching a silent ``down`` cannot tell a stuck compute from a slow one.
"""

import sys

import testtools

from nova_vfio_lm_cloud import supervisor

from tests.unit import run_folders

SLEEPS = [sys.executable, '-c', 'import time; time.sleep(120)']
#: ignores SIGTERM, as a compute stuck in its own shutdown does; says
#: when it does so, so the test never signals it before that
STUCK = [sys.executable, '-c',
         'import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN)'
         '; print("ignoring", flush=True); time.sleep(120)']


class StopProgressTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        run = self.useFixture(run_folders.RunFolder()).run
        self.sup = supervisor.Supervisor(run)
        self.addCleanup(self.sup.stop_all, timeout=1)

    def test_down_names_what_it_stops_and_what_it_kills(self):
        self.sup.start('api', SLEEPS)
        self.sup.start('stuck', STUCK)
        self.sup.start('db', SLEEPS)
        self.sup.wait_ready('stuck', lambda: 'ignoring' in open(
            self.sup.log_path('stuck')).read(), timeout=60)
        lines = []
        self.sup.stop_all(timeout=1, last=['db'], progress=lines.append)
        self.assertEqual([
            'stopping 2 services (SIGTERM, 1 s at most): api, stuck',
            'still running after 1 s, SIGKILL in 5 s: stuck',
            'stopping db'], lines)
        self.assertEqual([None, None, None], [
            self.sup.pid(name) for name in ('api', 'stuck', 'db')])
