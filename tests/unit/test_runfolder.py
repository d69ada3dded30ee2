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

"""The local cloud's run folder refuses a base port it cannot use."""

import socket

import testtools

from nova_vfio_lm_cloud import runfolder


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

    def test_a_port_something_listens_on_is_refused_before_start(self):
        # a base port whose ports are free here: the kernel's pick for
        # mariadb's, the others counted from it
        with socket.socket() as first:
            first.bind((runfolder.HOST, 0))
            base = first.getsockname()[1] - runfolder.PORTS['mariadb']
        if not 1024 <= base <= 65535 - max(runfolder.PORTS.values()):
            self.skipTest('the kernel picked a port out of range')
        run = runfolder.RunFolder('/tmp/x', base_port=str(base))
        with socket.socket() as holder:
            holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            holder.bind((runfolder.HOST, run.port('mariadb')))
            holder.listen()
            error = self.assertRaises(runfolder.RunFolderError,
                                      run.check_ports_free)
        self.assertIn('port %d (mariadb)' % run.port('mariadb'), str(error))
        self.assertIn(runfolder.BASE_PORT_ENV, str(error))
        run.check_ports_free()  # once the holder closed


class StaleLayoutTest(testtools.TestCase):

    def test_new_cloud_ignores_the_layout_a_stale_run_folder_saved(self):
        import argparse

        import fixtures

        from nova_vfio_lm_cloud import cli
        from nova_vfio_lm_cloud import layout

        folder = self.useFixture(fixtures.TempDir()).path
        self.useFixture(fixtures.EnvironmentVariable(runfolder.PATH_ENV,
                                                     folder))
        old = {'compute1': [{'bus': 0x81, 'model': 'cx7', 'vfs': 4}]}
        runfolder.RunFolder(folder).save('layout', old)

        new = cli._cloud(argparse.Namespace(computes=None, lm_computes=2))
        existing = cli._cloud(argparse.Namespace())

        self.assertEqual(layout.default_layout(3), new.layout)
        # down, status and kill act on the cloud the folder describes
        self.assertEqual(old, existing.layout)
