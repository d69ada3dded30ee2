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

"""Where one local cloud keeps everything: config, data, logs, PIDs.

The whole cloud lives under one folder, so ``down`` and a later ``up``
find what an earlier run left, and removing the folder removes the cloud.
MariaDB and RabbitMQ drop root and must reach their data folders, so every
folder on the way must be traversable by other users.
"""

import configparser
import json
import os
import shutil
import socket

#: The run folder unless ``NOVA_VFIO_LM_CLOUD_DIR`` names another.
DEFAULT_PATH = '/var/tmp/nova-vfio-lm-cloud'
PATH_ENV = 'NOVA_VFIO_LM_CLOUD_DIR'
#: First of the loopback ports the cloud listens on (see :data:`PORTS`).
BASE_PORT_ENV = 'NOVA_VFIO_LM_CLOUD_BASE_PORT'
DEFAULT_BASE_PORT = 23000
HOST = '127.0.0.1'
#: The file :meth:`RunFolder.create` writes: this folder is a test cloud's
#: (:mod:`nova_vfio_lm_cloud.stand_in_gate`).
MARKER = 'nova-vfio-lm-test-cloud'

#: Offsets from the base port, one per listening service.
PORTS = {
    'mariadb': 6,
    'rabbitmq': 672,
    'epmd': 369,
    'rabbitmq-dist': 673,
    'keystone': 500,
    'glance': 292,
    'placement': 778,
    'nova-api': 774,
    'neutron': 696,
}


def marked(path):
    """Whether ``path`` is a run folder a test cloud created."""
    return os.path.isfile(os.path.join(path, MARKER))


class RunFolderError(RuntimeError):
    """The run folder cannot be used; the message says why and what to do."""


def _base_port(value):
    """The base port, refused by name and value unless all ports fit."""
    top = 65535 - max(PORTS.values())
    try:
        port = int(value)
    except (TypeError, ValueError):
        port = None
    if port is None or not 1024 <= port <= top:
        raise RunFolderError('%s=%r is not a port number from 1024 to %d '
                             '(the cloud listens on it plus up to %d)'
                             % (BASE_PORT_ENV, value, top,
                                max(PORTS.values())))
    return port


class RunFolder:
    """The files of one local cloud.

    :param path: the folder; by default ``$NOVA_VFIO_LM_CLOUD_DIR`` or
        :data:`DEFAULT_PATH`.
    """

    def __init__(self, path=None, base_port=None):
        self.path = os.path.abspath(
            path or os.environ.get(PATH_ENV) or DEFAULT_PATH)
        self.base_port = _base_port(base_port or os.environ.get(
            BASE_PORT_ENV) or DEFAULT_BASE_PORT)

    def port(self, service):
        return self.base_port + PORTS[service]

    def url(self, service, path=''):
        return 'http://%s:%d%s' % (HOST, self.port(service), path)

    def sub(self, *parts, create=True):
        """A folder under the run folder (made if missing)."""
        path = os.path.join(self.path, *parts)
        if create:
            os.makedirs(path, exist_ok=True)
        return path

    def instances(self):
        """The computes' ``instances_path`` (made if missing)."""
        return self.sub(*INSTANCES_PARTS)

    def file(self, *parts):
        """A file path under the run folder; its folder is made."""
        path = os.path.join(self.path, *parts)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        return path

    def exists(self):
        return os.path.isdir(self.path)

    def check_owned(self):
        """Refuse a folder another user owns or others may write.

        Whoever can write the run folder decides what the cloud runs (its
        configs, the records of the processes ``down`` signals).
        """
        try:
            found = os.stat(self.path)
        except FileNotFoundError:
            return
        if found.st_uid != os.geteuid() or found.st_mode & 0o022:
            raise RunFolderError(
                'run folder %s belongs to uid %d with mode %o: it must '
                'belong to this user (uid %d) and be writable by no one '
                'else; remove it or name another with $%s' % (
                    self.path, found.st_uid, found.st_mode & 0o777,
                    os.geteuid(), PATH_ENV))

    def check_ports_free(self):
        """Refuse to start when something listens on one of the ports.

        Started anyway, the service on that port would fail with its own
        message (MariaDB: "Address already in use") and ``up`` would stop
        what it started; said first, the operator knows which port and
        what to change. Call after the folder's previous cloud stopped.
        """
        busy = []
        for service, offset in sorted(PORTS.items(), key=lambda i: i[1]):
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
                # a port left in TIME_WAIT by a stopped cloud is free
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                try:
                    probe.bind((HOST, self.base_port + offset))
                except OSError:
                    busy.append('%d (%s)' % (self.base_port + offset,
                                             service))
        if busy:
            raise RunFolderError(
                'something else listens on %s port %s of this cloud: '
                'another cloud or server; stop it, or choose other ports '
                'with $%s (now %d)' % (HOST, ', '.join(busy), BASE_PORT_ENV,
                                       self.base_port))

    def create(self):
        self.check_owned()
        os.makedirs(self.path, exist_ok=True)
        os.chmod(self.path, 0o755)
        self.check_reachable()
        with open(os.path.join(self.path, MARKER), 'w') as f:
            f.write('a nova-vfio-lm test cloud: its stand-in hypervisor '
                    'and agents may load in the processes it starts\n')

    def check_reachable(self):
        """Fail unless users other than root can walk down to the folder."""
        path = self.path
        while path != os.path.dirname(path):
            mode = os.stat(path).st_mode
            if not mode & 0o001:
                raise RunFolderError(
                    '%s is not traversable by other users (mode %o); MariaDB '
                    'and RabbitMQ run as their own users and keep their data '
                    'in the run folder. Set %s to a folder under /var/tmp or '
                    '/tmp.' % (path, mode & 0o777, PATH_ENV))
            path = os.path.dirname(path)

    def remove(self):
        if self.exists():
            shutil.rmtree(self.path)

    def chown(self, path, user):
        """Give ``path`` (recursively) to a system user, e.g. ``mysql``."""
        import pwd

        entry = pwd.getpwnam(user)
        for root, dirs, files in os.walk(path):
            for name in [root] + [os.path.join(root, n) for n in dirs + files]:
                os.chown(name, entry.pw_uid, entry.pw_gid)

    # -- small state files ------------------------------------------------

    def save(self, name, data):
        with open_private(self.file('state', name + '.json')) as f:
            json.dump(data, f, indent=2, sort_keys=True)

    def load(self, name, default=None):
        try:
            with open(os.path.join(self.path, 'state', name + '.json')) as f:
                return json.load(f)
        except FileNotFoundError:
            return default


def open_private(path):
    """``path`` opened for writing, readable by its owner only.

    Config files hold database URLs and service passwords, the state the
    passwords themselves: nobody else on the machine may read them.
    """
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # a file an older run left readable
    return os.fdopen(fd, 'w')


def write_ini(path, sections):
    """Write an ini file from ``{section: {option: value}}``.

    The one way every service's config is written. Values that are lists
    become multi-line values (oslo.config's MultiStrOpt reads them as
    repeated options only when written repeatedly, so lists are written
    that way).
    """
    os.makedirs(os.path.dirname(path), exist_ok=True)
    lines = []
    for section, options in sections.items():
        lines.append('[%s]' % section)
        for option, value in options.items():
            values = value if isinstance(value, (list, tuple)) else [value]
            for item in values:
                if isinstance(item, bool):
                    item = 'true' if item else 'false'
                lines.append('%s = %s' % (option, item))
        lines.append('')
    with open_private(path) as f:
        f.write('\n'.join(lines))
    return path


def read_ini(path):
    """``{section: {option: value}}`` of an ini file (last value wins)."""
    parser = configparser.RawConfigParser(strict=False)
    parser.optionxform = str
    parser.read(path)
    return {s: dict(parser.items(s)) for s in parser.sections()}


#: Where, under the run folder, the computes keep guest files: one folder
#: for all, as computes whose ``instances_path`` is on shared storage (NFS)
#: have. Nova then finds what it finds on such hosts: it takes the path as
#: shared when it compares the hosts' addresses (cold migration, resize:
#: all computes have ``my_ip`` 127.0.0.1) and when it writes a test file
#: on one and looks for it from the other (live migration, evacuation), so
#: both agree. Folders of their own would look shared to the first and
#: not to the second: a resize then left a copy Nova never removes, which
#: a later live migration to that host found (``DestinationDiskExists``).
INSTANCES_PARTS = ('compute', 'instances')
