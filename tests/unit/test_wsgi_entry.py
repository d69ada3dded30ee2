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

import subprocess
import sys

import testtools


class ComputeApiEntryTest(testtools.TestCase):
    """The WSGI entry sets Nova up as Nova's own entry does, per release."""

    def test_concurrency_set_up_and_api_package_imported(self):
        # a fresh interpreter: monkey-patching cannot be undone
        code = ('from nova_vfio_lm import wsgi\n'
                'wsgi._patch_as_nova_wsgi_does()\n'
                'from nova.api.openstack import wsgi_app\n'
                'print("ok")\n')
        result = subprocess.run([sys.executable, '-c', code],
                                capture_output=True, text=True, timeout=120)
        self.assertEqual((0, 'ok'), (result.returncode,
                                     result.stdout.strip()), result.stderr)
