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

"""MariaDB: the one database server all services share.

The distribution's ``mariadbd`` runs as a plain process of the run folder
(no systemd, ``--no-defaults`` so /etc/mysql is not read), on loopback
TCP only. A fresh data folder lets only the OS root user in over the
socket, so :meth:`MariaDB.start` gives ``root@127.0.0.1`` a password the
services put in their ``[database] connection``.
"""

import os

import pymysql

from nova_vfio_lm_cloud import service

USER = 'mysql'
#: MySQL errors that prove the server answers (bad login, host refused).
_ANSWERING_ERRORS = (1045, 1130, 1698)


def service_user(database):
    """The MariaDB user of the service owning ``database``.

    The name's first word: ``nova_api``, ``nova_cell0`` and ``nova_cell1``
    are nova's, ``keystone`` keystone's.
    """
    return database.split('_')[0]


class MariaDB(service.Service):
    """MariaDB on 127.0.0.1:``run.port('mariadb')``, data in the run."""

    name = 'mariadb'

    def data_dir(self):
        return self.run.sub('mariadb', 'data', create=False)

    def socket_path(self):
        return self.run.file('mariadb', 'mysql.sock')

    def _base(self):
        return self.run.sub('mariadb')

    def tmp_dir(self):
        """The server's own temporary folder (``--tmpdir``).

        Two clouds' servers (``cloud-upgrade`` starts two at once) must not
        share /tmp, where one's bootstrap removed the other's temporary
        tables.
        """
        return self.run.sub('mariadb', 'tmp')

    def init(self):
        """Create the system tables (once; skipped when they exist)."""
        base = self._base()
        self.tmp_dir()
        self.run.chown(base, USER)
        if os.path.isdir(self.data_dir() + '/mysql'):
            return
        self.execute([
            'mariadb-install-db', '--no-defaults', '--user=%s' % USER,
            '--datadir=%s' % self.data_dir(), '--skip-test-db',
            '--auth-root-authentication-method=socket',
            '--tmpdir=%s' % self.tmp_dir()])
        self.run.chown(base, USER)

    def start(self, timeout=60):
        self.tmp_dir()
        self.run.chown(self._base(), USER)
        self.sup.start(self.name, [
            'mariadbd', '--no-defaults', '--user=%s' % USER,
            '--datadir=%s' % self.data_dir(),
            '--tmpdir=%s' % self.tmp_dir(),
            '--socket=%s' % self.socket_path(),
            '--pid-file=%s' % self.run.file('mariadb', 'mariadbd.pid'),
            '--port=%d' % self.run.port(self.name),
            '--bind-address=127.0.0.1', '--skip-name-resolve',
            '--character-set-server=utf8', '--max-connections=500'])
        self.sup.wait_ready(self.name, self._answers, timeout)
        self._ensure_tcp_root()

    def _connect(self, database=None):
        return pymysql.connect(
            host='127.0.0.1', port=self.run.port(self.name), user='root',
            password=self.password('mariadb-root'), database=database,
            connect_timeout=5, read_timeout=30, write_timeout=30)

    def _answers(self):
        try:
            self._connect().close()
        except pymysql.err.OperationalError as exc:
            return exc.args[0] in _ANSWERING_ERRORS
        return True

    def _ensure_tcp_root(self):
        """Let root in over TCP with the cloud's password (once)."""
        try:
            self._connect().close()
            return
        except pymysql.err.OperationalError:
            pass
        # only the OS root user may log in over the socket of a new server
        sql = ("CREATE USER IF NOT EXISTS 'root'@'127.0.0.1' "
               "IDENTIFIED BY '%s'; GRANT ALL PRIVILEGES ON *.* TO "
               "'root'@'127.0.0.1' WITH GRANT OPTION; FLUSH PRIVILEGES;"
               % self.password('mariadb-root'))
        # on stdin: the password is in neither the process list nor the log
        self.execute(['mariadb', '--no-defaults', '--user=root',
                      '--socket=%s' % self.socket_path()],
                     timeout=60, input_text=sql)
        self._connect().close()

    def create_database(self, name):
        """Create database ``name`` and its service's user if missing.

        Each service reaches its own databases only, as its own user
        (:func:`service_user`), never as MariaDB's root.

        :returns: the SQLAlchemy URL of that user for ``name``.
        """
        user = service_user(name)
        conn = self._connect()
        try:
            with conn.cursor() as cursor:
                cursor.execute('CREATE DATABASE IF NOT EXISTS `%s` '
                               'CHARACTER SET utf8' % name)
                cursor.execute("CREATE USER IF NOT EXISTS %s@'127.0.0.1' "
                               'IDENTIFIED BY %s',
                               (user, self.password('mariadb-' + user)))
                cursor.execute("GRANT ALL PRIVILEGES ON `%s`.* TO "
                               "%%s@'127.0.0.1'" % name, (user,))
        finally:
            conn.close()
        return self.url(name)

    def query(self, database, sql, args=()):
        """Rows of ``sql`` as dicts, as an operator's SQL client reads them.

        Nova's PCI device table has no API.
        """
        conn = self._connect(database)
        try:
            with conn.cursor(pymysql.cursors.DictCursor) as cursor:
                cursor.execute(sql, args)
                return list(cursor.fetchall())
        finally:
            conn.close()

    def url(self, name):
        """The URL of database ``name`` for its service's user."""
        user = service_user(name)
        return 'mysql+pymysql://%s:%s@127.0.0.1:%d/%s?charset=utf8' % (
            user, self.password('mariadb-' + user), self.run.port(self.name),
            name)
