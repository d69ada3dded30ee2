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

"""The devstack plugin under ``devstack/`` runs every Nova service with it.

devstack itself cannot run here (root, a cloud's services), so each test
sources ``devstack/settings`` and ``devstack/plugin.sh`` phase by phase as
``stack.sh`` does (with ``nounset`` and ``errexit``), devstack's functions
replaced by stand-ins that record each call, over the files devstack wrote
by then: ``nova.conf``, a cell conductor's file, the compute API's uwsgi
file and the systemd unit of each service ``lib/nova`` started.
"""

import configparser
from importlib import metadata
import importlib.util
import os
import shutil
import subprocess
import sys

import fixtures
import testtools

from nova_vfio_lm.cmd import run

REPO = os.path.dirname(os.path.dirname(os.path.dirname(__file__)))
DEVSTACK = os.path.join(REPO, 'devstack')
SERVICES = 'n-api,n-api-meta,n-sch,n-super-cond,n-cond-cell1,n-cpu,n-novnc'

#: iniset/iniget on one file, as devstack's inc/ini-config does them
INI = """
import configparser, sys
op, path, section, option = sys.argv[1:5]
c = configparser.ConfigParser(interpolation=None, strict=False)
c.optionxform = str
c.read(path)
if op == 'get':
    print(c.get(section, option, fallback=''))
else:
    if section != 'DEFAULT' and not c.has_section(section):
        c.add_section(section)
    c.set(section, option, sys.argv[5])
    with open(path, 'w') as f:
        c.write(f)
"""

#: devstack's functions the plugin calls; each records its call
STAND_INS = r"""
set -o errexit -o nounset -o pipefail
record() { local IFS=$'\t'; printf '%s\n' "$*" >> "$RECORD"; }
define_plugin() { :; }
echo_summary() { :; }
trueorfalse() {
    local value=${!2:-$1}
    case ${value,,} in
        true|yes|on|1) echo True ;;
        false|no|off|0) echo False ;;
        *) echo $1 ;;
    esac
}
is_service_enabled() {
    local service
    for service in "$@"; do
        [[ ,$ENABLED_SERVICES, == *,$service,* ]] && return 0
        [[ $service == nova && ,$ENABLED_SERVICES == *,n-* ]] && return 0
    done
    return 1
}
conductor_conf() { echo "$NOVA_CONF_DIR/nova_cell$1.conf"; }
setup_develop() { record setup_develop "$@"; }
pip_install() { record pip_install "$@"; }
stop_process() { record stop_process "$@"; }
run_process() { record run_process "$@"; }
die() { record die "$@"; exit 1; }
iniset() { record iniset "$@"; "$PYTHON" -c "$INI" set "$@"; }
iniget() { "$PYTHON" -c "$INI" get "$@"; }
"""


def read_ini(path):
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(path)
    return parser


class DevstackPluginTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.root = self.useFixture(fixtures.TempDir()).path
        self.bin = os.path.join(self.root, 'venv', 'bin')
        self.etc = os.path.join(self.root, 'etc', 'nova')
        self.systemd = os.path.join(self.root, 'systemd')
        for path in (self.bin, self.etc, self.systemd):
            os.makedirs(path)
        self.record = os.path.join(self.root, 'record')
        self.conf = os.path.join(self.etc, 'nova.conf')
        self.cell_conf = os.path.join(self.etc, 'nova_cell1.conf')
        self.uwsgi_conf = os.path.join(self.etc, 'nova-api-uwsgi.ini')
        for path in (self.conf, self.cell_conf):
            with open(path, 'w') as f:
                f.write('[DEFAULT]\ndebug = True\n')
        self.write_uwsgi('module = nova.wsgi.osapi_compute:application')
        uwsgi = '/usr/bin/uwsgi --procname-prefix %s --ini %s/%s-uwsgi.ini'
        # the commands lib/nova starts its services with
        self.units = {
            'n-api': (uwsgi % ('nova-api', self.etc, 'nova-api'), ''),
            'n-api-meta': (uwsgi % ('nova-api-meta', self.etc,
                                    'nova-metadata'), ''),
            'n-sch': ('%s/nova-scheduler --config-file %s' % (
                self.bin, self.conf), ''),
            'n-super-cond': ('%s/nova-conductor --config-file %s' % (
                self.bin, self.conf), ''),
            'n-cond-cell1': ('%s/nova-conductor --config-file %s' % (
                self.bin, self.cell_conf), ''),
            'n-cpu': ('%s/nova-compute --config-file %s/nova-cpu.conf' % (
                self.bin, self.etc), 'libvirt'),
            'n-novnc': ('%s/nova-novncproxy --config-file %s --web /x' % (
                self.bin, self.conf), ''),
        }
        for service, (command, group) in self.units.items():
            path = os.path.join(self.systemd, 'devstack@%s.service' % service)
            with open(path, 'w') as f:
                f.write('[Service]\nUser = stack\nExecStart = %s\n' % command)
                if group:
                    f.write('Group = %s\n' % group)

    def write_uwsgi(self, entry):
        with open(self.uwsgi_conf, 'w') as f:
            f.write('[uwsgi]\n%s\nprocesses = 2\n' % entry)

    def source(self, *calls, **settings):
        """Source settings, then plugin.sh with each call's arguments."""
        env = {
            'PATH': os.environ.get('PATH', '/usr/bin:/bin'),
            'HOME': self.root, 'RECORD': self.record,
            'PYTHON': sys.executable, 'INI': INI,
            'DEST': os.path.join(self.root, 'opt'),
            'ENABLED_SERVICES': SERVICES, 'NOVA_NUM_CELLS': '1',
            'NOVA_BIN_DIR': self.bin, 'NOVA_CONF_DIR': self.etc,
            'NOVA_CONF': self.conf, 'NOVA_UWSGI_CONF': self.uwsgi_conf,
            'NOVA_CPU_CONF': os.path.join(self.etc, 'nova-cpu.conf'),
            'SYSTEMD_DIR': self.systemd,
        }
        env.update(settings)
        script = STAND_INS + 'source %s/settings\n' % DEVSTACK
        for call in calls:
            script += 'source %s/plugin.sh %s\n' % (DEVSTACK, call)
        result = subprocess.run(['bash', '-c', script], env=env,
                                capture_output=True, text=True, timeout=60)
        calls = []
        if os.path.exists(self.record):
            with open(self.record) as f:
                calls = [line.rstrip('\n').split('\t') for line in f]
        return result, calls

    def stack(self, **settings):
        result, calls = self.source(
            'stack install', 'stack post-config', 'stack extra', **settings)
        self.assertEqual(0, result.returncode, result.stderr)
        return calls

    def test_installs_the_plugin_from_its_checkout(self):
        calls = self.stack()
        self.assertEqual(
            ['setup_develop', os.path.join(self.root, 'opt', 'nova-vfio-lm')],
            calls[0])

    def test_compute_conductors_scheduler_restart_through_the_launcher(self):
        calls = self.stack()
        runs = {c[1]: c[2:] for c in calls if c[0] == 'run_process'}
        launcher = os.path.join(self.bin, 'nova-vfio-lm-run')
        self.assertEqual({
            'n-cpu': ['%s nova-compute --config-file %s/nova-cpu.conf' % (
                launcher, self.etc), 'libvirt'],
            'n-sch': ['%s nova-scheduler --config-file %s' % (
                launcher, self.conf), ''],
            'n-super-cond': ['%s nova-conductor --config-file %s' % (
                launcher, self.conf), ''],
            'n-cond-cell1': ['%s nova-conductor --config-file %s' % (
                launcher, self.cell_conf), ''],
        }, runs)
        # each stopped just before it runs again, nothing else stopped
        processes = [c[:2] for c in calls if c[0].endswith('_process')]
        for service in runs:
            at = processes.index(['stop_process', service])
            self.assertEqual(['run_process', service], processes[at + 1])
        self.assertEqual(8, len(processes))
        commands = run.nova_commands()
        for command, _group in runs.values():
            self.assertIn(command.split()[1], commands)

    def test_compute_api_serves_the_plugins_wsgi_module(self):
        self.stack()
        module = read_ini(self.uwsgi_conf).get('uwsgi', 'module')
        self.assertEqual('nova_vfio_lm.wsgi.osapi_compute:application',
                         module)
        self.assertIsNotNone(importlib.util.find_spec(module.split(':')[0]))

    def test_older_branches_wsgi_file_becomes_the_plugins_script(self):
        self.write_uwsgi('wsgi-file = %s/nova-api-wsgi' % self.bin)
        self.stack()
        uwsgi = read_ini(self.uwsgi_conf)
        self.assertEqual(os.path.join(self.bin, 'nova-vfio-lm-api-wsgi'),
                         uwsgi.get('uwsgi', 'wsgi-file'))
        self.assertFalse(uwsgi.has_option('uwsgi', 'module'))
        scripts = [ep.name for ep in metadata.distribution(
            'nova-vfio-lm').entry_points if ep.group == 'wsgi_scripts']
        self.assertEqual(['nova-vfio-lm-api-wsgi'], scripts)

    def test_an_unknown_uwsgi_file_stops_stack(self):
        self.write_uwsgi('http = :8774')
        result, calls = self.source('stack post-config')
        self.assertNotEqual(0, result.returncode)
        self.assertEqual('die', calls[-1][0])

    def test_options_in_every_services_file(self):
        spec = ('{"vendor_id": "15b3", "product_id": "101e", '
                '"live_migratable": "yes", "managed": "no"}')
        alias = ('{"name": "cx7-vf", "vendor_id": "15b3", "product_id": '
                 '"101e", "device_type": "type-VF", "live_migratable": '
                 '"yes"}')
        self.stack(NOVA_VFIO_LM_PCI_DEVICE_SPEC=spec,
                   NOVA_VFIO_LM_PCI_ALIAS=alias)
        conf, cell = read_ini(self.conf), read_ini(self.cell_conf)
        for parser in (conf, cell):
            self.assertEqual('True',
                             parser.get('vfio_lm', 'allow_unverified_nova'))
            self.assertEqual(alias, parser.get('pci', 'alias'))
        # nova-cpu.conf is a copy of nova.conf, made as n-cpu starts
        self.assertEqual(spec, conf.get('pci', 'device_spec'))
        self.assertFalse(cell.has_option('pci', 'device_spec'))

    def test_operators_pci_options_left_alone_by_default(self):
        self.stack(NOVA_VFIO_LM_ALLOW_UNVERIFIED_NOVA='False')
        conf = read_ini(self.conf)
        self.assertEqual('False', conf.get('vfio_lm', 'allow_unverified_nova'))
        self.assertFalse(conf.has_section('pci'))

    def test_off_switch_wraps_nothing(self):
        calls = self.stack(NOVA_VFIO_LM_WRAP='False')
        self.assertEqual([], [c for c in calls if c[0].endswith('_process')])
        self.assertEqual('nova.wsgi.osapi_compute:application',
                         read_ini(self.uwsgi_conf).get('uwsgi', 'module'))
        self.assertEqual('setup_develop', calls[0][0])

    def test_unstack_clean_and_a_host_without_nova_do_nothing(self):
        result, calls = self.source('unstack', 'clean')
        self.assertEqual((0, []), (result.returncode, calls), result.stderr)
        result, calls = self.source('stack install', 'stack post-config',
                                    'stack extra',
                                    ENABLED_SERVICES='key,g-api')
        self.assertEqual((0, []), (result.returncode, calls), result.stderr)

    def test_shell_syntax(self):
        files = [os.path.join(DEVSTACK, name)
                 for name in ('plugin.sh', 'settings')]
        for path in files:
            result = subprocess.run(['bash', '-n', path], capture_output=True,
                                    text=True, timeout=60)
            self.assertEqual(0, result.returncode, result.stderr)
        shellcheck = shutil.which('shellcheck')
        if not shellcheck:
            self.skipTest('shellcheck is not installed here')
        # SC2154: devstack's variables, assigned outside these files;
        # SC2034: the settings' variables, read by plugin.sh
        result = subprocess.run(
            [shellcheck, '--shell=bash', '--severity=warning',
             '--exclude=SC2154,SC2034'] + files,
            capture_output=True, text=True, timeout=120)
        self.assertEqual(0, result.returncode, result.stdout)
