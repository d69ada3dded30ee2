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

"""The local cloud's hypervisor ends a live-migration job as libvirt does.

With the flags Nova passes (``VIR_MIGRATE_UNDEFINE_SOURCE``,
``VIR_MIGRATE_PERSIST_DEST``), a completed job leaves the guest running
on the destination and nothing on the source, whatever the source's
nova-compute does next; a failed or aborted job, or one refused because
the destination VF is in use, leaves the source running and nothing new
on the destination. The jobs run in a process of their own
(:mod:`tests.unit.binding_jobs`).
"""

import json
import os
import subprocess
import sys
import tempfile

import testtools

from tests.unit import binding_jobs

UUID = binding_jobs.UUID
OTHER = binding_jobs.OTHER
#: libvirt's job types
COMPLETED, FAILED, CANCELLED = 3, 4, 5


class BindingJobTest(testtools.TestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        with tempfile.TemporaryDirectory() as folder:
            done = subprocess.run(
                [sys.executable, '-m', 'tests.unit.binding_jobs', folder],
                capture_output=True, text=True, timeout=300,
                cwd=os.path.dirname(os.path.dirname(os.path.dirname(
                    os.path.abspath(__file__)))))
        if done.returncode:
            raise AssertionError(done.stderr[-4000:])
        cls.cases = json.loads(done.stdout.splitlines()[-1])

    def assert_moved(self, case):
        found = self.cases[case]
        self.assertIsNone(found['error'])
        self.assertEqual({UUID: True}, found['hosts']['compute2'])
        self.assertEqual((0, COMPLETED), (found['active'], found['job']))
        return found

    def test_completed_job_undefines_the_source(self):
        for case in ('complete', 'release'):
            found = self.assert_moved(case)
            self.assertEqual(({}, []), (found['hosts']['compute1'],
                                        found['listed']), case)

    def test_completed_job_without_undefine_flag_leaves_it_shut_off(self):
        found = self.assert_moved('complete-keeping-definition')
        self.assertEqual(({UUID: False}, [UUID]), (
            found['hosts']['compute1'], found['listed']))

    def assert_stayed(self, case, job, destination=None):
        found = self.cases[case]
        self.assertIsNotNone(found['error'])
        self.assertEqual({UUID: True}, found['hosts']['compute1'])
        self.assertEqual(destination or {}, found['hosts']['compute2'])
        self.assertEqual((1, job, [UUID]), (
            found['active'], found['job'], found['listed']))
        return found

    def test_failed_job_leaves_the_source_running(self):
        self.assert_stayed('fail', FAILED)

    def test_aborted_job_leaves_the_source_running(self):
        found = self.assert_stayed('abort', CANCELLED)
        self.assertIn('canceled by client', found['error'])

    def test_destination_vf_in_use_refuses_the_move(self):
        found = self.assert_stayed('destination-vf-in-use', FAILED,
                                   {OTHER: True})
        self.assertIn('0000:81:00.2 is in use', found['error'])
