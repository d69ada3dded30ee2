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

"""The repo files an operator or packager reads agree with the code."""

import ast
import glob
import os
import re
import subprocess

import testtools

from nova_vfio_lm_cloud import packages
from tests import commands

REPO = os.path.dirname(os.path.dirname(os.path.dirname(__file__)))


class RepoFilesTest(testtools.TestCase):

    def test_bindep_lists_the_packages_the_test_cloud_installs(self):
        with open(os.path.join(REPO, 'bindep.txt')) as f:
            listed = {line.split()[0] for line in f
                      if line.strip() and not line.startswith('#')}
        self.assertEqual(set(), set(packages.DEBIAN_PACKAGES) - listed)

    def test_license_is_apache_2(self):
        with open(os.path.join(REPO, 'LICENSE')) as f:
            self.assertIn('Apache License\n                           '
                          'Version 2.0', f.read())

    def test_version_flag_names_the_installed_version(self):
        result = subprocess.run(commands.nova_vfio_lm() + ['--version'],
                                capture_output=True, text=True, timeout=120)
        self.assertEqual(0, result.returncode, result.stderr)
        self.assertRegex(result.stdout.strip(),
                         r'^nova-vfio-lm \d+\.\d+\.\d+')

    def test_each_release_check_names_tests_that_exist(self):
        """A renamed test class must not drop out of the release checks."""
        names = []
        for path in sorted(glob.glob(os.path.join(
                REPO, 'tests', '*', 'test_*.py'))):
            module = os.path.relpath(path, REPO)[:-3].replace(os.sep, '.')
            with open(path) as f:
                tree = ast.parse(f.read())
            names += ['%s.%s.' % (module, node.name)
                      for node in tree.body
                      if isinstance(node, ast.ClassDef)]
        with open(os.path.join(REPO, 'tests', 'release-checks.txt')) as f:
            checks = [line.split('#')[0].strip() for line in f]
        checks = [check for check in checks if check]
        self.assertGreater(len(checks), 10)
        self.assertEqual([], [check for check in checks
                              if not any(re.match(check, name)
                                         for name in names)])
