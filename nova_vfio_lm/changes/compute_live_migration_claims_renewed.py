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

"""A destination's pre-check drops what an earlier one claimed for the server.

A destination claims the server's VFs in its live-migration pre-check. If
the conductor never gets the reply (it timed out, or died), it refuses the
migration or tries another host, and nothing tells the destination: the
claim stays until the destination's next resource audit. A retry to the
same host before that audit claims again, and the PCI tracker adds the
new claim to the old one (the flavor VFs and the ports of one pre-check
are two claims that must add up): the server then ends with VFs its guest
never uses, allocated for good. This change, on every series, frees the
server's leftover claims on the host as a new pre-check starts (asking
the hypervisor first, like every free of the plugin's), so each pre-check
claims afresh.

A pre-check can also come too late: a destination stopped (or stalled)
while the call waited handles it when it runs again, after the conductor
gave up. Its migration has ended by then (``error``), or the conductor
chose another host; such a pre-check is refused before it frees or claims
anything, so it can neither claim VFs no one will use nor free the claim
of a retry that reached the host first.
"""

from oslo_log import log as logging

from nova_vfio_lm.changes import base

LOG = logging.getLogger(__name__)


#: statuses of a live migration whose conductor no longer waits for a
#: pre-check
ENDED = ('error', 'failed', 'cancelled', 'completed', 'done')


def refuse_if_too_late(ctxt, host, instance, migration):
    """Refuse a pre-check whose migration ended or went to another host."""
    from nova import exception
    from nova import objects

    if migration is None or not migration.obj_attr_is_set('uuid'):
        return
    try:
        current = objects.Migration.get_by_uuid(ctxt, migration.uuid)
    except Exception:
        # the pre-check meets the same trouble; this look adds none
        LOG.debug('Could not read live migration %s before its pre-check',
                  migration.uuid, instance=instance)
        return
    if current.status in ENDED:
        why = 'it ended (%s) before this pre-check ran' % current.status
    elif current.dest_compute and current.dest_compute != host:
        why = 'it goes to %s now' % current.dest_compute
    else:
        return
    LOG.warning('Refusing a late pre-check of live migration %s: %s (this '
                'host did not answer in time); nothing is claimed here',
                migration.uuid, why, instance=instance)
    raise exception.MigrationPreCheckError(
        reason='live migration %s: %s' % (migration.uuid, why))


class ComputeLiveMigrationClaimsRenewed(base.Change):
    name = 'compute_live_migration_claims_renewed'
    summary = ("a destination's pre-check frees what an earlier pre-check "
               'for the server claimed there before it claims; a pre-check '
               'that comes after its migration ended claims nothing')
    series = base.EVERY_SERIES

    def _apply(self):
        from nova.compute import manager

        def make(original):
            def check_can_live_migrate_destination(self, ctxt, instance,
                                                   *args, **kwargs):
                migration = kwargs.get(
                    'migration', args[2] if len(args) > 2 else None)
                refuse_if_too_late(ctxt, self.host, instance, migration)
                tracker = self.rt.pci_tracker
                if tracker is not None and tracker.claims.get(instance.uuid):
                    LOG.info('Freeing the PCI devices an earlier pre-check '
                             'claimed here for this server (its migration '
                             'never came): this pre-check claims afresh',
                             instance=instance)
                    self.rt.free_pci_device_claims_for_instance(
                        ctxt, instance)
                return original(self, ctxt, instance, *args, **kwargs)
            return check_can_live_migrate_destination

        base.wrap(manager.ComputeManager,
                  'check_can_live_migrate_destination', make)


CHANGE = ComputeLiveMigrationClaimsRenewed()
