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

"""A destination the conductor gives up after its pre-check frees its VFs.

The destination's pre-check claims VFs for the server: Nova's own for
SR-IOV ports, the plugin's for flavor devices. The conductor then binds the
ports there; if neutron refuses, the conductor skips the host (or ends the
migration) and removes the placement allocation, but nothing tells the
destination, and its VFs stay claimed until its next resource audit (every
series, Nova 2025.1+ included). This change has the conductor send that
destination the claims-only rollback of ``live_migration_rollback_claims``
whenever the checks on a host fail after its pre-check answered, provided
the destination marked its answer as running the plugin (a stock
destination would run a full rollback).
"""

from oslo_log import log as logging

from nova_vfio_lm.changes import base
from nova_vfio_lm import pci_migration

LOG = logging.getLogger(__name__)


class ConductorLiveMigrationSkippedHostClaims(base.Change):
    name = 'conductor_live_migration_skipped_host_claims'
    summary = ('a destination skipped after its pre-check (e.g. port '
               'binding refused) frees the VFs it claimed')
    series = base.EVERY_SERIES

    def _apply(self):
        from nova.conductor.tasks import live_migrate

        def make(original):
            def _call_livem_checks_on_host(self, destination, *args,
                                           **kwargs):
                before = self.migrate_data
                try:
                    return original(self, destination, *args, **kwargs)
                except Exception:
                    answered = self.migrate_data
                    if (answered is not before and
                            pci_migration.has_pci_requests(self.instance) and
                            pci_migration.peer_runs_plugin(answered,
                                                           'vfio_lm_dest')):
                        LOG.info('Live migration checks failed on %s after '
                                 'its pre-check: asking it to free the PCI '
                                 'devices it claimed', destination,
                                 instance=self.instance)
                        request = answered.obj_clone()
                        request.vfio_lm_release_claims_only = True
                        self.compute_rpcapi.\
                            rollback_live_migration_at_destination(
                                self.context, self.instance, destination,
                                destroy_disks=False, migrate_data=request)
                    raise
            return _call_livem_checks_on_host

        base.wrap(live_migrate.LiveMigrationTask,
                  '_call_livem_checks_on_host', make)


CHANGE = ConductorLiveMigrationSkippedHostClaims()
