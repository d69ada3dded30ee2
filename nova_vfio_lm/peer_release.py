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

"""Whether the other compute of a live migration can map its VFs.

During a rolling upgrade computes of two releases serve one cloud. A
compute of Nova 2025.1 or newer maps live-migratable VFs itself; a 2024.x
compute does only when it runs the plugin, which it says with its mark in
the live-migration data (:func:`nova_vfio_lm.pci_migration.peer_runs_plugin`).
A 2024.x compute started without the plugin would move the guest with the
source host's VF addresses in its XML, onto VFs the destination never
claimed, so such a peer is refused before anything moves.

Which release a peer runs is read from the live-migration data it sent:
a received object keeps the version its sender wrote.
"""

#: The compute service version of Nova 2025.1 (nova 31, Epoxy); 2024.2
#: computes report 67, 2024.1 ones 66 or 67.
NATIVE_SERVICE_VERSION = 68
#: ``LibvirtLiveMigrateData`` of Nova 2025.1 (nova 31), the first with
#: ``pci_dev_map_src_dst``; 2024.2 sends 1.12, 2024.1 1.11.
NATIVE_DATA_VERSION = (1, 13)


def data_version(migrate_data):
    major, minor = migrate_data.VERSION.split('.')[:2]
    return int(major), int(minor)


def maps_vfs(migrate_data, mark):
    """Whether the compute that sent ``migrate_data`` can map VFs.

    :param mark: ``vfio_lm_source`` or ``vfio_lm_dest``, the field that
        compute's pre-check sets when it runs the plugin.
    """
    from nova_vfio_lm import pci_migration

    return (pci_migration.peer_runs_plugin(migrate_data, mark) or
            data_version(migrate_data) >= NATIVE_DATA_VERSION)


def refusal(role, host, migrate_data):
    """Why a live migration with that peer is refused."""
    return ('the %s compute%s runs Nova older than 2025.1 (its '
            'live-migration data is version %s) without nova-vfio-lm, so '
            'it cannot move live-migratable PCI devices: the guest would '
            'use VFs the destination never claimed. Start its nova-compute '
            'through nova-vfio-lm-run, or upgrade it to 2025.1 or newer' % (
                role, ' %s' % host if host else '', migrate_data.VERSION))
