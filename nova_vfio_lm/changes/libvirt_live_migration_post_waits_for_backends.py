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

"""The source's post-migration waits for the database and neutron to answer.

Once the hypervisor completed a live migration (the guest runs on the
destination only), the source's post-migration moves Nova's records: it
activates the ports' bindings on the destination (neutron) and saves the
server, the migration and the PCI devices (the conductor, the database).
When the database or neutron is down at that moment (a database failover,
a neutron or Keystone restart), Nova (every release) fails the
post-migration at its first call, and its error path fails on the same
backend: the migration stays ``running`` and the server ``migrating`` on
the source for good, while the guest runs on the destination with the VFs
it claimed there. For migrations that carry PCI device mappings, this
change, on every series, first reads the server through the conductor and
its ports through neutron; while a read fails it logs a warning and reads
again every :data:`POLL` seconds, up to :data:`BACKEND_WAIT` seconds, then
goes on with Nova's post-migration.
"""

import time

from oslo_log import log as logging

from nova_vfio_lm.changes import base
from nova_vfio_lm import pci_migration

LOG = logging.getLogger(__name__)

#: the longest the post-migration waits for the backends (seconds)
BACKEND_WAIT = 600
#: seconds between two reads while a backend does not answer
POLL = 5.0


class LibvirtLiveMigrationPostWaitsForBackends(base.Change):
    name = 'libvirt_live_migration_post_waits_for_backends'
    summary = ("the source's post-migration of a completed live migration "
               'waits for the database and neutron to answer')
    series = base.EVERY_SERIES

    def _apply(self):
        from nova.virt.libvirt import driver

        def make(original):
            def live_migration(self, context, instance, dest, post_method,
                               recover_method, block_migration=False,
                               migrate_data=None):
                if pci_migration.carries_pci_mapping(migrate_data):
                    post_method = _after_backends_answer(post_method)
                return original(self, context, instance, dest, post_method,
                                recover_method, block_migration,
                                migrate_data)
            return live_migration

        base.wrap(driver.LibvirtDriver, 'live_migration', make)


def _after_backends_answer(post_method):
    def post(context, instance, *args, **kwargs):
        wait_for_backends(context, instance)
        return post_method(context, instance, *args, **kwargs)
    return post


def wait_for_backends(context, instance):
    """Until the conductor and neutron answer a read, or the bound passed.

    :returns: True once both answered, False after :data:`BACKEND_WAIT`.
    """
    deadline = time.monotonic() + BACKEND_WAIT
    waited = False
    while True:
        failure = _read_failure(context, instance)
        if failure is None:
            if waited:
                LOG.warning('The database and neutron answer again; going '
                            'on with the post-migration of the completed '
                            'live migration.', instance=instance)
            return True
        if time.monotonic() >= deadline:
            LOG.error('The database or neutron still does not answer (%s) '
                      'after %d s; going on with the post-migration of the '
                      'completed live migration, which may fail.',
                      failure, BACKEND_WAIT, instance=instance)
            return False
        LOG.warning('The live migration completed at the hypervisor, but '
                    '%s; its post-migration waits for it (up to %d s).',
                    failure, BACKEND_WAIT, instance=instance)
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


CHANGE = LibvirtLiveMigrationPostWaitsForBackends()
