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

"""Claim live-migratable destination VFs for ports that move with state.

Nova claims a destination VF for each SR-IOV port at the live-migration
pre-check, from any VF on the port's physical network, because it unplugs
the port anyway. A port whose source VF is live-migratable keeps its
device attached only if the destination VF is live-migratable too. This
change, on the destination, claims a live-migratable VF for such ports,
marks them ``vfio_lm_moves`` in the migration data once both ends are, and
refuses the migration at pre-check (instead of failing it) when no such VF
is free. Nova then updates the port binding to the destination VF as it
always does.
"""

from oslo_log import log as logging

from nova_vfio_lm.changes import base
from nova_vfio_lm import pci_migration

LOG = logging.getLogger(__name__)


class ComputeLiveMigrationPortClaim(base.Change):
    name = 'compute_live_migration_port_claim'
    summary = ('ports on live-migratable VFs claim live-migratable '
               'destination VFs and are marked to move with their state')
    series = base.EVERY_SERIES

    def _apply(self):
        from nova.compute import manager
        from nova import exception

        def make_claim(original):
            def _claim_pci_for_instance_vifs(self, ctxt, instance):
                moving = pci_migration.moving_port_request_ids(instance)
                with pci_migration.requiring_live_migratable(
                        pci_migration.port_requests(instance),
                        moving) as required:
                    try:
                        return original(self, ctxt, instance)
                    except exception.PciDeviceRequestFailed as exc:
                        if not required:
                            raise
                        raise exception.MigrationPreCheckError(
                            reason='not enough free live-migratable VFs for '
                                   'the ports on %s: %s' % (
                                       self.host, exc.format_message()))
            return _claim_pci_for_instance_vifs

        def make_mark(original):
            def _update_migrate_vifs_profile_with_pci(self, migrate_vifs,
                                                      port_id_to_pci_dev):
                original(self, migrate_vifs, port_id_to_pci_dev)
                for vif in migrate_vifs:
                    dest = port_id_to_pci_dev.get(vif.port_id)
                    if dest is None or 'vfio_lm_moves' not in vif.fields:
                        continue
                    # the binding fields are not filled in yet here
                    vnic_type = vif.source_vif.get('vnic_type')
                    if not pci_migration.port_device_moves(vnic_type, dest):
                        continue
                    source_address = (vif.source_vif.get('profile') or
                                      {}).get('pci_slot')
                    held = pci_migration.instance_devices(dest.instance_uuid)
                    sources = [d for d in held
                               if d.address == source_address and
                               d.request_id == dest.request_id]
                    if sources and pci_migration.port_device_moves(
                            vnic_type, sources[0]):
                        vif.vfio_lm_moves = True
                        LOG.info('Port %(port)s moves with its VF state: '
                                 '%(source)s -> %(dest)s on this host',
                                 {'port': vif.port_id,
                                  'source': source_address,
                                  'dest': dest.address})
            return _update_migrate_vifs_profile_with_pci

        base.wrap(manager.ComputeManager, '_claim_pci_for_instance_vifs',
                  make_claim)
        base.wrap(manager.ComputeManager,
                  '_update_migrate_vifs_profile_with_pci', make_mark)


CHANGE = ComputeLiveMigrationPortClaim()
