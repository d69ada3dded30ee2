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

"""``nova-vfio-lm check-host`` end to end, and nova-compute's start hook."""

import json
import logging
import os
import subprocess
import textwrap

import fixtures
from oslo_log import log
import testtools

from nova_vfio_lm.cmd import run
from nova_vfio_lm.hostcheck import startup
from tests import commands
from tests import host_fixtures
from tests.unit import test_hostcheck

NOVA_CONF = '''
    [DEFAULT]
    debug = false
    [pci]
    device_spec = {"address": "0000:81:*.*", "vendor_id": "15b3", "product_id": "101e", "live_migratable": "yes", "managed": "no"}
    device_spec = {"address": "0000:82:*.*", "vendor_id": "15b3", "product_id": "101e", "live_migratable": "yes", "managed": "yes"}
    '''  # noqa: E501


class CheckHostCommandTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.tmp = self.useFixture(fixtures.TempDir()).path
        self.conf = os.path.join(self.tmp, 'nova.conf')
        with open(self.conf, 'w') as f:
            f.write(textwrap.dedent(NOVA_CONF))

    def _check(self, host, *args, recorded=True):
        argv = commands.nova_vfio_lm() + [
            'check-host', '--config-file', self.conf,
            '--host-root', test_hostcheck.root(host)]
        if recorded:
            argv += ['--recorded-commands', host_fixtures.commands(host)]
        result = subprocess.run(argv + list(args), capture_output=True,
                                text=True, timeout=300, cwd=self.tmp)
        self.assertNotIn('Traceback', result.stderr)
        return result

    def test_ready_host_exits_zero(self):
        result = self._check('ready-cx7')
        self.assertEqual(0, result.returncode, result.stderr)
        self.assertIn('host cx7-ready (root ', result.stdout)
        self.assertIn('summary: 0 blocking, 0 warning, 0 unknown, 16 ok',
                      result.stdout)

    def test_not_ready_host_json_exits_one(self):
        result = self._check('not-ready', '--format', 'json')
        self.assertEqual(1, result.returncode, result.stderr)
        document = json.loads(result.stdout)
        self.assertEqual('blocking', document['status'])
        self.assertEqual(
            {'0000:81:00.2': 'false', '0000:81:00.3': 'false',
             '0000:82:00.2': 'true', '0000:82:00.3': 'true'},
            {vf['address']: vf['managed'] for vf in document['vfs']})
        fixes = {(f['device'], f['check']): f['fix']
                 for f in document['findings']}
        self.assertEqual(
            ['echo 0000:82:00.2 > /sys/bus/pci/drivers/mlx5_core/unbind',
             'devlink port function set pci/0000:82:00.0/1 migratable '
             'enable'], fixes[('0000:82:00.2', 'migratable')])

    def test_unknowns_are_reported_not_fatal(self):
        result = self._check('unknowns')
        self.assertEqual(0, result.returncode, result.stderr)
        self.assertIn('unknown: host kernel: kernel release unknown',
                      result.stdout)

    def test_live_tools_on_a_fixture_root_never_crash(self):
        # whatever this machine has of devlink, libvirt and virsh
        result = self._check('unknowns', '--format', 'json', recorded=False)
        self.assertIn(result.returncode, (0, 1), result.stderr)
        found = {(f['device'], f['check']): f['status']
                 for f in json.loads(result.stdout)['findings']}
        # the files still answer; the tools' findings are all there
        self.assertEqual('ok', found[('0000:81:00.2', 'driver')])
        for name in ('eswitch', 'migratable', 'firmware'):
            self.assertIn(('0000:81:00.2', name), found)

    def test_missing_config_file_exits_two(self):
        os.unlink(self.conf)
        result = self._check('ready-cx7')
        self.assertEqual(2, result.returncode)
        self.assertIn('check-host: cannot read nova.conf', result.stderr)

    def test_missing_host_root_exits_two(self):
        missing = os.path.join(self.tmp, 'no-root')
        result = self._check('ready-cx7', '--host-root', missing)
        self.assertEqual(2, result.returncode)
        self.assertIn('check-host: --host-root %s: not a directory'
                      % missing, result.stderr)

    def test_missing_recordings_folder_exits_two(self):
        missing = os.path.join(self.tmp, 'no-recordings')
        result = self._check('ready-cx7', '--recorded-commands', missing)
        self.assertEqual(2, result.returncode)
        self.assertIn('check-host: --recorded-commands %s: not a directory'
                      % missing, result.stderr)


class ComputeStartHookTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.log = self.useFixture(fixtures.FakeLogger(
            name='nova_vfio_lm.hostcheck.startup', level=logging.INFO))

    def test_logs_each_non_ok_finding_and_a_summary(self):
        startup.log_findings(test_hostcheck.MIXED,
                             test_hostcheck.root('not-ready'),
                             test_hostcheck.recorded('not-ready'))
        lines = self.log.output.splitlines()
        self.assertEqual(16 + 5 + 2 + 1, len(lines))
        self.assertIn(
            'check-host: 0000:81:00.2 eswitch blocking: PF 0000:81:00.0 '
            'eswitch in legacy mode, switchdev needed; fix: devlink dev '
            'eswitch set pci/0000:81:00.0 mode switchdev', lines)
        self.assertEqual(
            'check-host: live migration readiness of host cx7-not-ready: '
            'blocking (16 blocking, 5 warning, 2 unknown, 5 ok)', lines[-1])

    def test_ready_host_logs_only_the_summary(self):
        startup.log_findings(test_hostcheck.UNMANAGED,
                             test_hostcheck.root('ready-cx7'),
                             test_hostcheck.recorded('ready-cx7'))
        self.assertEqual(
            'check-host: live migration readiness of host cx7-ready: ok '
            '(0 blocking, 0 warning, 0 unknown, 16 ok)',
            self.log.output.strip())

    def test_a_failing_check_is_a_warning(self):
        startup.log_findings(test_hostcheck.UNMANAGED,
                             test_hostcheck.root('ready-cx7'),
                             runner=object())  # answers nothing
        self.assertIn('check-host: the readiness check failed: '
                      'AttributeError', self.log.output)

    def test_launcher_checks_once_logging_is_set_up(self):
        calls = []
        self.useFixture(fixtures.MonkeyPatch(
            'oslo_log.log.setup', lambda *args: calls.append(args)))
        run.check_host_once_logging_is_set_up()
        log.setup('conf', 'nova')
        log.setup('conf', 'nova')  # the check runs once
        self.assertEqual([('conf', 'nova')] * 2, calls)
        # this machine, with Nova's default (empty) device_spec
        self.assertEqual(
            1, self.log.output.count('check-host: live migration readiness'))
