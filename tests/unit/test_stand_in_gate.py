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

"""The test cloud's stand-ins never load in a process it did not start.

The fake libvirt binding refuses to load, and the SR-IOV agent stand-in to
run, unless the environment names a run folder the test cloud created;
``status`` and ``check-host`` report an error when ``import libvirt``
would load the fake.
"""

import os
import subprocess
import sys

import fixtures
import testtools

from nova_vfio_lm_cloud import runfolder
from nova_vfio_lm_cloud import sriov_agent
from nova_vfio_lm_cloud import stand_in_gate
from tests import commands

LOAD_BINDING = 'import nova_vfio_lm_cloud.fakelibvirt_binding'
REFUSED = 'is a stand-in of the nova-vfio-lm test cloud'


class StandInGateTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.folder = self.useFixture(fixtures.TempDir()).path
        self.env = {k: v for k, v in os.environ.items()
                    if k not in (stand_in_gate.ENV, 'PYTHONPATH')}

    def run_python(self, code, **env):
        return subprocess.run([sys.executable, '-c', code],
                              capture_output=True, text=True,
                              env=dict(self.env, **env), timeout=300)

    def test_binding_refused_without_a_test_cloud(self):
        result = self.run_python(LOAD_BINDING)
        self.assertNotEqual(0, result.returncode)
        self.assertIn('The fake libvirt binding %s' % REFUSED,
                      result.stderr)
        # a folder that is no test cloud's run folder
        result = self.run_python(LOAD_BINDING,
                                 **{stand_in_gate.ENV: self.folder})
        self.assertNotEqual(0, result.returncode)
        self.assertIn(REFUSED, result.stderr)

    def test_binding_loads_in_a_test_cloud_run_folder(self):
        runfolder.RunFolder(self.folder).create()
        self.assertTrue(runfolder.marked(self.folder))
        result = self.run_python(LOAD_BINDING,
                                 **{stand_in_gate.ENV: self.folder})
        self.assertEqual(0, result.returncode, result.stderr)

    def test_agent_stand_in_refused_without_a_test_cloud(self):
        self.useFixture(fixtures.EnvironmentVariable(stand_in_gate.ENV))
        error = self.assertRaises(stand_in_gate.NotInTestCloud,
                                  sriov_agent.main, ['--host', 'compute1'])
        self.assertIn('The SR-IOV NIC agent stand-in %s' % REFUSED,
                      str(error))

    def test_status_and_check_host_report_the_fake_as_libvirt(self):
        env = dict(self.env, PYTHONPATH=stand_in_gate.BINDING_DIR)
        said = ('"import libvirt" loads the nova-vfio-lm test cloud\'s '
                'fake binding')
        status = subprocess.run(commands.nova_vfio_lm() + ['status'],
                                capture_output=True, text=True, env=env,
                                timeout=300)
        self.assertEqual(1, status.returncode, status.stdout)
        self.assertIn('error: %s' % said, status.stdout)
        conf = os.path.join(self.folder, 'nova.conf')
        with open(conf, 'w') as f:
            f.write('[pci]\n')
        check = subprocess.run(
            commands.nova_vfio_lm() + ['check-host', '--config-file', conf],
            capture_output=True, text=True, env=env, timeout=300)
        self.assertEqual(1, check.returncode, check.stderr)
        self.assertIn('check-host: error: %s' % said, check.stderr)
        self.assertNotIn('Traceback', check.stderr + status.stderr)
