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

"""Claim the destination VFs before a live migration starts.

Stock Nova 2024.1/2024.2 claims PCI devices on the destination only for
neutron ports, and its live-migration move claim (the NUMA path) refuses any
other PCI request. This change, on the destination's pre-check, claims one
VF for each device of every live-migratable flavor PCI request (honouring
the instance's NUMA placement there), records the source to destination
pairs in the migrate data, and frees what it claimed if anything in the
pre-check fails. A source or a destination without the plugin (no peer
mark, see ``live_migrate_data_peer_marks``) is refused at pre-check instead
of losing the mapping. Nova then allocates the claimed VFs after the
migration and frees them on rollback.
"""

from oslo_log import log as logging

from nova_vfio_lm.changes import base
from nova_vfio_lm.changes import precheck
from nova_vfio_lm import pci_migration
from nova_vfio_lm import pci_pools

LOG = logging.getLogger(__name__)


class ComputeLiveMigrationPciClaim(base.Change):
    name = 'compute_live_migration_pci_claim'
    summary = ('destination claims live-migratable VFs at pre-check and '
               'maps them; freed if the pre-check fails')
    series = frozenset({29, 30})

    def _apply(self):
        from nova.compute import claims
        from nova.compute import manager
        from nova import exception
        from nova import objects

        def claim_and_map(compute, ctxt, instance, requests, migrate_data):
            if not pci_migration.peer_runs_plugin(migrate_data,
                                                  'vfio_lm_source'):
                raise exception.MigrationPreCheckError(
                    reason='source compute %s does not run nova-vfio-lm, so '
                           'it cannot move live-migratable PCI devices' %
                           instance.host)
            source_devices = objects.PciDeviceList.get_by_instance_uuid(
                ctxt, instance.uuid)
            dest_topology = (instance.migration_context.new_numa_topology
                             if instance.migration_context else None)
            try:
                claimed = compute.rt.claim_pci_devices(
                    ctxt, objects.InstancePCIRequests(
                        requests=requests, instance_uuid=instance.uuid),
                    dest_topology)
            except exception.PciDeviceRequestFailed as exc:
                raise exception.MigrationPreCheckError(
                    reason='not enough free live-migratable PCI devices on '
                           '%s: %s' % (compute.host, exc.format_message()))
            mapping = pci_migration.pair_devices(
                requests, source_devices, claimed)
            for entry in mapping:
                LOG.info('Claimed %(dest)s on this host for %(source)s',
                         {'dest': entry['dest_address'],
                          'source': entry['source_address']},
                         instance=instance)
            migrate_data.vfio_lm_pci_devices = mapping

        def claim_if_requested(compute, ctxt, instance, migrate_data):
            requests = pci_migration.migratable_flavor_requests(instance)
            if requests:
                claim_and_map(compute, ctxt, instance, requests,
                              migrate_data)

        def make_source(original):
            def check_can_live_migrate_source(self, ctxt, instance,
                                              dest_check_data):
                if (pci_migration.migratable_flavor_requests(instance) and
                        not pci_migration.peer_runs_plugin(dest_check_data,
                                                           'vfio_lm_dest')):
                    raise exception.MigrationPreCheckError(
                        reason='the destination compute does not run '
                               'nova-vfio-lm, so it cannot claim '
                               'live-migratable PCI devices for this server')
                return original(self, ctxt, instance, dest_check_data)
            return check_can_live_migrate_source

        def make_move_claim(original):
            def _test_pci(self):
                if self.migration.is_live_migration:
                    others = [r for r in self._pci_requests.requests
                              if r.source != r.NEUTRON_PORT]
                    if others and all(
                            pci_pools.is_live_migratable_request(r)
                            for r in others):
                        # claimed by the destination pre-check, like ports
                        return None
                return original(self)
            return _test_pci

        precheck.after_destination_check(claim_if_requested)
        base.wrap(manager.ComputeManager, 'check_can_live_migrate_source',
                  make_source)
        base.wrap(claims.MoveClaim, '_test_pci', make_move_claim)


CHANGE = ComputeLiveMigrationPciClaim()
