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

"""Schedule moving ports onto hosts with a free live-migratable VF.

A port whose VF is live-migratable keeps its device only if the
destination VF is live-migratable too (:mod:`compute_live_migration_port_claim`
claims one at pre-check). Nova's scheduler knows only the port's physical
network, so it may pick a host whose free VFs there cannot take the state,
which the pre-check then refuses. This change, in the conductor, asks the
scheduler for ``live_migratable=true`` VFs for those ports while it looks
for a live-migration destination, so the PCI filter drops such hosts first.
The stored request spec is left as it was.
"""

from nova_vfio_lm.changes import base
from nova_vfio_lm import pci_migration


class ConductorLiveMigrationPortScheduling(base.Change):
    name = 'conductor_live_migration_port_scheduling'
    summary = ('live-migration scheduling asks for live-migratable VFs for '
               'ports that move with their state')
    series = base.EVERY_SERIES

    def _apply(self):
        from nova.conductor.tasks import live_migrate

        def make(original):
            def _find_destination(self):
                pci_requests = self.request_spec.pci_requests
                if not (pci_requests and pci_requests.requests):
                    return original(self)
                with pci_migration.requiring_live_migratable(
                        pci_requests.requests,
                        pci_migration.moving_port_request_ids(self.instance)):
                    return original(self)
            return _find_destination

        base.wrap(live_migrate.LiveMigrationTask, '_find_destination', make)


CHANGE = ConductorLiveMigrationPortScheduling()
