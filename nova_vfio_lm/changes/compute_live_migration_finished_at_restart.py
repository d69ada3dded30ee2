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

"""A restarted source ends the live migrations its destination finished.

The source's post-migration frees its VFs, cleans up, then calls the
destination's post-migration, which records the server there; only when
that call returns does the source record the migration ``completed`` and
delete the allocation the migration holds on the source. A source killed
while it waits for that call (the call handled meanwhile) leaves the
migration ``running`` and that allocation for good: Nova (every release)
and :mod:`live_migration_interrupted_cleanup` reset at start only the
migrations of servers recorded on the restarting host. This change, on
every series, ends them at start: a live migration from this host still
``running`` or ``post-migrating`` whose server Nova records on the
migration's destination, no longer migrating, becomes ``completed`` and
its allocation is deleted, as Nova's source would have done. If this
host's hypervisor still runs the server's guest, nothing is changed and
an ERROR says so (see the troubleshooting guide).
"""

from oslo_log import log as logging

from nova_vfio_lm.changes import base

LOG = logging.getLogger(__name__)

#: Statuses of a live migration whose source may have died after the
#: switch-over.
AFTER_SWITCH_OVER = ['running', 'post-migrating']


class ComputeLiveMigrationFinishedAtRestart(base.Change):
    name = 'compute_live_migration_finished_at_restart'
    summary = ('a restarted source records completed the live migrations '
               'its destination finished, and deletes their allocations')
    series = base.EVERY_SERIES

    def _apply(self):
        from nova.compute import manager

        def make(original):
            def init_host(self, *args, **kwargs):
                result = original(self, *args, **kwargs)
                _end_finished_migrations(self)
                return result
            return init_host

        base.wrap(manager.ComputeManager, 'init_host', make)


def _finished_elsewhere(context, host):
    """(migration, server) pairs this source left before the end."""
    from nova.compute import task_states
    from nova import exception
    from nova import objects

    migrations = objects.MigrationList.get_by_filters(context, {
        'source_compute': host, 'migration_type': 'live-migration',
        'status': AFTER_SWITCH_OVER})
    for migration in migrations:
        try:
            instance = objects.Instance.get_by_uuid(
                context, migration.instance_uuid, expected_attrs=[])
        except exception.InstanceNotFound:
            continue
        if (instance.host == migration.dest_compute and
                instance.node == migration.dest_node and
                instance.task_state != task_states.MIGRATING):
            yield migration, instance


def _end_finished_migrations(compute):
    """End each such migration; never stop the service's start for it."""
    import nova.context

    context = nova.context.get_admin_context()
    try:
        found = list(_finished_elsewhere(context, compute.host))
    except Exception:
        LOG.exception('Could not look for live migrations this host left '
                      'unfinished; they are looked for at its next start.')
        return
    for migration, instance in found:
        try:
            _end(compute, context, migration, instance)
        except Exception:
            LOG.exception('Could not end live migration %s; it stays %s '
                          'until the next start of this service.',
                          migration.uuid, migration.status,
                          instance=instance)


def _end(compute, context, migration, instance):
    if compute.driver.instance_exists(instance):
        LOG.error('Live migration %s is %s and Nova records the server on '
                  '%s, but its guest runs on this host: the migration is '
                  'left as it is; see "A guest runs where Nova does not '
                  'place it" in the live-migration guide.', migration.uuid,
                  migration.status, instance.host, instance=instance)
        return
    LOG.warning('Live migration %s was left %s by this service stopping '
                'after %s took the server over: recorded completed, its '
                'allocation on this host deleted.', migration.uuid,
                migration.status, instance.host, instance=instance)
    compute._set_migration_status(migration, 'completed')
    try:
        compute._delete_allocation_after_move(context, instance, migration)
    except Exception:
        LOG.exception('The allocation of live migration %s stays in '
                      'placement; delete it with "nova-manage placement '
                      'audit --delete".', migration.uuid, instance=instance)


CHANGE = ComputeLiveMigrationFinishedAtRestart()
