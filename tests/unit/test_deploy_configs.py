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

"""The kolla and OpenStack-Ansible pieces under ``deploy`` start Nova
through the plugin.

kolla: the template override, rendered over a stand-in of kolla's Nova
Dockerfiles (their footer blocks, kolla's ``install_pip`` macro), must
install the plugin with the upper-constraints and replace each service's
Nova command by a wrapper that runs ``nova-vfio-lm-run`` with that command
(run here against a stand-in launcher); the ``globals.yml`` snippet must
move exactly the services' images. OpenStack-Ansible: each service's
``ExecStart`` must name the launcher and its Nova command, the compute API
the plugin's WSGI entry. Both pin the Nova release the plugin was
verified on for 2024.1.
"""

import configparser
import importlib.util
import json
import os
import re
import subprocess

import fixtures
import jinja2
import testtools
import yaml

from nova_vfio_lm.cmd import run

REPO = os.path.dirname(os.path.dirname(os.path.dirname(__file__)))
KOLLA = os.path.join(REPO, 'deploy', 'kolla')
OSA = os.path.join(REPO, 'deploy', 'openstack-ansible',
                   'user_variables_nova_vfio_lm.yml')
SERVICES = ('nova-compute', 'nova-conductor', 'nova-scheduler')
KOLLA_VENV = '/var/lib/kolla/venv'

#: kolla's install_pip macro (docker/macros.j2, 2024.1 to master)
STAND_IN_MACROS = """{% macro install_pip(packages, constraints=true,
                                           python_version='3') %}
{%- if packages is sequence and packages|length > 0 -%}
    python{{ python_version }} -m pip --no-cache-dir install --upgrade{{ ' ' }}
    {%- if constraints %}-c /requirements/upper-constraints.txt {% endif -%}
    {{ packages | join(' ') }}
{%- else -%}
    true
{%- endif -%}
{% endmacro %}
"""

#: a kolla Nova Dockerfile reduced to what the override relies on
STAND_IN_DOCKERFILE = """FROM kolla/%(parent)s:tag
{%% import "macros.j2" as macros with context %%}
RUN true
{%% block %(block)s_footer %%}{%% endblock %%}
{%% block footer %%}{%% endblock %%}
USER nova
"""


def verified_nova(series):
    path = os.path.join(REPO, 'nova_vfio_lm', 'verified', series + '.json')
    with open(path) as f:
        return json.load(f)['nova_version']


def render_kolla(image):
    """The override rendered over a stand-in of the image's Dockerfile."""
    parent = 'openstack-base' if image == 'nova-base' else 'nova-base'
    loader = jinja2.DictLoader({
        'macros.j2': STAND_IN_MACROS,
        'Dockerfile.j2': STAND_IN_DOCKERFILE % {
            'parent': parent, 'block': image.replace('-', '_')},
    })
    env = jinja2.Environment(loader=loader)
    with open(os.path.join(KOLLA, 'template-overrides.j2')) as f:
        override = env.from_string(f.read())
    return override.render(parent_template=env.get_template('Dockerfile.j2'))


def run_instructions(dockerfile):
    """The shell commands of the Dockerfile's ``RUN`` instructions."""
    joined = dockerfile.replace('\\\n', ' ')
    return [line[len('RUN '):] for line in joined.splitlines()
            if line.startswith('RUN ')]


class KollaTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.root = self.useFixture(fixtures.TempDir()).path
        self.venv = self.root + KOLLA_VENV

    def sh(self, command):
        command = command.replace(KOLLA_VENV, self.venv).replace(
            '/requirements/', self.root + '/requirements/')
        subprocess.run(['/bin/sh', '-ec', command], check=True, timeout=30)

    def write(self, path, text, mode=0o644):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, 'w') as f:
            f.write(text)
        os.chmod(path, mode)

    def test_override_parses(self):
        with open(os.path.join(KOLLA, 'template-overrides.j2')) as f:
            jinja2.Environment().parse(f.read())

    def test_nova_base_installs_with_upper_constraints_os_traits_raised(self):
        commands = run_instructions(render_kolla('nova-base'))
        self.assertEqual(2, len(commands))  # the stand-in's, the override's
        install = commands[1]
        self.assertIn('python3 -m pip --no-cache-dir install --upgrade '
                      '-c /requirements/upper-constraints.txt nova-vfio-lm',
                      install)
        pins = {'2024.1': '3.0.0', '2024.2': '3.1.0', '2025.1': '3.3.0',
                '2026.1': '3.6.0'}
        for series, pin in pins.items():
            self.write(self.root + '/requirements/upper-constraints.txt',
                       'os-brick===6.7.0\nos-traits===%s\n' % pin)
            sed = install.split(' && ')[0]
            self.sh(sed)
            with open(self.root + '/requirements/upper-constraints.txt') as f:
                expected = '3.9.0' if series < '2025.1' else pin
                self.assertEqual(
                    'os-brick===6.7.0\nos-traits===%s\n' % expected,
                    f.read(), series)

    def test_each_service_runs_through_the_launcher(self):
        launcher = self.venv + '/bin/nova-vfio-lm-run'
        self.write(launcher, '#!/bin/sh\nprintf "%s\\n" "$@"\n', 0o755)
        commands = run.nova_commands()
        for service in SERVICES:
            self.assertIn(service, commands)
            self.write(self.venv + '/bin/' + service, 'nova\n', 0o755)
            _, command = run_instructions(render_kolla(service))
            self.sh(command)
            out = subprocess.run(
                [self.venv + '/bin/' + service, '--config-file',
                 '/etc/nova/nova.conf'], capture_output=True, text=True,
                check=True, timeout=30).stdout
            self.assertEqual(
                [service, '--config-file', '/etc/nova/nova.conf'],
                out.split(), service)

    def test_api_serves_the_plugin_application(self):
        _, command = run_instructions(render_kolla('nova-api'))
        bin_dir = self.venv + '/bin/'
        module = (self.venv +
                  '/lib/python3.11/site-packages/nova/wsgi/osapi_compute.py')
        # Apache's script (kolla-ansible 2024.1) and uWSGI's module (2025.1
        # and newer) are each replaced where the image has them
        for script, has_module in ((True, False), (False, True)):
            self.write(bin_dir + 'nova-vfio-lm-api-wsgi', 'plugin wsgi\n')
            if script:
                self.write(bin_dir + 'nova-api-wsgi', 'nova wsgi\n')
            if has_module:
                self.write(module, 'application = nova()\n')
            self.sh(command)
            if script:
                with open(bin_dir + 'nova-api-wsgi') as f:
                    self.assertEqual('plugin wsgi\n', f.read())
            else:
                self.assertFalse(os.path.exists(bin_dir + 'nova-api-wsgi'))
            if has_module:
                with open(module) as f:
                    self.assertEqual(
                        'from nova_vfio_lm.wsgi.osapi_compute import '
                        'application  # noqa\n', f.read())
            for path in (bin_dir + 'nova-api-wsgi', module):
                if os.path.exists(path):
                    os.unlink(path)
        self.assertIsNotNone(
            importlib.util.find_spec('nova_vfio_lm.wsgi.osapi_compute'))

    def test_globals_move_the_services_images_only(self):
        with open(os.path.join(KOLLA, 'globals.yml')) as f:
            values = yaml.safe_load(f)
        tags = {k: v for k, v in values.items() if k.endswith('_tag')}
        self.assertEqual(
            {'nova_vfio_lm_tag', 'nova_api_tag', 'nova_scheduler_tag',
             'nova_super_conductor_tag', 'nova_conductor_tag',
             'nova_compute_tag'}, set(tags))
        for name, value in tags.items():
            if name != 'nova_vfio_lm_tag':
                self.assertEqual('{{ nova_vfio_lm_tag }}', value, name)

    def test_build_conf_uses_the_override_and_the_verified_nova(self):
        conf = configparser.ConfigParser()
        conf.read(os.path.join(KOLLA, 'kolla-build.conf'))
        self.assertTrue(
            conf['DEFAULT']['template_override'].endswith(
                '/template-overrides.j2'))
        self.assertEqual('url', conf['nova-base']['type'])
        self.assertEqual(
            'https://tarballs.opendev.org/openstack/nova/nova-%s.tar.gz'
            % verified_nova('2024.1'), conf['nova-base']['location'])


class OpenStackAnsibleTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        with open(OSA) as f:
            self.text = f.read()
        self.values = yaml.safe_load(self.text)

    def test_plugin_in_the_nova_venv_with_the_verified_nova(self):
        self.assertEqual(['nova-vfio-lm'],
                         self.values['nova_user_pip_packages'])
        self.assertEqual(verified_nova('2024.1'),
                         self.values['nova_git_install_branch'])

    def test_each_service_starts_through_the_launcher(self):
        commands = run.nova_commands()
        for service in SERVICES:
            name = service.replace('-', '_') + '_init_overrides'
            exec_start = self.values[name]['Service']['ExecStart']
            argv = exec_start.replace('{{ nova_bin }}', '/venv/bin').split()
            self.assertEqual(['/venv/bin/nova-vfio-lm-run', service], argv)
            self.assertIn(service, commands)

    def test_api_serves_the_plugin_wsgi_entry(self):
        overrides = self.values['nova_api_os_compute_uwsgi_ini_overrides']
        self.assertEqual({'uwsgi': {
            'wsgi-file': '{{ nova_bin }}/nova-vfio-lm-api-wsgi'}}, overrides)
        # the alternative for 2025.2 and newer, commented out
        alternative = re.search(
            r'^# (nova_api_os_compute_uwsgi_ini_overrides:\n'
            r'(?:#   .*\n)+)', self.text, re.M).group(1)
        alternative = yaml.safe_load(re.sub(r'^# ', '', alternative,
                                            flags=re.M))
        module, _, callable_ = alternative[
            'nova_api_os_compute_uwsgi_ini_overrides']['uwsgi'][
                'wsgi'].partition(':')
        self.assertEqual(('nova_vfio_lm.wsgi.osapi_compute', 'application'),
                         (module, callable_))
        self.assertIsNotNone(importlib.util.find_spec(module))
