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

"""A wrong ``[vfio_lm]`` value is refused at start, naming option and value."""

import os

import fixtures
from oslo_config import cfg
import testtools

from nova_vfio_lm import conf


class CheckTest(testtools.TestCase):

    def _conf(self, text):
        path = os.path.join(self.useFixture(fixtures.TempDir()).path,
                            'nova.conf')
        with open(path, 'w') as f:
            f.write('[vfio_lm]\n' + text)
        config = cfg.ConfigOpts()
        config(['--config-file', path], project='nova')
        return config

    def test_defaults_pass(self):
        config = self._conf('')
        conf.check(config)
        self.assertEqual('exact', config.vfio_lm.card_match)
        self.assertEqual(4, config.vfio_lm.max_migrating_vfs_per_pf)

    def test_unknown_card_match_names_option_and_value(self):
        error = self.assertRaises(conf.InvalidOption, conf.check,
                                  self._conf('card_match = firmware\n'))
        self.assertIn('invalid [vfio_lm] card_match = firmware', str(error))
        self.assertIn('exact, psid, off', str(error))

    def test_limit_below_one_names_option_and_value(self):
        error = self.assertRaises(
            conf.InvalidOption, conf.check,
            self._conf('max_migrating_vfs_per_pf = 0\n'))
        self.assertIn('invalid [vfio_lm] max_migrating_vfs_per_pf = 0',
                      str(error))

    def test_recorded_commands_dir_must_exist(self):
        missing = os.path.join(self.useFixture(fixtures.TempDir()).path,
                               'devlinks')
        error = self.assertRaises(
            conf.InvalidOption, conf.check,
            self._conf('recorded_commands_dir = %s\n' % missing))
        self.assertIn('invalid [vfio_lm] recorded_commands_dir = %s: not a '
                      'directory' % missing, str(error))
        os.mkdir(missing)
        conf.check(self._conf('recorded_commands_dir = %s\n' % missing))

    def test_limit_above_its_bound_names_option_and_value(self):
        error = self.assertRaises(
            conf.InvalidOption, conf.check,
            self._conf('max_migrating_vfs_per_pf = 1025\n'))
        self.assertIn('invalid [vfio_lm] max_migrating_vfs_per_pf = 1025',
                      str(error))
        conf.check(self._conf('max_migrating_vfs_per_pf = 1024\n'))

    def test_wait_out_of_bounds_names_option_and_value(self):
        for value in ('0', '86401'):
            error = self.assertRaises(
                conf.InvalidOption, conf.check,
                self._conf('max_migrating_vfs_wait = %s\n' % value))
            self.assertIn('invalid [vfio_lm] max_migrating_vfs_wait = %s'
                          % value, str(error))
        conf.check(self._conf('max_migrating_vfs_wait = 86400\n'))

    def test_check_timeout_out_of_bounds_names_option_and_value(self):
        for value in ('59', '86401', 'soon'):
            error = self.assertRaises(
                conf.InvalidOption, conf.check,
                self._conf('live_migration_check_timeout = %s\n' % value))
            self.assertIn('invalid [vfio_lm] live_migration_check_timeout '
                          '= %s' % value, str(error))
        conf.check(self._conf('live_migration_check_timeout = 60\n'))

    def test_only_a_compute_needs_the_recordings_folder(self):
        missing = os.path.join(self.useFixture(fixtures.TempDir()).path,
                               'devlinks')
        # the scheduler and the upgrade check share nova.conf, not the
        # compute's folder
        conf.check(self._conf('recorded_commands_dir = %s\n' % missing),
                   compute=False)
        self.assertRaises(conf.InvalidOption, conf.check, self._conf(
            'recorded_commands_dir = %s\n' % missing, ))
        self.assertRaises(conf.InvalidOption, conf.check, self._conf(
            'card_match = firmware\nrecorded_commands_dir = %s\n'
            % missing), compute=False)
