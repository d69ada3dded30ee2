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

"""A live migration whose conductor stopped during the checks ends.

The conductor creates a live migration ``accepted``, moves the server's
source allocation to the migration, asks the scheduler (the server's
allocation on the destination) and the destination's pre-check (which
claims VFs), and only then hands the migration to the source. A conductor
killed or restarted in between leaves the migration ``accepted``, the
server ``migrating`` and its allocations that way, and the destination's
claim kept (its server is migrating): for good, on every release, since
nothing in Nova looks at an ``accepted`` migration again. For servers
with PCI requests this change, on every series:

- the source's resource audit ends each such live migration of a server
  whose guest runs here once it has been ``accepted`` for longer than
  ``[vfio_lm] live_migration_check_timeout``: migration ``error``, the
  allocation moved back from the migration to the server, the server's
  task cleared (ACTIVE here); the destination's next audit frees its
  claim;
- the source refuses to start a live migration whose record ended before
  the conductor handed it over (a conductor that was only slow), as the
  destination refuses a late pre-check.
"""

from oslo_log import log as logging
from oslo_utils import timeutils

from nova_vfio_lm.changes import base
from nova_vfio_lm import pci_migration

LOG = logging.getLogger(__name__)

#: statuses of a migration that ended
ENDED = ('completed', 'error', 'failed', 'cancelled')


def _timeout():
    import nova.conf

    return nova.conf.CONF.vfio_lm.live_migration_check_timeout


def abandoned(context, host):
    """Live migrations from ``host`` ``accepted`` for longer than the bound."""
    from nova import objects

    timeout = _timeout()
    accepted = objects.MigrationList.get_by_filters(
        context, {'source_compute': host, 'status': 'accepted',
                  'migration_type': 'live-migration'})
    return [migration for migration in accepted
            if timeutils.is_older_than(migration.created_at, timeout)]


def end_abandoned(manager, context):
    """End this host's abandoned live migrations of servers with PCI."""
    from nova.compute import task_states
    from nova import objects

    for migration in abandoned(context, manager.host):
        instance = objects.Instance.get_by_uuid(
            context, migration.instance_uuid, expected_attrs=['pci_requests'])
        if (instance.host != manager.host or
                not pci_migration.has_pci_requests(instance)):
            continue
        if not manager.driver.instance_exists(instance):
            LOG.error('Live migration %s has been accepted for more than %d '
                      's, but the guest of its server does not run on this '
                      'host: left as it is for an operator', migration.uuid,
                      _timeout(), instance=instance)
            continue
        LOG.warning('Live migration %s has been accepted for more than %d s '
                    '([vfio_lm] live_migration_check_timeout) and was never '
                    'handed to this host: its conductor stopped while it '
                    'checked it. It ends (error); the server stays here and '
                    'gets its allocation back.', migration.uuid, _timeout(),
                    instance=instance)
        migration.status = 'error'
        migration.save()
        if manager.reportclient.get_allocations_for_consumer(
                context, migration.uuid):
            manager._revert_allocation(context, instance, migration)
        if instance.task_state == task_states.MIGRATING:
            instance.task_state = None
            instance.save(expected_task_state=[task_states.MIGRATING])


def ended_before_handed_over(context, migration):
    """The status of ``migration`` if it ended meanwhile, else None."""
    from nova import objects

    status = objects.Migration.get_by_id(context, migration.id).status
    return status if status in ENDED else None


class ComputeLiveMigrationAbandonedChecks(base.Change):
    name = 'compute_live_migration_abandoned_checks'
    summary = ('a live migration left accepted by a conductor that stopped '
               "during its checks is ended by its source's audit")
    series = base.EVERY_SERIES

    def _apply(self):
        from nova.compute import manager

        def make_audit(original):
            def _update_available_resource_for_node(self, context, nodename,
                                                    startup=False):
                result = original(self, context, nodename, startup=startup)
                try:
                    end_abandoned(self, context)
                except Exception:
                    LOG.exception('Could not end the live migrations left '
                                  'accepted on this host; the next audit '
                                  'tries again')
                return result
            return _update_available_resource_for_node

        def make_live_migration(original):
            def live_migration(self, context, dest, instance,
                               block_migration, migration, migrate_data):
                if pci_migration.carries_pci_mapping(migrate_data):
                    ended = ended_before_handed_over(context, migration)
                    if ended:
                        LOG.warning('Refusing live migration %s: it ended '
                                    '(%s) before its conductor handed it '
                                    'to this host', migration.uuid, ended,
                                    instance=instance)
                        return
                return original(self, context, dest, instance,
                                block_migration, migration, migrate_data)
            return live_migration

        base.wrap(manager.ComputeManager,
                  '_update_available_resource_for_node', make_audit)
        base.wrap(manager.ComputeManager, 'live_migration',
                  make_live_migration)


CHANGE = ComputeLiveMigrationAbandonedChecks()
