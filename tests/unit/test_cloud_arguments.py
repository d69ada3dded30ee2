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

"""``nova-vfio-lm-cloud`` refuses arguments it cannot act on, plainly.

Each refusal exits 2 with one line naming the argument and what it takes,
never a traceback, and before anything starts or any file is named after
the value.
"""

import os
import subprocess

import fixtures
import testtools

from tests import commands


class CloudArgumentsTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.run_folder = os.path.join(
            self.useFixture(fixtures.TempDir()).path, 'run')

    def refused(self, *args):
        env = dict(os.environ, NOVA_VFIO_LM_CLOUD_DIR=self.run_folder)
        result = subprocess.run(commands.cloud() + list(args),
                                capture_output=True, text=True, env=env,
                                stdin=subprocess.DEVNULL, timeout=120)
        self.assertEqual(2, result.returncode, result.stderr)
        self.assertNotIn('Traceback', result.stdout + result.stderr)
        return result.stderr

    def test_compute_counts_are_bounded(self):
        for value in ('0', '10', 'x'):
            self.assertIn("argument --computes: '%s' is not a whole number "
                          "from 1 to 9" % value,
                          self.refused('up', '--computes', value))
        self.assertIn("argument --lm-computes: '-1' is not a whole number "
                      "from 0 to 9",
                      self.refused('test', '--lm-computes=-1'))
        self.assertIn('--lm-computes 4 is more than the 2 computes',
                      self.refused('up', '--computes', '2',
                                   '--lm-computes', '4'))
        self.assertFalse(os.path.exists(self.run_folder))

    def test_unknown_service_is_named_with_the_known_ones(self):
        for verb in ('kill', 'start'):
            said = self.refused(verb, 'nova-compute-../x')
            self.assertIn('cloud %s: unknown service nova-compute-../x; '
                          'known: mariadb, ' % verb, said)
            self.assertIn('nova-compute-compute1', said)

    def test_upgrade_of_an_unknown_compute(self):
        self.assertIn("cloud upgrade: compute needs the host of one of the "
                      "cloud's computes (compute1, compute2, compute3), not "
                      "'compute9'", self.refused(
                          'upgrade', 'compute', 'compute9', '--venv',
                          self.run_folder))

    def test_hypervisor_values_are_checked(self):
        self.assertIn("'../x' is not a server UUID",
                      self.refused('hypervisor', 'release', '../x'))
        self.assertIn("mode", self.refused('hypervisor', 'mode', 'pause'))
