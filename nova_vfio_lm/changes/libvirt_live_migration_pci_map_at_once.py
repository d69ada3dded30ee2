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

"""Map every guest PCI device to its own destination VF, all at once.

Native Nova 2025.1+ rewrites the destination guest XML one entry of
``pci_dev_map_src_dst`` at a time, each time taking the first ``<hostdev>``
that *now* names the source address. When one device's destination address
is another device's source address (two hosts that lay out their cards
differently, two VF models on swapped bus numbers), an entry applied earlier
makes a later one match the wrong ``<hostdev>``: a device lands on a VF of
another model, or on a VF claimed for another device, which the device-state
load on real hardware rejects.

This change reads every ``<hostdev>``'s source address first and then sets
each one from the map, so each device ends on exactly the VF claimed for it.
A map entry with no device in the XML still stops the migration before it
starts, naming the address, as Nova does.
"""

from nova_vfio_lm.changes import base
from nova_vfio_lm import pci_migration


class LibvirtLiveMigrationPciMapAtOnce(base.Change):
    name = 'libvirt_live_migration_pci_map_at_once'
    summary = ('destination guest XML maps each <hostdev> by its source '
               'address, so overlapping source/destination addresses '
               'cannot swap devices')
    series = base.NATIVE_SERIES

    def _apply(self):
        from nova import exception
        from nova.virt.libvirt import migration

        def make(original):
            def _update_pci_dev_xml(xml_doc, pci_dev_map_src_dst):
                try:
                    return pci_migration.map_hostdevs_at_once(
                        xml_doc, pci_dev_map_src_dst)
                except pci_migration.MappingError as exc:
                    raise exception.MigrationError(reason=str(exc))
            return _update_pci_dev_xml

        base.wrap(migration, '_update_pci_dev_xml', make)


CHANGE = LibvirtLiveMigrationPciMapAtOnce()
