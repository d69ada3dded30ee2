"""The repo files an operator or packager reads agree with the code."""

import os
import subprocess

import testtools

from nova_vfio_lm.localcloud import packages
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
