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

"""``nova-vfio-lm-run`` starts real Nova services with the plugin active."""

import os
import subprocess
import sys
import textwrap

import fixtures
import testtools

from nova_vfio_lm import series as series_mod
from tests import commands

NOVA_SERIES = series_mod.detect()


class LauncherTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.tmp = self.useFixture(fixtures.TempDir()).path

    def _run(self, *args, config=None):
        argv = commands.launcher() + list(args)
        if config is not None:
            path = os.path.join(self.tmp, 'nova.conf')
            with open(path, 'w') as f:
                f.write(textwrap.dedent(config))
            argv += ['--config-file', path]
        # the timeout only guards against a hung service
        return subprocess.run(argv, capture_output=True, text=True,
                              timeout=300, cwd=self.tmp)

    def test_conductor_runs_with_plugin_parsing_device_spec(self):
        # nova-conductor parses [pci]device_spec while its manager is built,
        # before it needs a database or a message bus.
        result = self._run('nova-conductor', config='''
            [DEFAULT]
            transport_url = fake:/
            state_path = %s
            [pci]
            device_spec = {"vendor_id": "15b3", "product_id": "101e", "live_migratable": "maybe"}
            ''' % self.tmp)  # noqa: E501
        output = result.stdout + result.stderr
        self.assertNotEqual(0, result.returncode, output)
        self.assertIn('Invalid [pci]device_spec config', output)
        self.assertIn('maybe', output)
        if NOVA_SERIES.native:
            # Nova 2025.1+ parses the tag itself; the plugin leaves it alone
            self.assertIn("Cannot parse tag 'live_migratable'", output)
        else:
            # only the plugin's parser says this, so it ran in that process
            self.assertIn("live_migratable='maybe' is not a boolean", output)

    def test_periodic_task_spacing_comes_from_the_config(self):
        # Nova's own main() parses the config first and imports the
        # compute manager later; this stand-in main() does just that and
        # prints the spacing the manager's audit got when it was imported.
        config = os.path.join(self.tmp, 'nova.conf')
        with open(config, 'w') as f:
            f.write('[DEFAULT]\nupdate_resources_interval = 7\n')
        script = textwrap.dedent('''
            import sys
            import nova.cmd.compute

            def main():
                from nova import config
                config.parse_args(sys.argv)
                from nova.compute import manager
                print('spacing', manager.ComputeManager
                      .update_available_resource._periodic_spacing)

            nova.cmd.compute.main = main
            from nova_vfio_lm.cmd import run
            run.main(['nova-compute', '--config-file', sys.argv[1]])
            ''')
        result = subprocess.run(
            [sys.executable, '-c', script, config], capture_output=True,
            text=True, timeout=300, cwd=self.tmp)
        self.assertIn('spacing 7', result.stdout, result.stderr)

    def test_unknown_command_exits_2(self):
        result = self._run('nova-bogus')
        self.assertEqual(2, result.returncode)
        self.assertIn("'nova-bogus' is not a Nova command", result.stderr)
        self.assertIn('nova-compute', result.stderr)

    def test_no_command_exits_2_with_usage(self):
        result = self._run()
        self.assertEqual(2, result.returncode)
        self.assertIn('usage: nova-vfio-lm-run', result.stderr)
