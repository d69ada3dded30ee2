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

"""Clean up after a live migration whose source compute died.

When a source nova-compute is killed (or its host restarts) during a live
migration, Nova, once the service is back, marks the migration ``error``
and leaves the server on the source, but nothing more: the server's
placement allocation stays on the destination (the migration holds the
source's), and the destination keeps the VFs it claimed for the server.
Its resource audit counts ``error`` migrations as in progress (for failed
evacuations), so it never frees them: they are lost to other servers.
Nova 2025.1+ does the same. A migration still ``queued`` (in Nova's
``max_concurrent_live_migrations`` queue or the PF limit's wait) or
``preparing`` is not reset at all: it keeps that status for good, and with
it the destination's claim and a place under the PF limit. This change, on
every series:

- the source, as it resets such a migration at start, also ends a
  ``queued`` or ``preparing`` one ``error``, and moves the allocation back
  from the migration to the server (what a rollback does);
- a compute's audit frees the PCI devices it holds for an ``error`` live
  migration of a server that is not on that compute. The audit reads the
  compute's servers before its migrations, so a server that a later
  migration brought here in between looks absent; the servers of such
  migrations are read again first, and one now on this compute, or
  migrating again, keeps its devices.
"""

from oslo_log import log as logging

from nova_vfio_lm.changes import base

LOG = logging.getLogger(__name__)

#: What a source compute that stopped leaves of its live migrations: Nova
#: resets ``running`` ones itself.
UNFINISHED_STATUSES = ('running', 'preparing', 'queued')


def _unfinished_migration(context, instance):
    """The server's live migration its source left unfinished, or None."""
    from nova import exception
    from nova import objects

    for status in UNFINISHED_STATUSES:
        try:
            return objects.Migration.get_by_instance_and_status(
                context, instance.uuid, status)
        except exception.MigrationNotFoundByStatus:
            continue
    return None


def _stale_live_migrations(instances, migrations):
    """``error`` live migrations of servers not on this compute."""
    here = {instance.uuid for instance in instances}
    return [migration for migration in migrations
            if migration.status == 'error'
            and migration.migration_type == 'live-migration'
            and migration.instance_uuid not in here]


def _arrived_or_moving(tracker, stale):
    """Servers of ``stale`` migrations whose devices here may be in use.

    Those now on the tracker's node, and those live-migrating again.
    """
    from nova.compute import task_states
    from nova import objects

    node = getattr(tracker, '_vfio_lm_node', None)
    if node is None:
        node = objects.ComputeNode.get_by_id(tracker._context,
                                             tracker.node_id)
        tracker._vfio_lm_node = node
    found = objects.InstanceList.get_by_filters(
        tracker._context, {'uuid': sorted({m.instance_uuid for m in stale})},
        expected_attrs=[])
    return {instance.uuid for instance in found
            if (instance.host, instance.node) == (
                node.host, node.hypervisor_hostname) or
            instance.task_state == task_states.MIGRATING}


class LiveMigrationInterruptedCleanup(base.Change):
    name = 'live_migration_interrupted_cleanup'
    summary = ('a source compute restarted mid-migration gives the server '
               'its allocation back; destinations free its VFs at audit')
    series = base.EVERY_SERIES

    def _apply(self):
        from nova.compute import manager as compute_manager
        from nova.pci import manager as pci_manager

        def make_reset(original):
            def _reset_live_migration(self, context, instance):
                migration = _unfinished_migration(context, instance)
                result = original(self, context, instance)
                if migration is not None:
                    LOG.info('Live migration %s (%s) was interrupted by this '
                             'service stopping: the server stays here and '
                             'gets its allocation back', migration.uuid,
                             migration.status, instance=instance)
                    if migration.status != 'running':  # Nova's own reset
                        self._set_migration_status(migration, 'error')
                    self._revert_allocation(context, instance, migration)
                return result
            return _reset_live_migration

        def make_clean(original):
            def clean_usage(self, instances, migrations):
                stale = _stale_live_migrations(instances, migrations)
                if stale:
                    kept = _arrived_or_moving(self, stale)
                    stale = [m for m in stale if m.instance_uuid not in kept]
                    migrations = [m for m in migrations if m not in stale]
                return original(self, instances, migrations)
            return clean_usage

        base.wrap(compute_manager.ComputeManager, '_reset_live_migration',
                  make_reset)
        base.wrap(pci_manager.PciDevTracker, 'clean_usage', make_clean)


CHANGE = LiveMigrationInterruptedCleanup()
