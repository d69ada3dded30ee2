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

"""What every service of the local cloud has in common.

A service is a small class with devstack's verbs: ``configure`` (write its
config under the run folder), ``init`` (databases, bootstrap; once per
cloud), ``start`` (start its processes and wait until they answer) and
``stop``. Commands come from one Python environment's ``bin`` folder (the
one running this code unless told otherwise), so a cloud can later mix
services of several releases.
"""

import os
import secrets
import subprocess
import sys
import urllib.error
import urllib.request

from nova_vfio_lm_cloud import supervisor as supervisor_mod


def default_bindir():
    return os.path.dirname(os.path.abspath(sys.executable))


class CommandFailed(RuntimeError):
    """A set-up command (db sync, bootstrap...) failed; has its output."""


class Service:
    """Base of every service: its name, run folder and commands.

    :param run: the :class:`~.runfolder.RunFolder`.
    :param sup: the :class:`~.supervisor.Supervisor`.
    :param bindir: the ``bin`` folder of the environment to run from.
    """

    name = None

    def __init__(self, run, sup, bindir=None):
        self.run = run
        self.sup = sup
        self.bindir = bindir or default_bindir()

    def bin(self, command):
        return os.path.join(self.bindir, command)

    def config_dir(self):
        return self.run.sub('etc', self.name)

    def configure(self):
        """Write this service's config files."""

    def init(self):
        """One-time set-up: databases, keys, bootstrap."""

    def start(self):
        raise NotImplementedError

    def stop(self):
        for name in reversed(self.process_names()):
            self.sup.stop(name)

    def process_names(self):
        return [self.name]

    def password(self, key):
        """The password of ``key`` in this cloud: made once, then kept.

        Kept in the run folder's state, so every service (and a later
        ``up``) finds the same one.
        """
        passwords = self.run.load('passwords', {})
        if key not in passwords:
            passwords[key] = secrets.token_hex(12)
            self.run.save('passwords', passwords)
        return passwords[key]

    def execute(self, argv, env=None, timeout=300, log_name=None,
                input_text=None):
        """Run a set-up command to its end; its output goes to a log.

        :param input_text: fed to its stdin (never logged).

        :returns: its output.
        :raises CommandFailed: with the end of its output.
        """
        full_env = dict(os.environ)
        full_env.update(env or {})
        log_path = self.run.file('logs', '%s.log' % (
            log_name or '%s-setup' % self.name))
        with open(log_path, 'ab') as log:
            log.write(('$ %s\n' % ' '.join(argv)).encode())
            log.flush()
            start = log.tell()
            try:
                result = subprocess.run(
                    argv, input=None if input_text is None else
                    input_text.encode(),
                    stdin=subprocess.DEVNULL if input_text is None else None,
                    stdout=log, stderr=subprocess.STDOUT, env=full_env,
                    cwd=self.run.path, timeout=timeout)
            except subprocess.TimeoutExpired:
                raise CommandFailed('%s did not finish within %d s; see %s'
                                    % (' '.join(argv), timeout, log_path))
        if result.returncode:
            raise CommandFailed('%s exited %d:\n%s' % (
                ' '.join(argv), result.returncode,
                supervisor_mod.tail(log_path)))
        with open(log_path, 'rb') as log:
            log.seek(start)
            return log.read().decode(errors='replace')

    def uwsgi_argv(self, port, wsgi_file=None, module=None, processes=1,
                   threads=2):
        """uwsgi serving one WSGI application on 127.0.0.1:``port``."""
        argv = [self.bin('uwsgi'), '--http-socket', '%s:%d' % (
            '127.0.0.1', port), '--master', '--processes', str(processes),
            '--threads', str(threads), '--die-on-term', '--need-app',
            '--lazy-apps', '--enable-threads', '--buffer-size', '65535',
            '--hook-master-start', 'unix_signal:15 gracefully_kill_them_all',
            '--thunder-lock', '--add-header', 'Connection: close',
            '--plugins-dir', self.bindir, '--home', os.path.dirname(
                self.bindir)]
        if wsgi_file:
            argv += ['--wsgi-file', wsgi_file]
        if module:
            argv += ['--module', module]
        return argv

    def start_wsgi(self, script, module, config_env, path='/',
                   statuses=(200,), timeout=90):
        """Serve this service's WSGI app under uwsgi; wait until it answers.

        :param config_env: ``{variable: folder}`` telling the app where
            its config files are.
        :param path: what to ask, and ``statuses`` what answers mean up.
        """
        self.sup.start(self.name, self.wsgi_argv(
            self.run.port(self.name), script, module), env=config_env)
        self.sup.wait_ready(self.name, lambda: http_answers(
            self.run.url(self.name, path), statuses), timeout)

    def wsgi_argv(self, port, script, module):
        """uwsgi serving ``script`` of the bin folder, else ``module``.

        Up to 2024.2 the WSGI apps are pbr ``wsgi_scripts`` (keystone
        2024.2 also has its module); from 2025.x on only modules such as
        ``keystone.wsgi.api`` remain.
        """
        port_argv = self.uwsgi_argv(port)
        if os.path.exists(self.bin(script)):
            return port_argv + ['--wsgi-file', self.bin(script)]
        return port_argv + ['--module', module]


def http_answers(url, statuses=(200, 300, 401)):
    """True once ``url`` answers with one of ``statuses``."""
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status in statuses
    except urllib.error.HTTPError as exc:
        return exc.code in statuses
    except OSError:
        return False
