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

"""The operator's own tools on the running cloud, as an operator runs them.

``nova-vfio-lm upgrade check`` with the cloud's shared nova.conf (every
Nova service runs through the plugin, placement knows the trait, no server
predates its alias) and the readiness summary ``check-host`` logs as each
nova-compute starts. No server is moved.
"""

import json
import re
import subprocess

from tests.cloud import base

#: Bound of the upgrade check command (seconds): it imports Nova, reads
#: the databases and asks placement once.
COMMAND_TIMEOUT = 180
#: oslo.upgradecheck's codes, by the number its ``--json`` output gives.
RESULTS = {0: 'Success', 1: 'Warning', 2: 'Failure'}
#: The plugin's checks (a later check only adds to these).
CHECKS = (
    'Servers whose PCI request predates live_migratable',
    'Computes with live-migratable devices run the plugin',
    'Placement knows HW_PCI_LIVE_MIGRATABLE',
    'The [vfio_lm] options are valid',
    'Live-migratable VFs of this host have a usable driver',
)
#: The line nova-vfio-lm-run logs once nova-compute has set up logging.
READINESS_SUMMARY = re.compile(
    r'check-host: live migration readiness of host \S+: '
    r'(ok|warning|unknown|blocking) '
    r'\(\d+ blocking, \d+ warning, \d+ unknown, \d+ ok\)')


def result_name(value):
    """``'Success'``... from a check's ``result`` in the JSON output.

    oslo.upgradecheck gives the code's number (an ``IntEnum`` from 2.x on,
    dumped as a number); a name (``SUCCESS``, ``Success``) is accepted too.
    """
    if isinstance(value, bool):
        raise AssertionError('unexpected result %r' % value)
    if isinstance(value, int):
        return RESULTS.get(value, str(value))
    text = str(value).strip()
    if text.isdigit():
        return RESULTS.get(int(text), text)
    return text.rsplit('.', 1)[-1].capitalize()


def checks_of(document):
    """``{check name: (result name, details)}`` of the JSON output."""
    checks = document['checks']
    if isinstance(checks, dict):  # {name: {result, details}}
        checks = [dict(found, check=name) for name, found in checks.items()]
    return {c.get('check', c.get('name')): (result_name(c['result']),
                                            c.get('details'))
            for c in checks}


def json_document(stdout):
    """The JSON object in the command's output (a log line may precede)."""
    start = stdout.find('{')
    if start < 0:
        raise AssertionError('no JSON in the output:\n%s' % stdout)
    return json.JSONDecoder().raw_decode(stdout[start:])[0]


class OperatorToolsTest(base.CloudScenario):

    def test_upgrade_check_succeeds_on_the_cloud(self):
        argv = [self.cloud.nova.bin('nova-vfio-lm'), 'upgrade', 'check',
                '--json', '--config-file', self.cloud.nova.conf]
        result = subprocess.run(argv, capture_output=True, text=True,
                                stdin=subprocess.DEVNULL,
                                cwd=self.cloud.run.path,
                                timeout=COMMAND_TIMEOUT)
        said = 'exit %d\nstdout:\n%s\nstderr:\n%s' % (
            result.returncode, result.stdout, result.stderr)
        self.assertNotIn('Traceback', result.stdout + result.stderr, said)
        checks = checks_of(json_document(result.stdout))
        for name in CHECKS:
            self.assertIn(name, checks, said)
        self.assertEqual(
            {name: 'Success' for name in checks},
            {name: found[0] for name, found in checks.items()}, said)
        self.assertEqual(0, result.returncode, said)
        # the shared nova.conf is that of the control plane: no
        # device_spec, and this host's own devices are all it reads
        self.assertIn('No [pci]device_spec entry', checks[CHECKS[-1]][1])

    def test_each_compute_logged_its_readiness_at_start(self):
        for host in sorted(self.cloud.layout):
            path = self.cloud.sup.log_path('nova-compute-%s' % host)
            with open(path, errors='replace') as log:
                text = log.read()
            self.assertRegex(text, READINESS_SUMMARY, path)
            self.assertNotIn('check-host: the readiness check failed', text,
                             path)
