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

"""Keep ports on live-migratable VFs attached through a live migration.

Nova's libvirt driver detaches every SR-IOV ``direct`` port from the guest
before a live migration and, on the destination (or on the source after a
rollback), attaches every such port again when the guest has fewer
interfaces than ports. This change skips the detach for ports marked
``vfio_lm_moves`` (their VF state moves with the guest; Nova already
rewrites their ``<interface type='hostdev'>`` to the destination VF from
the destination port binding) and, after the migration or its rollback,
attaches only the ports the guest really lacks, so a server with moving
and legacy ports gets exactly its legacy ones plugged again.
"""

from oslo_log import log as logging

from nova_vfio_lm.changes import base

LOG = logging.getLogger(__name__)


def _moving_port_ids(migrate_data):
    return {vif.port_id for vif in migrate_data.vifs or ()
            if 'vfio_lm_moves' in vif and vif.vfio_lm_moves}


class LibvirtLiveMigrationPortsStayAttached(base.Change):
    name = 'libvirt_live_migration_ports_stay_attached'
    summary = ('ports marked vfio_lm_moves are neither detached nor '
               're-attached during live migration')
    series = base.EVERY_SERIES

    def _apply(self):
        from nova.network import model as network_model
        from nova.virt.libvirt import config as vconfig
        from nova.virt.libvirt import driver

        def make_detach(original):
            def _detach_direct_passthrough_vifs(self, context, migrate_data,
                                                instance):
                moving = ('vifs' in migrate_data and
                          _moving_port_ids(migrate_data))
                if not moving:
                    return original(self, context, migrate_data, instance)
                for port_id in sorted(moving):
                    LOG.info('Port %s stays attached: its VF state moves '
                             'with the guest', port_id, instance=instance)
                legacy = migrate_data.obj_clone()
                legacy.vifs = [vif for vif in migrate_data.vifs
                               if vif.port_id not in moving]
                return original(self, context, legacy, instance)
            return _detach_direct_passthrough_vifs

        def make_reattach(original):
            def _reattach_instance_vifs(self, context, instance,
                                        network_info):
                direct = [vif for vif in network_info if vif['vnic_type'] in
                          network_model.VNIC_TYPES_DIRECT_PASSTHROUGH]
                guest = self._host.get_guest(instance)
                present = {
                    (iface.mac_addr or '').lower() for iface in
                    guest.get_all_devices(vconfig.LibvirtConfigGuestInterface)}
                if not any(vif['address'].lower() in present
                           for vif in direct):
                    return original(self, context, instance, network_info)
                for vif in direct:  # some moved attached: plug the rest
                    if vif['address'].lower() in present:
                        continue
                    LOG.info('Attaching port %s', vif['id'],
                             instance=instance)
                    self.attach_interface(context, instance,
                                          instance.image_meta, vif)
            return _reattach_instance_vifs

        base.wrap(driver.LibvirtDriver, '_detach_direct_passthrough_vifs',
                  make_detach)
        base.wrap(driver.LibvirtDriver, '_reattach_instance_vifs',
                  make_reattach)


CHANGE = LibvirtLiveMigrationPortsStayAttached()
