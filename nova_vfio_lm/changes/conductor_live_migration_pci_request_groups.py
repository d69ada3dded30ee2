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

"""Ask placement for the destination's PCI providers during live migration.

With ``[filter_scheduler] pci_in_placement``, Nova 2024.1/2024.2 turns
flavor PCI requests into placement request groups at boot, resize and cold
migration, but not when the conductor asks the scheduler for a live
migration destination: the destination's allocation then has no PCI
resources, and the server's PCI usage vanishes from placement when the
source allocation is dropped. This change regenerates those request groups
for live migrations of servers with live-migratable flavor VFs, so the
allocation moves to the destination's PCI providers (as Nova 2025.1+
does), and the conductor's existing provider mapping then pins the
destination claim to the providers placement allocated.
"""

from nova_vfio_lm.changes import base
from nova_vfio_lm import pci_migration


class ConductorLiveMigrationPciRequestGroups(base.Change):
    name = 'conductor_live_migration_pci_request_groups'
    summary = ('live migration asks placement for PCI resources on the '
               'destination (pci_in_placement)')
    series = frozenset({29, 30})

    def _apply(self):
        from nova.conductor.tasks import live_migrate

        def make(original):
            def _get_request_spec_for_select_destinations(
                    self, attempted_hosts=None):
                request_spec = original(self, attempted_hosts)
                if pci_migration.migratable_flavor_requests(self.instance):
                    # the original reset requested_resources to the ports'
                    request_spec.generate_request_groups_from_pci_requests()
                return request_spec
            return _get_request_spec_for_select_destinations

        base.wrap(live_migrate.LiveMigrationTask,
                  '_get_request_spec_for_select_destinations', make)


CHANGE = ConductorLiveMigrationPciRequestGroups()
