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

"""Carry the VF mapping in ``LibvirtLiveMigrateData``.

Stock Nova 2024.1/2024.2 has no place in the live-migration data for flavor
PCI devices. This change adds ``vfio_lm_pci_devices``, one dict per device
(source and destination address, request id, vendor and product id,
``live_migratable``, ``managed``), filled by the destination. A compute
without the plugin ignores the field; the peer marks
(``live_migrate_data_peer_marks``) let each side refuse such a peer before
anything moves. Nova 2025.1+ has its own ``pci_dev_map_src_dst``, which it
drops when it sends the data to a 2024.x compute; the field is added there
too, so that 2024.x and 2025.1+ computes running the plugin understand each
other during a rolling upgrade
(``compute_live_migration_older_peers``).
"""

from nova_vfio_lm.changes import base


class LiveMigrateDataPciDevices(base.Change):
    name = 'live_migrate_data_pci_devices'
    summary = 'LibvirtLiveMigrateData carries vfio_lm_pci_devices'
    series = base.EVERY_SERIES

    def _apply(self):
        from nova.objects import fields

        base.add_migrate_data_fields({
            'vfio_lm_pci_devices': fields.ListOfDictOfNullableStringsField(),
        })


CHANGE = LiveMigrateDataPciDevices()
