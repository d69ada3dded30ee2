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

"""The conductor's rollback of a failed live-migration check waits.

When the database goes down while the conductor checks a live migration
(a failover while the destination answers the pre-check), the check fails
and Nova's rollback fails in turn: placement cannot hand the server's
allocation back from the migration (Keystone's tokens need the database),
and the conductor's error path cannot save the server or the migration.
The migration stays ``accepted`` and the server ``migrating`` for good,
its source allocation held by the migration. For servers with PCI
requests this change, on every series, first waits until the database
(and placement, once the allocation was moved) answers a read
(:mod:`nova_vfio_lm.backend_wait`), then runs Nova's rollback and error
path: migration ``error``, server ACTIVE on its source, the allocation
back with the server.
"""

from nova_vfio_lm import backend_wait
from nova_vfio_lm.changes import base
from nova_vfio_lm import pci_migration


class ConductorRollbackWaitsForBackends(base.Change):
    name = 'conductor_rollback_waits_for_backends'
    summary = ("the conductor's rollback of a failed live-migration check "
               'waits for the database and placement to answer')
    series = base.EVERY_SERIES

    def _apply(self):
        from nova.conductor.tasks import live_migrate

        def make(original):
            def rollback(self, ex):
                if pci_migration.has_pci_requests(self.instance,
                                                  loaded_only=True):
                    reads = [backend_wait.DATABASE]
                    if self._held_allocations:
                        reads.append(
                            backend_wait.placement(self.migration.uuid))
                    backend_wait.wait(
                        self.context, self.instance,
                        'the live migration failed before it started',
                        'its rollback', reads)
                return original(self, ex)
            return rollback

        base.wrap(live_migrate.LiveMigrationTask, 'rollback', make)


CHANGE = ConductorRollbackWaitsForBackends()
