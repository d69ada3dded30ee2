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

"""Live-migrate VFs between 2025.1+ computes and 2024.x computes.

During a rolling upgrade a 2024.x compute running the plugin and a 2025.1+
compute serve one cloud, and each carries the VF mapping its own way: the
plugin's ``vfio_lm_pci_devices``, Nova's ``pci_dev_map_src_dst``, which
Nova drops when it sends the data to a 2024.x compute. Without this change
a 2025.1+ source migrating to a 2024.x destination sends the guest XML
unchanged, naming its own VF addresses, and the guest opens VFs the
destination never claimed. On a 2025.1+ compute this change:

* as destination, also writes the pairs it claimed as
  ``vfio_lm_pci_devices``, which a 2024.x source with the plugin reads;
* as source, takes the map from ``vfio_lm_pci_devices`` when a 2024.x
  destination sent only that, and stops the migration before it starts,
  naming the address, if a live-migratable ``<hostdev>`` of the guest
  would still have no destination VF;
* refuses at pre-check a 2024.x peer that does not run the plugin (no
  mark, see :mod:`nova_vfio_lm.peer_release`), freeing what the
  destination claimed.
"""

from lxml import etree
from oslo_log import log as logging

from nova_vfio_lm.changes import base
from nova_vfio_lm.changes import precheck
from nova_vfio_lm import pci_migration
from nova_vfio_lm import peer_release

LOG = logging.getLogger(__name__)


class ComputeLiveMigrationOlderPeers(base.Change):
    name = 'compute_live_migration_older_peers'
    summary = ('VF mapping understood by 2024.x peers running the plugin; '
               '2024.x peers without it refused at pre-check')
    series = base.NATIVE_SERIES

    def _apply(self):
        from nova.compute import manager
        from nova import exception
        from nova import objects
        from nova.virt.libvirt import migration

        def add_plugin_mapping(compute, ctxt, instance, migrate_data):
            if not ('pci_dev_map_src_dst' in migrate_data and
                    migrate_data.pci_dev_map_src_dst):
                return
            source = [d for d in objects.PciDeviceList.get_by_instance_uuid(
                ctxt, instance.uuid) if d.status == 'allocated']
            claimed = [d for d in compute.rt.pci_tracker.pci_devs
                       if d.instance_uuid == instance.uuid and
                       d.status == 'claimed']
            migrate_data.vfio_lm_pci_devices = (
                pci_migration.mapping_from_native(
                    migrate_data.pci_dev_map_src_dst, source, claimed))

        def refuse_or_map(compute, ctxt, instance, migrate_data):
            if not pci_migration.migratable_flavor_requests(instance):
                return
            if not peer_release.maps_vfs(migrate_data, 'vfio_lm_source'):
                raise exception.MigrationPreCheckError(
                    reason=peer_release.refusal(
                        'source', instance.host, migrate_data))
            add_plugin_mapping(compute, ctxt, instance, migrate_data)

        def make_source(original):
            def check_can_live_migrate_source(self, ctxt, instance,
                                              dest_check_data):
                if (pci_migration.migratable_flavor_requests(instance) and
                        not peer_release.maps_vfs(dest_check_data,
                                                  'vfio_lm_dest')):
                    raise exception.MigrationPreCheckError(
                        reason=peer_release.refusal(
                            'destination', None, dest_check_data))
                return original(self, ctxt, instance, dest_check_data)
            return check_can_live_migrate_source

        def make_xml(original):
            def get_updated_guest_xml(instance, guest, migrate_data,
                                      *args, **kwargs):
                native = ('pci_dev_map_src_dst' in migrate_data and
                          migrate_data.pci_dev_map_src_dst)
                plugin = ('vfio_lm_pci_devices' in migrate_data and
                          migrate_data.vfio_lm_pci_devices)
                if plugin and not native:
                    migrate_data.pci_dev_map_src_dst = (
                        pci_migration.native_map(plugin))
                    LOG.info('Destination VFs from the plugin mapping of a '
                             '2024.x destination: %s',
                             migrate_data.pci_dev_map_src_dst,
                             instance=instance)
                doc = etree.fromstring(
                    guest.get_xml_desc(dump_migratable=True))
                if doc.find("./devices/hostdev[@type='pci']") is not None:
                    try:
                        pci_migration.refuse_unmapped(
                            doc, migrate_data.pci_dev_map_src_dst
                            if 'pci_dev_map_src_dst' in migrate_data else {},
                            pci_migration.migratable_source_addresses(
                                instance))
                    except pci_migration.MappingError as exc:
                        raise exception.MigrationError(reason=str(exc))
                return original(instance, guest, migrate_data, *args,
                                **kwargs)
            return get_updated_guest_xml

        precheck.after_destination_check(refuse_or_map)
        base.wrap(manager.ComputeManager, 'check_can_live_migrate_source',
                  make_source)
        base.wrap(migration, 'get_updated_guest_xml', make_xml)


CHANGE = ComputeLiveMigrationOlderPeers()
