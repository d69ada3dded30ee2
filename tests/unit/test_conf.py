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
