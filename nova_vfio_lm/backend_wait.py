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

"""Wait for the backends before acting on a migration's records.

A step that moves or restores a live migration's records (the source's
post-migration of a completed job, the rollback of a migration that waited
for its PFs, the conductor's rollback of a failed pre-check) fails at its
first call when the database, neutron or placement is down (a database
failover, a neutron or Keystone restart; Keystone's tokens need its
database), and Nova's error path then fails on the same backend: the
migration and the server stay in a transitional state for good. Such a
step first reads what it will write (the server through the database or
the conductor, its ports through neutron, the migration's allocations in
placement); while a read fails it logs a warning and reads again every
:data:`POLL` seconds, up to :data:`BACKEND_WAIT` seconds, then goes on.
"""

import collections
import time

from oslo_log import log as logging

LOG = logging.getLogger(__name__)

#: the longest a step waits for the backends (seconds)
BACKEND_WAIT = 600
#: seconds between two reads while a backend does not answer
POLL = 5.0

#: a backend and how to read from it: ``read(context, instance)`` raises
#: while the backend does not answer
Read = collections.namedtuple('Read', 'name read')


def _read_database(context, instance):
    from nova import objects

    objects.Instance.get_by_uuid(context, instance.uuid)


def _read_neutron(context, instance):
    from nova.network import neutron

    neutron.get_client(context, admin=True).list_ports(
        device_id=instance.uuid, fields=['id'])


DATABASE = Read('the database', _read_database)
NEUTRON = Read('neutron', _read_neutron)


def placement(consumer_uuid):
    """A read of ``consumer_uuid``'s allocations in placement."""
    def read(context, instance):
        from nova.scheduler.client import report

        report.report_client_singleton().get_allocs_for_consumer(
            context, consumer_uuid)
    return Read('placement', read)


def wait(context, instance, why, step, reads=(DATABASE, NEUTRON)):
    """Until every backend of ``reads`` answers, or the bound passed.

    :param why: what happened that makes ``step`` needed, for the log
        ("the live migration completed at the hypervisor").
    :param step: what waits ("its post-migration").
    :param reads: the :class:`Read` of each backend ``step`` needs.
    :returns: True once all answered, False after :data:`BACKEND_WAIT`.
    """
    names = ' and '.join(r.name for r in reads)
    deadline = time.monotonic() + BACKEND_WAIT
    waited = False
    while True:
        failure = _read_failure(context, instance, reads)
        if failure is None:
            if waited:
                LOG.warning('%s answer again; %s goes on.',
                            names[:1].upper() + names[1:], step,
                            instance=instance)
            return True
        if time.monotonic() >= deadline:
            LOG.error('Waited %d s for %s, and %s; %s goes on, and may '
                      'fail.', BACKEND_WAIT, names, failure, step,
                      instance=instance)
            return False
        LOG.warning('%s, but %s; %s waits for it (up to %d s).',
                    why[:1].upper() + why[1:], failure, step, BACKEND_WAIT,
                    instance=instance)
        waited = True
        time.sleep(POLL)


def _read_failure(context, instance, reads):
    """What failed reading from the backends, or None."""
    for backend in reads:
        try:
            backend.read(context, instance)
        except Exception as exc:
            return '%s does not answer (%s)' % (backend.name, _short(exc))
    return None


def _short(exc):
    """The error's type and first line (a remote one carries a traceback)."""
    text = str(exc).strip().splitlines()
    return '%s: %s' % (type(exc).__name__, text[0][:200] if text else '')
