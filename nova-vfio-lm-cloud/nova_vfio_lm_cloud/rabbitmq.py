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

"""RabbitMQ: the message bus of Nova's services.

The distribution's broker runs as a plain process of the run folder, with
its own ``epmd``: a broker left to itself starts a daemonised epmd that
the supervisor would never see, so :class:`RabbitMQ` starts ``epmd`` in
the foreground first and points the broker (and ``rabbitmqctl``) at it.
Everything listens on 127.0.0.1 only; the node's Erlang cookie lives in
the run folder, shared by the broker and ``rabbitmqctl``. The Debian
wrappers in /usr/sbin are bypassed: they ``su`` to the rabbitmq user,
which resets the environment that points at the run folder.
"""

import os
import shutil
import socket
import subprocess

from nova_vfio_lm_cloud import service

USER = 'rabbitmq'
NODE = 'rabbit@localhost'
#: Erlang's distribution listens on loopback only (broker and CLI nodes).
_LOOPBACK_ERL_ARGS = '-kernel inet_dist_use_interface {127,0,0,1}'


def _rabbitmq_bindir():
    """The package's real scripts, not the ``su`` wrappers of /usr/sbin."""
    wrapper = shutil.which('rabbitmq-server') or '/usr/sbin/rabbitmq-server'
    return os.path.dirname(os.path.realpath(wrapper))


def port_open(port, host='127.0.0.1'):
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


class RabbitMQ(service.Service):
    """epmd and one RabbitMQ node on 127.0.0.1, data in the run folder."""

    name = 'rabbitmq'
    user = 'openstack'

    def process_names(self):
        return ['epmd', self.name]

    def _base(self, *parts):
        return self.run.sub('rabbitmq', *parts, create=False)

    def env(self):
        """The environment of the broker and of every ``rabbitmqctl``."""
        return {
            'HOME': self._base('home'),  # .erlang.cookie
            'RABBITMQ_NODENAME': NODE,
            'RABBITMQ_NODE_IP_ADDRESS': '127.0.0.1',
            'RABBITMQ_NODE_PORT': str(self.run.port(self.name)),
            'RABBITMQ_DIST_PORT': str(self.run.port('rabbitmq-dist')),
            'ERL_EPMD_PORT': str(self.run.port('epmd')),
            'ERL_EPMD_ADDRESS': '127.0.0.1',
            'RABBITMQ_MNESIA_BASE': self._base('mnesia'),
            'RABBITMQ_LOG_BASE': self._base('log'),
            'RABBITMQ_PID_FILE': os.path.join(self._base(), 'rabbit.pid'),
            # none of /etc/rabbitmq, no plugins (no management listener)
            'RABBITMQ_CONF_ENV_FILE': os.path.join(
                self._base(), 'rabbitmq-env.conf'),
            'RABBITMQ_CONFIG_FILE': os.path.join(self._base(), 'rabbitmq'),
            'RABBITMQ_ENABLED_PLUGINS_FILE': os.path.join(
                self._base(), 'enabled_plugins'),
            'RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS': _LOOPBACK_ERL_ARGS,
            'RABBITMQ_CTL_ERL_ARGS': _LOOPBACK_ERL_ARGS,
            'ERL_CRASH_DUMP': os.path.join(self._base(), 'erl_crash.dump'),
        }

    def configure(self):
        for folder in ('home', 'mnesia', 'log'):
            os.makedirs(self._base(folder), exist_ok=True)
        with open(os.path.join(self._base(), 'enabled_plugins'), 'w') as f:
            f.write('[].\n')
        cookie = os.path.join(self._base('home'), '.erlang.cookie')
        if not os.path.exists(cookie):
            with open(cookie, 'w') as f:
                f.write(self.password('rabbitmq-cookie'))
            os.chmod(cookie, 0o400)
        self.run.chown(self._base(), USER)

    def start(self, timeout=90):
        self.configure()
        self.sup.start('epmd', [
            'epmd', '-port', str(self.run.port('epmd')),
            '-address', '127.0.0.1'], user=USER, env=self.env())
        self.sup.wait_ready(
            'epmd', lambda: port_open(self.run.port('epmd')), 15)
        self.sup.start(
            self.name, [os.path.join(_rabbitmq_bindir(), 'rabbitmq-server')],
            env=self.env(), cwd=self._base(), user=USER)
        self.sup.wait_ready(
            self.name, lambda: port_open(self.run.port(self.name)), timeout)
        self.ctl(['await_startup', '--timeout', '60'], timeout=90)
        self._ensure_user()

    def ctl(self, args, timeout=60):
        """Run ``rabbitmqctl`` against the node; its output.

        :raises service.CommandFailed: on failure, with the output.
        """
        argv = [os.path.join(_rabbitmq_bindir(), 'rabbitmqctl'),
                '-n', NODE] + list(args)
        env = dict(os.environ, **self.env())
        try:
            result = subprocess.run(
                argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT, env=env, cwd=self._base(),
                timeout=timeout, universal_newlines=True)
        except subprocess.TimeoutExpired:
            raise service.CommandFailed('rabbitmqctl %s did not finish in '
                                        '%d s' % (args[0], timeout))
        with open(self.run.file('logs', 'rabbitmq-setup.log'), 'a') as log:
            log.write('$ rabbitmqctl %s\n%s' % (args[0], result.stdout))
        if result.returncode:
            raise service.CommandFailed('rabbitmqctl %s exited %d:\n%s' % (
                args[0], result.returncode, result.stdout))
        return result.stdout

    def _ensure_user(self):
        users = self.ctl(['list_users', '--silent']).split()
        if self.user not in users:
            self.ctl(['add_user', self.user,
                      self.password('rabbitmq-' + self.user)])
        self.ctl(['set_permissions', '-p', '/', self.user,
                  '.*', '.*', '.*'])

    def transport_url(self):
        return 'rabbit://%s:%s@127.0.0.1:%d/' % (
            self.user, self.password('rabbitmq-' + self.user),
            self.run.port(self.name))

    def stop(self, timeout=60):
        """Stop the node gracefully, then epmd; both by PID."""
        if self.sup.pid(self.name):
            try:
                self.ctl(['stop'], timeout=timeout)
            except service.CommandFailed:
                pass  # SIGTERM below, SIGKILL after the supervisor's wait
        self.sup.stop(self.name)
        self.sup.stop('epmd')

    def restart(self):
        """Stop and start the broker; queues, users and data stay."""
        self.stop()
        self.start()
