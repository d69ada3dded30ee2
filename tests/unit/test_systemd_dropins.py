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

"""The systemd drop-ins under ``deploy/systemd`` start Nova through the plugin.

Each drop-in replaces the ``ExecStart=`` of a distribution's Nova unit
with ``nova-vfio-lm-run``: systemd must accept the unit with it
(``systemd-analyze verify``, on a stand-in of the distribution's unit
written here: ``Type=notify``, ``ExecStart=/etc/init.d/<service>
systemd-start``, as Debian's packages have it), and the command must run
the launcher with the service's Nova command and the arguments the
package starts it with.
"""

import os
import shlex
import shutil
import subprocess

import fixtures
import testtools

from nova_vfio_lm.cmd import run

REPO = os.path.dirname(os.path.dirname(os.path.dirname(__file__)))
DROPINS = os.path.join(REPO, 'deploy', 'systemd')
SERVICES = ('nova-compute', 'nova-conductor', 'nova-scheduler')
LAUNCHER = '/usr/local/bin/nova-vfio-lm-run'

#: what a distribution's unit for a Nova service looks like (Debian's)
STAND_IN_UNIT = """[Unit]
Description=OpenStack Nova (%(service)s), a stand-in of the package's unit
[Service]
User=nova
Group=nova
Type=notify
NotifyAccess=all
ExecStart=/etc/init.d/%(service)s systemd-start
Restart=on-failure
[Install]
WantedBy=multi-user.target
"""


def exec_starts(service):
    """The ``ExecStart=`` values of the service's drop-in, in order."""
    path = os.path.join(DROPINS, service + '.service.d', 'nova-vfio-lm.conf')
    with open(path) as f:
        return [line.split('=', 1)[1].strip() for line in f
                if line.startswith('ExecStart=')]


def launcher_argv(exec_start, etc_nova):
    """What the launcher is started with, ``/etc/nova`` at ``etc_nova``.

    systemd turns ``$$`` into ``$``; the launcher is a stand-in that
    prints its arguments.
    """
    command = exec_start.replace('$$', '$').replace('/etc/nova', etc_nova)
    argv = shlex.split(command)
    if argv[0] == '/bin/sh':
        argv = ['/bin/sh', '-c', argv[2].replace(
            'exec ' + LAUNCHER, 'printf "%s\\n" ' + LAUNCHER)]
    else:
        argv = ['printf', '%s\\n'] + argv
    out = subprocess.run(argv, capture_output=True, text=True, check=True,
                         timeout=30).stdout
    return out.split()


class SystemdDropinsTest(testtools.TestCase):

    def test_each_resets_then_runs_the_service_through_the_launcher(self):
        etc = self.useFixture(fixtures.TempDir()).path
        commands = run.nova_commands()
        for service in SERVICES:
            starts = exec_starts(service)
            self.assertEqual('', starts[0], service)  # the reset
            self.assertEqual(2, len(starts), service)
            argv = launcher_argv(starts[1], etc)
            self.assertEqual([LAUNCHER, service], argv[:2])
            self.assertIn(service, commands)
            self.assertEqual(
                ['--config-file=%s/nova.conf' % etc,
                 '--log-file=/var/log/nova/%s.log' % service], argv[2:])

    def test_compute_reads_nova_compute_conf_where_the_host_has_it(self):
        etc = self.useFixture(fixtures.TempDir()).path
        open(os.path.join(etc, 'nova-compute.conf'), 'w').close()
        argv = launcher_argv(exec_starts('nova-compute')[1], etc)
        self.assertEqual(
            [LAUNCHER, 'nova-compute', '--config-file=%s/nova.conf' % etc,
             '--config-file=%s/nova-compute.conf' % etc,
             '--log-file=/var/log/nova/nova-compute.log'], argv)

    def test_systemd_accepts_each_unit_with_its_dropin(self):
        analyze = shutil.which('systemd-analyze')
        if not analyze:
            self.skipTest('systemd-analyze is not installed here')
        root = self.useFixture(fixtures.TempDir()).path
        system = os.path.join(root, 'etc', 'systemd', 'system')
        os.makedirs(system)
        for target in ('sysinit', 'basic', 'shutdown', 'multi-user'):
            with open(os.path.join(system, target + '.target'), 'w') as f:
                f.write('[Unit]\nDescription=%s\n' % target)
        executables = [LAUNCHER, '/bin/sh']
        for service in SERVICES:
            with open(os.path.join(system, service + '.service'), 'w') as f:
                f.write(STAND_IN_UNIT % {'service': service})
            shutil.copytree(os.path.join(DROPINS, service + '.service.d'),
                            os.path.join(system, service + '.service.d'))
            executables.append('/etc/init.d/' + service)
        for path in executables:
            os.makedirs(os.path.dirname(root + path), exist_ok=True)
            with open(root + path, 'w') as f:
                f.write('#!/bin/sh\n')
            os.chmod(root + path, 0o755)

        for service in SERVICES:
            result = subprocess.run(
                [analyze, 'verify', '--root=' + root, '--man=no',
                 os.path.join(system, service + '.service')],
                capture_output=True, text=True, timeout=120)
            self.assertEqual(0, result.returncode,
                             '%s: %s' % (service, result.stderr))
