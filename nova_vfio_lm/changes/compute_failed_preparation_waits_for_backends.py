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

"""The source's clean-up of a failed preparation waits for the backends.

When the destination's ``pre_live_migration`` fails because the database
is down (a failover), Nova's clean-up on the source fails on the same
database at its first save: the migration stays ``preparing`` and the
server ``migrating`` for good, the destination's claims with it. For
migrations that carry PCI device mappings this change, on every series,
first waits until the database and neutron answer a read
(:mod:`nova_vfio_lm.backend_wait`), then runs Nova's clean-up: migration
``error``, server ACTIVE on the source, the destination's claims freed.
"""

from nova_vfio_lm import backend_wait
from nova_vfio_lm.changes import base
from nova_vfio_lm import pci_migration


class ComputeFailedPreparationWaitsForBackends(base.Change):
    name = 'compute_failed_preparation_waits_for_backends'
    summary = ("the source's clean-up of a failed live-migration "
               'preparation waits for the database and neutron to answer')
    series = base.EVERY_SERIES

    def _apply(self):
        from nova.compute import manager

        def make(original):
            def _cleanup_pre_live_migration(self, context, dest, instance,
                                            migration, migrate_data,
                                            source_bdms):
                if pci_migration.carries_pci_mapping(migrate_data):
                    backend_wait.wait(
                        context, instance,
                        'the preparation of the live migration failed',
                        'its clean-up')
                return original(self, context, dest, instance, migration,
                                migrate_data, source_bdms)
            return _cleanup_pre_live_migration

        base.wrap(manager.ComputeManager, '_cleanup_pre_live_migration',
                  make)


CHANGE = ComputeFailedPreparationWaitsForBackends()
