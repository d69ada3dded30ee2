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

"""Live migration with PCI devices tracked in placement.

With ``[pci]report_in_placement`` and ``[filter_scheduler]
pci_in_placement``, a server's VFs are placement allocations on the PCI
providers of its host. They must move with the server to the providers of
the destination VFs, and stay on the source when the migration fails.
"""

from nova_vfio_lm_cloud.inprocess import cloud
from tests.functional import test_live_migration


class _PlacementCloud(test_live_migration._LiveMigrationCloud):
    """Every VF live-migratable; PCI in placement."""

    PCI_DEVICE_SPEC = cloud.split_device_specs((1, 2, 3, 4), ())

    def setUp(self):
        # read by each compute as it starts, and by the scheduler
        self.enable_pci_in_placement()
        super().setUp()

    def used_vfs(self, hostname):
        """``{provider name: VFs used}`` of the host's PCI providers."""
        return {name: sum(usages.values())
                for name, usages in self.pci_usages(hostname).items()}

    def server_pci_providers(self, server_id):
        """The providers of the server's allocation that hold PCI."""
        allocations = self._get_allocations_by_server_uuid(server_id)
        return {rp for rp, alloc in allocations.items()
                if any(rc.startswith('CUSTOM_PCI_')
                       for rc in alloc['resources'])}


class PlacementLiveMigrationTest(_PlacementCloud):

    def test_allocations_move_to_destination_providers(self):
        server = self.boot_on('compute1', count=2)
        [source_rp] = [rp['uuid'] for rp in self.pci_providers('compute1')]
        [dest_rp] = [rp['uuid'] for rp in self.pci_providers('compute2')]
        self.assertEqual({source_rp}, self.server_pci_providers(server['id']))

        server, migration = self.live_migrate(server)

        self.assert_landed_on_compute2(server, migration)
        self.assertEqual({dest_rp}, self.server_pci_providers(server['id']))
        self.assertEqual([0], list(self.used_vfs('compute1').values()))
        self.assertEqual([2], list(self.used_vfs('compute2').values()))
        # the request now names the destination provider for later moves
        [request] = self.server_pci_requests(server['id'])
        self.assertEqual({dest_rp},
                         set(request.spec[0]['rp_uuids'].split(',')))


class PlacementFailedLiveMigrationTest(_PlacementCloud):

    HYPERVISOR_FAILS = True

    def test_allocations_stay_on_source_providers(self):
        server = self.boot_on('compute1')
        [source_rp] = [rp['uuid'] for rp in self.pci_providers('compute1')]
        vfs = self.device_addresses(server['id'])

        server, migration = self.live_migrate(server)

        self.assertIn(migration['status'], ('error', 'failed'))
        self.assert_untouched_on_source(server, vfs, (4, 4))
        self.assertEqual({source_rp}, self.server_pci_providers(server['id']))
        self.assertEqual([1], list(self.used_vfs('compute1').values()))
        self.assert_nothing_claimed('compute2')
