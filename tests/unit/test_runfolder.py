"""The local cloud's run folder refuses a base port it cannot use."""

import testtools

from nova_vfio_lm.localcloud import runfolder


class BasePortTest(testtools.TestCase):

    def test_ports_follow_the_base_port(self):
        run = runfolder.RunFolder('/tmp/x', base_port='24000')
        self.assertEqual(24006, run.port('mariadb'))

    def test_bad_base_port_is_refused_naming_variable_and_value(self):
        for value in ('abc', '80', '65000'):
            error = self.assertRaises(runfolder.RunFolderError,
                                      runfolder.RunFolder, '/tmp/x',
                                      base_port=value)
            self.assertIn(runfolder.BASE_PORT_ENV, str(error))
            self.assertIn(repr(value), str(error))
