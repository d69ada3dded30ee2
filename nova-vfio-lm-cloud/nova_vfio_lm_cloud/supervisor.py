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

"""Start the cloud's processes, remember them by PID, stop them by PID.

Each process starts in a session of its own, so a service that forks
workers (uwsgi, MariaDB's helpers) is stopped as one process group. Its
PID, start time and command line are written under ``pids/`` in the run
folder, in start order, so ``down`` (or a later ``up`` cleaning a stale
run) stops exactly what was started, never a process that merely has the
same name or a reused PID.
"""

import json
import os
import signal
import subprocess
import time

import psutil
import tenacity


class ServiceFailed(RuntimeError):
    """A process died or did not become ready; the message has its log."""


def _start_ticks(pid):
    """The kernel's start time of ``pid`` (to tell a reused PID apart).

    Read from /proc rather than ``psutil.Process.create_time()``: that is
    boot time plus these ticks in wall-clock seconds, so it moves when the
    clock is set, and psutil 5.9 and 7.x compute it differently; a record
    written by ``up`` must match exactly when ``down`` reads it later,
    maybe from another environment.
    """
    try:
        with open('/proc/%d/stat' % pid) as f:
            fields = f.read().rsplit(')', 1)[1].split()
        return int(fields[19])
    except (OSError, IndexError, ValueError):
        return None


def _alive(pid):
    """Whether ``pid`` runs; a zombie has ended, only not been reaped."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def poll(check, timeout, interval):
    """Call ``check()`` every ``interval`` s until it returns a true value.

    :returns: that value, or the last false one after ``timeout`` s.
    :raises: whatever ``check`` raises (a process that died ends a wait).
    """
    return tenacity.Retrying(
        stop=tenacity.stop_after_delay(timeout),
        wait=tenacity.wait_fixed(interval),
        retry=tenacity.retry_if_not_result(bool),
        retry_error_callback=lambda state: state.outcome.result())(check)


def tail(path, lines=30):
    try:
        with open(path, errors='replace') as f:
            return ''.join(f.readlines()[-lines:])
    except OSError:
        return ''


def read_from(path, offset):
    """What ``path`` holds after ``offset`` ('' if it does not exist)."""
    try:
        with open(path, 'rb') as f:
            f.seek(offset)
            return f.read().decode('utf-8', 'replace')
    except OSError:
        return ''


class Supervisor:
    """The processes of one run folder."""

    def __init__(self, run):
        self.run = run
        self.pid_dir = os.path.join(run.path, 'pids')
        self._children = {}

    def log_path(self, name):
        return self.run.file('logs', name + '.log')

    def _record_path(self, name):
        return os.path.join(self.pid_dir, name + '.json')

    def start(self, name, argv, env=None, cwd=None, user=None):
        """Start ``argv`` as service ``name``; its output goes to its log.

        :param user: run as this system user (MariaDB, RabbitMQ).
        """
        if self.pid(name):
            raise ServiceFailed('%s is already running (PID %d)'
                                % (name, self.pid(name)))
        os.makedirs(self.pid_dir, exist_ok=True)
        full_env = dict(os.environ)
        kwargs = {}
        if user:
            import pwd
            entry = pwd.getpwnam(user)
            kwargs.update(user=entry.pw_uid, group=entry.pw_gid,
                          extra_groups=[])
            full_env.update(HOME=entry.pw_dir, USER=user, LOGNAME=user)
        # the caller's env wins (RabbitMQ keeps its cookie in the run folder)
        full_env.update(env or {})
        log = open(self.log_path(name), 'ab')
        proc = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=log,
            stderr=subprocess.STDOUT, env=full_env, cwd=cwd or self.run.path,
            start_new_session=True, **kwargs)
        log.close()
        self._children[name] = proc
        with open(self._record_path(name), 'w') as f:
            json.dump({'pid': proc.pid, 'ticks': _start_ticks(proc.pid),
                       'argv': list(argv), 'started': time.time()}, f)
        return proc.pid

    def _record(self, name):
        """The start record of ``name``, if this user wrote it.

        A record another user owns may name any process: it is not this
        cloud's word, and nothing is signalled on it.
        """
        try:
            with open(self._record_path(name)) as f:
                if os.fstat(f.fileno()).st_uid != os.geteuid():
                    return None
                return json.load(f)
        except (OSError, ValueError):
            return None

    def pid(self, name):
        """The PID of ``name`` if that very process still runs."""
        record = self._record(name)
        if not record:
            return None
        pid = record['pid']
        if not _alive(pid) or _start_ticks(pid) != record['ticks']:
            return None
        return pid

    def names(self):
        """Recorded services, oldest first."""
        if not os.path.isdir(self.pid_dir):
            return []
        records = []
        for entry in os.listdir(self.pid_dir):
            if entry.endswith('.json'):
                name = entry[:-5]
                record = self._record(name) or {}
                records.append((record.get('started', 0), name))
        return [name for _, name in sorted(records)]

    def _reap(self, name):
        proc = self._children.get(name)
        if proc is not None:
            proc.poll()

    def signal(self, name, sig):
        """Send ``sig`` to the process group of ``name``; False if gone."""
        pid = self.pid(name)
        if not pid:
            return False
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            return False
        return True

    def _wait_ended(self, pids, timeout, interval=0.1):
        """Whether all of ``{name: pid}`` ended within ``timeout`` s."""
        def ended():
            for name in pids:
                self._reap(name)
            return not any(_alive(pid) for pid in pids.values())
        return poll(ended, timeout, interval)

    def stop(self, name, timeout=30):
        """Stop ``name``: SIGTERM to its group, SIGKILL after ``timeout``."""
        record = self._record(name)
        pid = self.pid(name)
        if pid:
            self.signal(name, signal.SIGTERM)
            if not self._wait_ended({name: pid}, timeout):
                self.signal(name, signal.SIGKILL)
                self._wait_ended({name: pid}, 5)
        if pid and record:
            # workers left behind in the group (uwsgi, mariadbd helpers)
            try:
                os.killpg(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        self._reap(name)
        try:
            os.unlink(self._record_path(name))
        except FileNotFoundError:
            pass

    def kill(self, name):
        """SIGKILL ``name`` at once, as a crash would; its record stays."""
        pid = self.pid(name)
        if pid:
            self.signal(name, signal.SIGKILL)
            self._wait_ended({name: pid}, 5, interval=0.05)

    def stop_all(self, timeout=30, last=(), progress=None):
        """Stop every recorded service; those named in ``last`` after.

        All others get SIGTERM at once and share one ``timeout`` (a nova
        2026.2 compute takes that long to give up its own shutdown); then
        ``last`` (the database and the broker) stop one by one, newest
        first. ``progress(line)``, if given, is told each step.
        """
        say = progress or (lambda line: None)
        names = self.names()
        first = [name for name in reversed(names) if name not in last]
        pids = {}
        for name in first:
            pid = self.pid(name)
            if pid:
                pids[name] = pid
                self.signal(name, signal.SIGTERM)
        if pids:
            say('stopping %d services (SIGTERM, %d s at most): %s'
                % (len(pids), timeout, ', '.join(sorted(pids))))
        self._wait_ended(pids, timeout)
        lingering = sorted(name for name, pid in pids.items()
                           if _alive(pid))
        if lingering:
            say('still running after %d s, SIGKILL in 5 s: %s'
                % (timeout, ', '.join(lingering)))
        for name in first:
            self.stop(name, timeout=5)
        for name in reversed(names):
            if name in last:
                if self.pid(name):
                    say('stopping %s' % name)
                self.stop(name, timeout=timeout)

    def wait_ready(self, name, ready, timeout=60, interval=0.25):
        """Poll ``ready()`` until true; fail if ``name`` dies or times out."""
        def answered():
            self._reap(name)
            try:
                if ready():
                    return True
            except Exception:  # noqa: S110 - not ready yet
                pass
            if not self.pid(name):
                raise ServiceFailed('%s exited while starting; its log:\n%s'
                                    % (name, tail(self.log_path(name))))
            return False

        if not poll(answered, timeout, interval):
            raise ServiceFailed('%s was not ready within %d s; its log:\n%s'
                                % (name, timeout, tail(self.log_path(name))))
