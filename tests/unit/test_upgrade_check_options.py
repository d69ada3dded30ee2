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

"""The upgrade check of the ``[vfio_lm]`` options: no Nova service needed."""

import os

import fixtures
import nova.conf
from oslo_config import fixture as config_fixture
from oslo_upgradecheck import upgradecheck as oslo_upgradecheck
import testtools

from nova_vfio_lm import conf
from nova_vfio_lm import upgradecheck

Code = oslo_upgradecheck.Code


class OptionsCheckTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        conf.register_opts(nova.conf.CONF)
        self.conf = self.useFixture(config_fixture.Config(nova.conf.CONF))

    def check(self, **options):
        self.conf.config(group='vfio_lm', **options)
        result = upgradecheck.UpgradeCommands()._check_options()
        self.assertIsInstance(result, oslo_upgradecheck.Result)
        return result

    def test_is_a_check_of_the_command(self):
        self.assertIn(
            (upgradecheck.OPTIONS_CHECK,
             upgradecheck.UpgradeCommands._check_options),
            upgradecheck.UpgradeCommands._upgrade_checks)

    def test_defaults_succeed(self):
        result = self.check()
        self.assertEqual(Code.SUCCESS, result.code, result.details)

    def test_value_out_of_bounds_fails_naming_option_and_value(self):
        # what oslo.config would only refuse when nova-compute reads it
        self.conf.load_raw_values(group='vfio_lm',
                                  max_migrating_vfs_wait='86401')
        result = upgradecheck.UpgradeCommands()._check_options()
        self.assertEqual(Code.FAILURE, result.code)
        self.assertIn('invalid [vfio_lm] max_migrating_vfs_wait = 86401',
                      result.details)
        self.assertIn('refuse to start', result.details)

    def test_recorded_answers_warn(self):
        folder = self.useFixture(fixtures.TempDir()).path
        result = self.check(recorded_commands_dir=folder)
        self.assertEqual(Code.WARNING, result.code)
        self.assertIn('[vfio_lm] recorded_commands_dir = %s: nova-compute '
                      'reads the answers of devlink from files' % folder,
                      result.details)
        self.assertNotIn('not a directory', result.details)

    def test_recorded_answers_in_a_missing_folder_say_so(self):
        missing = os.path.join(self.useFixture(fixtures.TempDir()).path,
                               'devlinks')
        result = self.check(recorded_commands_dir=missing)
        self.assertEqual(Code.WARNING, result.code)
        self.assertIn('not a directory on this host', result.details)
