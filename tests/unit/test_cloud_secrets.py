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

"""The test cloud keeps its secrets to its owner and its word to itself.

Configs (database URLs, service passwords), the saved state (the
passwords) and ``clouds.yaml`` are readable by their owner only; a
password given to a set-up command goes through its stdin or environment,
never its command line or the set-up log; ``up`` refuses a run folder
another user owns or may write; ``down`` signals no process on a record
another user wrote.
"""

import json
import os
import stat
import subprocess

import testtools

from nova_vfio_lm_cloud import runfolder
from nova_vfio_lm_cloud import service
from nova_vfio_lm_cloud import supervisor

from tests.unit import run_folders


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


class CloudSecretsTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        folder = self.useFixture(run_folders.RunFolder())
        self.folder, self.run = folder.path, folder.run

    def test_configs_and_state_are_owner_only(self):
        path = os.path.join(self.folder, 'etc', 'nova.conf')
        os.makedirs(os.path.dirname(path))
        with open(path, 'w') as f:
            f.write('left readable by an older run\n')
        os.chmod(path, 0o644)
        runfolder.write_ini(path, {'database': {'connection': 'x://u:pw@'}})
        self.assertEqual(0o600, mode(path))
        self.run.save('passwords', {'mariadb-root': 'pw'})
        self.assertEqual(0o600, mode(os.path.join(self.folder, 'state',
                                                  'passwords.json')))

    def test_input_is_neither_on_the_command_line_nor_logged(self):
        svc = service.Service(self.run, supervisor.Supervisor(self.run))
        svc.name = 'secret-test'
        output = svc.execute(['sh', '-c', 'read line; echo got ${#line}'],
                             input_text='s3cr3t-pw\n')
        self.assertEqual('got 9\n', output)
        with open(os.path.join(self.folder, 'logs',
                               'secret-test-setup.log')) as log:
            self.assertNotIn('s3cr3t-pw', log.read())

    def test_folder_others_may_write_is_refused(self):
        os.chmod(self.folder, 0o777)
        error = self.assertRaises(runfolder.RunFolderError,
                                  self.run.check_owned)
        self.assertIn('run folder %s belongs to uid %d with mode 777'
                      % (self.folder, os.geteuid()), str(error))
        self.assertRaises(runfolder.RunFolderError, self.run.create)
        os.chmod(self.folder, 0o755)
        self.run.check_owned()

    @testtools.skipUnless(os.geteuid() == 0, 'needs root to give away files')
    def test_records_and_folders_of_another_user_are_not_trusted(self):
        sup = supervisor.Supervisor(self.run)
        proc = subprocess.Popen(['sleep', '60'])
        self.addCleanup(proc.wait)
        self.addCleanup(proc.kill)
        record = sup._record_path('sleeper')
        os.makedirs(os.path.dirname(record), exist_ok=True)
        with open(record, 'w') as f:
            json.dump({'pid': proc.pid,
                       'ticks': supervisor._start_ticks(proc.pid),
                       'argv': ['sleep'], 'started': 0}, f)
        self.assertEqual(proc.pid, sup.pid('sleeper'))
        os.chown(record, 65534, 65534)
        self.assertIsNone(sup.pid('sleeper'))
        self.assertFalse(sup.signal('sleeper', 15))
        self.assertIsNone(proc.poll())
        os.chown(self.folder, 65534, 65534)
        self.assertRaises(runfolder.RunFolderError, self.run.check_owned)
