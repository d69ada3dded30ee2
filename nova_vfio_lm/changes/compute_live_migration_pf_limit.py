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

"""At most ``[vfio_lm] max_migrating_vfs_per_pf`` VFs of one PF migrating.

A VFIO variant driver moves each VF's state through its PF's firmware, and
NVIDIA's guidance for ConnectX-7 is at most 4 VFs of one PF in live
migration at the same time. Nova (every release) knows no such limit. This
change, on every series:

- **waits** on the source compute, before anything of the guest moves (before
  the destination's ``pre_live_migration``, the migration still ``queued``),
  while the migration's VFs would put its source PF or its destination PF over
  the limit. It waits outside Nova's own ``max_concurrent_live_migrations``
  queue, in a thread of its own, so a migration waiting for a PF does not keep
  another one (of other PFs, or without VFs) from its place; once its PFs have
  room it joins that queue and, when its place there comes, takes its turn; if
  another migration took the room meanwhile it gives that place back and waits
  outside again. The VFs in migration are counted across the cloud from the
  database: the live-migratable VFs (allocated on the source, claimed on the
  destination) of every live migration past that point (``preparing``,
  ``running``, ``post-migrating``) that touches either host. A migration takes
  its turn by setting itself ``preparing`` and counting again: if the PFs are
  then over the limit it goes back to ``queued``, so two computes deciding at
  once cannot both pass the last place. The wait is bounded (``[vfio_lm]
  max_migrating_vfs_wait``): then the migration is rolled back as one whose
  preparation failed (status ``error``, server ACTIVE on its source,
  destination claims freed). An abort while it waits rolls it back the same
  way, ``cancelled``; an error while it waits (the database or the conductor
  not answering) the same way, ``error``.
- **prefers**, on the destination's pre-check, the VFs of PFs that have
  fewer VFs in live migration (any in-progress status) than the limit:
  the PCI claim's pools, one per PF, are ordered so that those come first,
  keeping Nova's order otherwise. With PCI in placement the PF is the one
  placement allocated, and the wait alone keeps the limit.

A server whose own VFs on one PF exceed the limit migrates alone on that
PF rather than never. A migration whose source nova-compute Nova sees down
(no report for ``[DEFAULT] service_down_time``) does not count: its job
ended with that compute, and the compute ends the record when it starts.
"""

import collections
import random
import threading
import time

from oslo_log import log as logging

from nova_vfio_lm import backend_wait
from nova_vfio_lm.changes import base
from nova_vfio_lm import pci_migration

LOG = logging.getLogger(__name__)

#: Live migrations whose VFs are moving: past the wait, not yet ended.
MOVING_STATUSES = ('preparing', 'running', 'post-migrating')
#: Live migrations that hold VFs for a move (the destination claims them at
#: the pre-check, while the migration is ``accepted``).
IN_PROGRESS_STATUSES = ('accepted', 'pre-migrating', 'queued') + (
    MOVING_STATUSES)
#: Seconds between two looks at the database while a migration waits
#: (each look is a little longer or shorter, so that computes waiting for
#: the same PF do not take their turns in step).
POLL_INTERVAL = 1.0

GO = 'go'
BUSY = 'busy'
ABORTED = 'aborted'
TIMED_OUT = 'timed out'
FAILED = 'failed'

#: one compute decides for one of its migrations at a time
_TURN_LOCK = threading.Lock()
#: what the destination's claim in this thread should avoid
_PREFERENCE = threading.local()
#: ``{instance uuid: migration uuid}`` of migrations waiting in this
#: process, for ``nova-vfio-lm`` diagnostics and tests
_WAITING = {}
#: migrations already logged as not counted (their source is down)
_NOT_COUNTED = set()
#: ``{migration uuid: monotonic deadline}``: one bound for the wait outside
#: Nova's queue and the turn inside it
_DEADLINES = {}
#: migrations whose wait is logged (once, however often they look)
_LOGGED_WAITING = set()


def waiting_migrations():
    """Instance uuid to migration uuid of the migrations waiting here."""
    return dict(_WAITING)


def _conf():
    import nova.conf
    return nova.conf.CONF.vfio_lm


def limit():
    return _conf().max_migrating_vfs_per_pf


def _sources_up(context, migrations):
    """The source hosts of ``migrations`` whose nova-compute is up."""
    from nova import exception
    from nova import objects
    from nova import servicegroup

    group = servicegroup.API()
    up = set()
    for host in {m.source_compute for m in migrations}:
        try:
            service = objects.Service.get_by_compute_host(context, host)
        except exception.ComputeHostNotFound:
            continue
        if group.service_is_up(service):
            up.add(host)
    return up


def _counted(context, migrations):
    """``migrations`` whose source compute is up; the others are logged."""
    up = _sources_up(context, migrations)
    for migration in migrations:
        if (migration.source_compute not in up and
                migration.uuid not in _NOT_COUNTED):
            _NOT_COUNTED.add(migration.uuid)
            LOG.warning('Live migration %s (%s) is not counted against '
                        '[vfio_lm] max_migrating_vfs_per_pf: its source '
                        'compute %s is down', migration.uuid,
                        migration.status, migration.source_compute)
    return [m for m in migrations if m.source_compute in up]


def moving_vfs(context, hosts, statuses, instance_uuid):
    """Live-migratable VFs in live migration on the PFs of ``hosts``.

    Counts the VFs (allocated on a source, claimed or allocated on a
    destination) of every live migration in one of ``statuses`` that
    touches one of the hosts, from the database.

    :returns: ``(others, mine, hosts)``: ``Counter({(compute node id, PF
        address): VFs})`` of the other migrations, the same for
        ``instance_uuid``'s VFs there, and ``{compute node id: host}``.
    """
    from nova import exception
    from nova import objects

    others = collections.Counter()
    mine = collections.Counter()
    node_hosts = {}
    for host in sorted(set(hosts)):
        migrating = {m.instance_uuid for m in _counted(
            context, objects.MigrationList.get_by_filters(context, {
                'migration_type': 'live-migration',
                'status': list(statuses), 'host': host}))}
        try:
            nodes = objects.ComputeNodeList.get_all_by_host(context, host)
        except exception.ComputeHostNotFound:
            continue
        for node in nodes:
            node_hosts[node.id] = host
            # every status: PciDeviceList.get_by_instance_uuid has only
            # the allocated devices, not a destination's claims
            for device in objects.PciDeviceList.get_by_compute_node(
                    context, node.id):
                if not (device.parent_addr and
                        device.status in ('claimed', 'allocated') and
                        pci_migration.is_live_migratable_device(device)):
                    continue
                key = (node.id, device.parent_addr)
                if device.instance_uuid == instance_uuid:
                    mine[key] += 1
                elif device.instance_uuid in migrating:
                    others[key] += 1
    return others, mine, node_hosts


def over_limit(context, instance, migration):
    """``[(PF, host, others' VFs, this migration's VFs)]`` over the limit.

    A PF no other migration uses never counts as over it.
    """
    others, mine, node_hosts = moving_vfs(
        context, (migration.source_compute, migration.dest_compute),
        MOVING_STATUSES, instance.uuid)
    most = limit()
    return [(pf, node_hosts[node_id], others[(node_id, pf)], count)
            for (node_id, pf), count in sorted(mine.items())
            if others[(node_id, pf)] and
            others[(node_id, pf)] + count > most]


def _describe(busy):
    return '; '.join(
        'PF %s on %s has %d VF(s) migrating, this migration adds %d' % entry
        for entry in busy)


def _deadline(migration):
    return _DEADLINES.setdefault(
        migration.uuid, time.monotonic() + _conf().max_migrating_vfs_wait)


def _forget(migration):
    """The migration waits no more: its bound and its log marks go."""
    _DEADLINES.pop(migration.uuid, None)
    _LOGGED_WAITING.discard(migration.uuid)


def wait_for_turn(manager, instance, migration, take_turn=True):
    """Wait until this migration's VFs fit under the limit on every PF.

    :param take_turn: in Nova's queue, right before the migration starts:
        one look; set the migration ``preparing`` if its VFs fit, else
        return ``BUSY`` (it then gives its place in the queue back).
        Without it (outside Nova's queue): wait until they fit.
    :returns: ``GO`` (with the migration ``preparing`` if ``take_turn``),
        ``BUSY``, ``ABORTED`` when the API aborted it meanwhile (Nova's
        abort takes it out of the compute's waiting migrations), or
        ``TIMED_OUT``.
    """
    from nova import context as nova_context

    deadline = _deadline(migration)
    _WAITING[instance.uuid] = migration.uuid
    try:
        while True:
            if instance.uuid not in manager._waiting_live_migrations:
                LOG.info('Live migration %s aborted while it waited for '
                         'its PFs', migration.uuid, instance=instance)
                return ABORTED
            context = nova_context.get_admin_context()
            busy = over_limit(context, instance, migration)
            if not busy and not take_turn:
                if instance.uuid in manager._waiting_live_migrations:
                    return GO
                continue  # aborted during the count: the next look says so
            if not busy:
                with _TURN_LOCK:
                    # take the turn, then count again: a compute that took
                    # it meanwhile sees this one, or this one sees it
                    manager._set_migration_status(migration, 'preparing')
                    busy = over_limit(context, instance, migration)
                    if not busy:
                        if migration.uuid in _LOGGED_WAITING:
                            LOG.info('Live migration %s goes on: its PFs '
                                     'are below [vfio_lm] '
                                     'max_migrating_vfs_per_pf = %d',
                                     migration.uuid, limit(),
                                     instance=instance)
                        return GO
                    manager._set_migration_status(migration, 'queued')
            if migration.uuid not in _LOGGED_WAITING:
                LOG.info('Live migration %s waits: %s; [vfio_lm] '
                         'max_migrating_vfs_per_pf = %d',
                         migration.uuid, _describe(busy), limit(),
                         instance=instance)
                _LOGGED_WAITING.add(migration.uuid)
            if time.monotonic() >= deadline:
                LOG.error('Live migration %s gave up after waiting %d '
                          'seconds ([vfio_lm] max_migrating_vfs_wait): %s',
                          migration.uuid,
                          _conf().max_migrating_vfs_wait,
                          _describe(busy), instance=instance)
                return TIMED_OUT
            if take_turn:
                return BUSY
            time.sleep(POLL_INTERVAL * random.uniform(0.5, 1.5))  # nosec
    finally:
        _WAITING.pop(instance.uuid, None)


def _waited(manager, context, instance, dest, migration, migrate_data,
            take_turn):
    """Wait for the PFs; roll back unless ``GO`` or ``BUSY`` (returned)."""
    try:
        outcome = wait_for_turn(manager, instance, migration, take_turn)
    except Exception:
        LOG.exception('Live migration %s failed while it waited for its '
                      'PFs ([vfio_lm] max_migrating_vfs_per_pf); it is '
                      'rolled back and the server stays here',
                      migration.uuid, instance=instance)
        outcome = FAILED
    if outcome in (GO, BUSY):
        return outcome
    _forget(migration)
    if outcome == FAILED:
        # most likely the database or the conductor, which the rollback
        # needs as well: rolled back once they answer, not lost on them
        backend_wait.wait(context, instance,
                          'the live migration failed while it waited for '
                          'its PFs', 'its rollback')
    try:
        roll_back_waiting(manager, context, instance, dest, migration,
                          migrate_data,
                          'cancelled' if outcome == ABORTED else 'error')
    except Exception:
        LOG.exception('Live migration %s could not be rolled back after '
                      'its wait for its PFs: the server stays migrating. '
                      'Once the database and neutron answer, restart this '
                      'nova-compute: it ends the migration and leaves the '
                      'server ACTIVE here', migration.uuid, instance=instance)
        return None
    if outcome == ABORTED:
        manager._notify_live_migrate_abort_end(context, instance)
    return None


def wait_outside_the_queue(manager, context, dest, instance,
                           block_migration, migration, migrate_data):
    """Nova's ``live_migration`` again, once the migration's PFs have room.

    Until then the migration is ``queued`` and abortable as Nova's own
    queued ones are (the caller put it among the compute's waiting
    migrations), but takes no place in Nova's queue.
    """
    def wait_then_join():
        if _waited(manager, context, instance, dest, migration,
                   migrate_data, take_turn=False) != GO:
            return
        try:
            manager.live_migration(context, dest, instance,
                                   block_migration, migration, migrate_data)
        except Exception:
            # the compute is stopping: it ends the record when it starts
            _forget(migration)
            LOG.exception('Live migration %s could not join the queue '
                          'after its wait for its PFs', migration.uuid,
                          instance=instance)

    threading.Thread(target=wait_then_join, daemon=True,
                     name='vfio-lm-pf-wait-%s' % migration.uuid).start()


def _busy_now(instance, migration):
    """Whether the PFs are at the limit now; an error counts as busy.

    The wait that follows then meets the error again and rolls back.
    """
    from nova import context as nova_context
    try:
        return bool(over_limit(nova_context.get_admin_context(), instance,
                               migration))
    except Exception:
        return True


def roll_back_waiting(manager, context, instance, dest, migration,
                      migrate_data, status):
    """Undo what the conductor and the destination's pre-check did.

    Nothing of the guest moved and the destination's ``pre_live_migration``
    never ran: Nova's rollback for a failed preparation frees the
    destination's claims, allocations and port bindings and leaves the
    server ACTIVE on this host, the migration in ``status``.
    """
    from nova import objects

    manager._waiting_live_migrations.pop(instance.uuid, None)
    source_bdms = objects.BlockDeviceMappingList.get_by_instance_uuid(
        context, instance.uuid)
    migrate_data.migration = migration
    manager._rollback_live_migration(
        context, instance, dest, migrate_data, status,
        source_bdms=source_bdms, pre_live_migration=True)


def prefer_pools(pools, rp_uuids):
    """Pools of PFs below the limit first; Nova's order otherwise."""
    busy = getattr(_PREFERENCE, 'busy', None)
    if not busy or not pools or rp_uuids:
        return pools
    ordered = sorted(pools, key=lambda pool: pool.get('address') in busy)
    if ordered != pools:
        LOG.debug('PCI claim prefers VFs of PFs with fewer than [vfio_lm] '
                  'max_migrating_vfs_per_pf VFs migrating; at the limit: %s',
                  ', '.join(sorted(busy)))
    return ordered


def busy_pfs_here(manager, context, instance):
    """This host's PFs with at least the limit of VFs in live migration."""
    tracker = manager.rt.pci_tracker
    if tracker is None:
        return set()
    counts, _mine, _hosts = moving_vfs(
        context, [manager.host], IN_PROGRESS_STATUSES, instance.uuid)
    most = limit()
    return {pf for (node_id, pf), count in counts.items()
            if node_id == tracker.node_id and count >= most}


class ComputeLiveMigrationPfLimit(base.Change):
    name = 'compute_live_migration_pf_limit'
    summary = ('at most [vfio_lm] max_migrating_vfs_per_pf VFs of one PF in '
               'live migration at once: a migration waits before anything '
               'moves; the destination prefers VFs of PFs below the limit')
    series = base.EVERY_SERIES

    def _apply(self):
        from nova.compute import manager
        from nova.pci import stats

        def make_do_live_migration(original):
            def _do_live_migration(self, context, dest, instance,
                                   block_migration, migration, migrate_data):
                if not pci_migration.carries_pci_mapping(migrate_data):
                    return original(self, context, dest, instance,
                                    block_migration, migration, migrate_data)
                outcome = _waited(self, context, instance, dest, migration,
                                  migrate_data, take_turn=True)
                if outcome == BUSY:
                    # another migration took the room while this one
                    # waited for its place: give the place back
                    if instance.uuid not in self._waiting_live_migrations:
                        _forget(migration)  # aborted meanwhile
                        roll_back_waiting(self, context, instance, dest,
                                          migration, migrate_data,
                                          'cancelled')
                        self._notify_live_migrate_abort_end(context,
                                                            instance)
                        return
                    self._waiting_live_migrations[instance.uuid] = (
                        None, None)
                    wait_outside_the_queue(
                        self, context, dest, instance, block_migration,
                        migration, migrate_data)
                    return
                if outcome != GO:
                    return
                _forget(migration)
                return original(self, context, dest, instance,
                                block_migration, migration, migrate_data)
            return _do_live_migration

        def make_live_migration(original):
            def live_migration(self, context, dest, instance,
                               block_migration, migration, migrate_data):
                if (not pci_migration.carries_pci_mapping(migrate_data) or
                        not _busy_now(instance, migration)):
                    return original(self, context, dest, instance,
                                    block_migration, migration, migrate_data)
                self._waiting_live_migrations[instance.uuid] = (None, None)
                self._set_migration_status(migration, 'queued')
                wait_outside_the_queue(
                    self, context, dest, instance, block_migration,
                    migration, migrate_data)
            return live_migration

        def make_dest_check(original):
            def check_can_live_migrate_destination(self, ctxt, instance,
                                                   *args, **kwargs):
                busy = set()
                if pci_migration.has_pci_requests(instance):
                    from nova import context as nova_context
                    busy = busy_pfs_here(
                        self, nova_context.get_admin_context(), instance)
                _PREFERENCE.busy = busy
                try:
                    return original(self, ctxt, instance, *args, **kwargs)
                finally:
                    _PREFERENCE.busy = None
            return check_can_live_migrate_destination

        def make_filter_pools(original):
            def _filter_pools(self, pools, request, numa_cells, rp_uuids):
                return prefer_pools(
                    original(self, pools, request, numa_cells, rp_uuids),
                    rp_uuids)
            return _filter_pools

        base.wrap(manager.ComputeManager, '_do_live_migration',
                  make_do_live_migration)
        base.wrap(manager.ComputeManager, 'live_migration',
                  make_live_migration)
        base.wrap(manager.ComputeManager,
                  'check_can_live_migrate_destination', make_dest_check)
        base.wrap(stats.PciDeviceStats, '_filter_pools', make_filter_pools)


CHANGE = ComputeLiveMigrationPfLimit()
