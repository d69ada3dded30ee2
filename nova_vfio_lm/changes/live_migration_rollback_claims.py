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

"""Free the destination's PCI claims whenever a live migration rolls back.

Stock Nova asks the destination to roll back a failed live migration only
when the destination has something to clean up (for example no shared
instance storage); otherwise the VFs claimed there stay claimed until a
periodic task notices, and may block the next migration. Nova 2025.1+ does
the same. This change, on every series, has the source send the rollback
anyway when the migration carried PCI device mappings, flagged so that the
destination frees its PCI claims for the server and does nothing else (so
shared instance files are never touched); the flag is a field the change
adds to ``LibvirtLiveMigrateData``.

A resource audit that runs on the destination while the state moves turns
its claims into allocations (Nova counts an incoming migration's devices
as used), and Nova's rollback frees only claims: those VFs then stay
allocated to a server that never arrived until the next audit. Every
rollback at the destination also frees what this host allocated to a
server that is not on it.
"""

from oslo_log import log as logging

from nova_vfio_lm.changes import base
from nova_vfio_lm import pci_migration

LOG = logging.getLogger(__name__)


class LiveMigrationRollbackClaims(base.Change):
    name = 'live_migration_rollback_claims'
    summary = ('destination PCI claims freed on every live migration '
               'rollback, shared storage included')
    series = base.EVERY_SERIES

    def _apply(self):
        from nova.compute import manager
        from nova.objects import fields

        base.add_migrate_data_fields({
            'vfio_lm_release_claims_only': fields.BooleanField(default=False),
        })

        def make_source(original):
            def _rollback_live_migration(self, context, instance, dest,
                                         migrate_data=None, *args, **kwargs):
                release = False
                if pci_migration.carries_pci_mapping(migrate_data):
                    do_cleanup, _destroy = self._live_migration_cleanup_flags(
                        migrate_data, migr_ctxt=instance.migration_context)
                    release = not do_cleanup
                result = original(self, context, instance, dest,
                                  migrate_data, *args, **kwargs)
                if release:
                    request = migrate_data.obj_clone()
                    request.vfio_lm_release_claims_only = True
                    self.compute_rpcapi.rollback_live_migration_at_destination(
                        context, instance, dest, destroy_disks=False,
                        migrate_data=request)
                return result
            return _rollback_live_migration

        def make_dest(original):
            def rollback_live_migration_at_destination(
                    self, context, instance, destroy_disks, migrate_data):
                try:
                    if (migrate_data is not None and
                            'vfio_lm_release_claims_only' in migrate_data and
                            migrate_data.vfio_lm_release_claims_only):
                        LOG.info('Live migration rolled back: freeing the '
                                 'PCI devices claimed on this host',
                                 instance=instance)
                        self.rt.free_pci_device_claims_for_instance(
                            context, instance)
                        return None
                    return original(self, context, instance, destroy_disks,
                                    migrate_data)
                finally:
                    if instance.host != self.host:
                        # what an audit allocated during the migration
                        self.rt.free_pci_device_allocations_for_instance(
                            context, instance)
            return rollback_live_migration_at_destination

        base.wrap(manager.ComputeManager, '_rollback_live_migration',
                  make_source)
        base.wrap(manager.ComputeManager,
                  'rollback_live_migration_at_destination', make_dest)


CHANGE = LiveMigrationRollbackClaims()
