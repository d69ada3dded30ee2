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

"""``nova-vfio-lm status`` against the installed Nova."""

import json
import subprocess

import testtools

from nova_vfio_lm import changes
from nova_vfio_lm.changes import base
from nova_vfio_lm import series as series_mod
from tests import commands

NOVA_SERIES = series_mod.detect()
#: Changes that give 2024.1 what nova 30 (2024.2) does itself.
NOVA_30_DOES = {'compute_live_migration_source_check_refusal'}


class StatusCommandTest(testtools.TestCase):

    def _status(self, *args):
        return subprocess.run(commands.nova_vfio_lm() + ['status'] +
                              list(args),
                              capture_output=True, text=True, timeout=300)

    def test_json_lists_every_change_for_this_nova(self):
        result = self._status('--format', 'json')
        self.assertEqual(0, result.returncode, result.stderr)
        report = json.loads(result.stdout)
        # --json, the older spelling, prints the same
        self.assertEqual(report, json.loads(self._status('--json').stdout))
        self.assertEqual(NOVA_SERIES.version, report['nova_version'])
        self.assertEqual(NOVA_SERIES.name, report['series'])
        self.assertEqual(NOVA_SERIES.mode, report['mode'])
        self.assertIsNone(report['error'])
        states = {c['name']: c['state'] for c in report['changes']}
        # applied where this Nova needs it; on 2025.1+ only the plugin's
        # extras, nothing Nova already does
        self.assertEqual(
            {c.name: 'applied' if c.needed(NOVA_SERIES) else 'not needed'
             for c in changes.ALL}, states)
        if NOVA_SERIES.native:
            self.assertIn('not needed', states.values())
        else:  # all but the mends of Nova 2025.1+'s own code and, on
            # 2024.2, the backports of what nova 30 does
            self.assertEqual(
                {c.name for c in changes.ALL
                 if c.series is not base.NATIVE_SERIES and not (
                     NOVA_SERIES.major == 30 and c.name in NOVA_30_DOES)},
                {name for name, state in states.items()
                 if state == 'applied'})

    def test_text_names_release_and_mode(self):
        result = self._status()
        self.assertEqual(0, result.returncode, result.stderr)
        self.assertIn('nova version: %s' % NOVA_SERIES.version, result.stdout)
        self.assertIn('mode:         %s' % NOVA_SERIES.mode, result.stdout)
