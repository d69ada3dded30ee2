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

"""Wait for the database and neutron before acting on a migration's records.

A step that moves or restores a live migration's records (the source's
post-migration of a completed job, the rollback of a migration that waited
for its PFs) fails at its first call when the database or neutron is down
(a database failover, a neutron or Keystone restart), and Nova's error
path then fails on the same backend: the migration and the server stay in
a transitional state for good. Such a step first reads the server through
the conductor and its ports through neutron; while a read fails it logs a
warning and reads again every :data:`POLL` seconds, up to
:data:`BACKEND_WAIT` seconds, then goes on.
"""

import time

from oslo_log import log as logging

LOG = logging.getLogger(__name__)

#: the longest a step waits for the backends (seconds)
BACKEND_WAIT = 600
#: seconds between two reads while a backend does not answer
POLL = 5.0


def wait(context, instance, why, step):
    """Until the conductor and neutron answer a read, or the bound passed.

    :param why: what happened that makes ``step`` needed, for the log
        ("the live migration completed at the hypervisor").
    :param step: what waits ("its post-migration").
    :returns: True once both answered, False after :data:`BACKEND_WAIT`.
    """
    deadline = time.monotonic() + BACKEND_WAIT
    waited = False
    while True:
        failure = _read_failure(context, instance)
        if failure is None:
            if waited:
                LOG.warning('The database and neutron answer again; %s '
                            'goes on.', step, instance=instance)
            return True
        if time.monotonic() >= deadline:
            LOG.error('The database or neutron still does not answer (%s) '
                      'after %d s; %s goes on, and may fail.',
                      failure, BACKEND_WAIT, step, instance=instance)
            return False
        LOG.warning('%s, but %s; %s waits for it (up to %d s).',
                    why[:1].upper() + why[1:], failure, step, BACKEND_WAIT,
                    instance=instance)
        waited = True
        time.sleep(POLL)


def _read_failure(context, instance):
    """What failed reading the server and its ports, or None."""
    from nova.network import neutron
    from nova import objects

    try:
        objects.Instance.get_by_uuid(context, instance.uuid)
    except Exception as exc:
        return 'the database does not answer (%s)' % _short(exc)
    try:
        neutron.get_client(context, admin=True).list_ports(
            device_id=instance.uuid, fields=['id'])
    except Exception as exc:
        return 'neutron does not answer (%s)' % _short(exc)
    return None


def _short(exc):
    """The error's type and first line (a remote one carries a traceback)."""
    text = str(exc).strip().splitlines()
    return '%s: %s' % (type(exc).__name__, text[0][:200] if text else '')
