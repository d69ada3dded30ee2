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

"""Give the destination guest XML the claimed VF addresses.

Stock Nova 2024.1/2024.2 sends the guest's PCI ``<hostdev>`` elements to the
destination unchanged, still naming the source host's VFs. This change
rewrites each one from the mapping in ``vfio_lm_pci_devices`` (address and
``managed`` mode), and aborts the migration before it starts, naming the
address, if a live-migratable device of the guest has no mapping (for
example when the destination does not run the plugin).
"""

from lxml import etree

from nova_vfio_lm.changes import base
from nova_vfio_lm import pci_migration


class LibvirtLiveMigrationHostdevXml(base.Change):
    name = 'libvirt_live_migration_hostdev_xml'
    summary = ('destination guest XML <hostdev> rewritten to the claimed '
               'VFs; unmapped migratable devices abort')
    series = frozenset({29, 30})

    def _apply(self):
        from nova import exception
        from nova.virt.libvirt import migration

        def make(original):
            def get_updated_guest_xml(instance, guest, migrate_data,
                                      *args, **kwargs):
                xml = original(instance, guest, migrate_data, *args,
                               **kwargs)
                doc = etree.fromstring(xml)
                if doc.find("./devices/hostdev[@type='pci']") is None:
                    return xml  # most guests: nothing to map, no DB query
                mapping = (migrate_data.vfio_lm_pci_devices
                           if 'vfio_lm_pci_devices' in migrate_data else [])
                try:
                    doc = pci_migration.rewrite_hostdevs(
                        doc, mapping,
                        pci_migration.migratable_source_addresses(instance))
                except pci_migration.MappingError as exc:
                    raise exception.MigrationError(reason=str(exc))
                return etree.tostring(doc, encoding='unicode')
            return get_updated_guest_xml

        base.wrap(migration, 'get_updated_guest_xml', make)


CHANGE = LibvirtLiveMigrationHostdevXml()
