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

"""Honour ``managed=no`` in the guest devices of SR-IOV ports.

Nova (every release up to at least 2026.2) writes ``managed='yes'`` on every
hostdev interface, so libvirt re-binds the VF to ``vfio-pci`` and undoes the
VFIO variant driver (``mlx5_vfio_pci``) the operator bound for live
migration; Nova 2025.1+ honours ``managed=no`` only for flavor VFs. This
change writes ``managed='no'`` for a port's VF (``direct``: an
``<interface type='hostdev'>``) or PF (``direct-physical``: a ``<hostdev>``)
whose ``[pci]device_spec`` entry says ``managed=no``, at boot, on attach and
in the guest XML sent to a live-migration destination.
"""

from nova_vfio_lm.changes import base
from nova_vfio_lm import pci_migration
from nova_vfio_lm import pci_tags


def _claimed_for_move(instance_uuid, address):
    """The device at ``address`` a move's destination claimed, if any.

    While the source writes the guest XML for a live-migration
    destination, the destination's VF is only ``claimed`` (not in the
    server's allocated devices): it is found on the destination node of
    the server's live migration in progress.
    """
    from nova import context as nova_context
    from nova import exception
    from nova import objects

    context = nova_context.get_admin_context()
    found = []
    for migration in objects.MigrationList.get_in_progress_by_instance(
            context, instance_uuid, migration_type='live-migration'):
        try:
            node = objects.ComputeNode.get_by_host_and_nodename(
                context, migration.dest_compute, migration.dest_node)
            device = objects.PciDevice.get_by_dev_addr(
                context, node.id, address)
        except (exception.ComputeHostNotFound,
                exception.PciDeviceNotFound):
            continue
        if device.instance_uuid == instance_uuid:
            found.append(device)
    return found


def _unmanaged(instance_uuid, address):
    """Whether the server's device at ``address`` is declared ``managed=no``.

    The server may hold a device at the same address on two hosts during
    a live migration, one allocated and one claimed; ``no`` only when
    every such device says so.
    """
    devices = [d for d in pci_migration.instance_devices(instance_uuid)
               if d.address == address]
    devices += _claimed_for_move(instance_uuid, address)
    return bool(devices) and all(
        (d.extra_info or {}).get(pci_tags.MANAGED) == pci_tags.FALSE
        for d in devices)


class LibvirtInterfaceHostdevManaged(base.Change):
    name = 'libvirt_interface_hostdev_managed'
    summary = ("managed='no' in the guest devices of port VFs and PFs "
               "tagged managed=no")
    series = base.EVERY_SERIES

    def _apply(self):
        from nova.virt.libvirt import config
        from nova.virt.libvirt import vif as vif_mod

        def make_config(original):
            def get_config(self, instance, vif, image_meta, flavor,
                           virt_type):
                conf = original(self, instance, vif, image_meta, flavor,
                                virt_type)
                # a VF port (``direct``) gives an <interface type='hostdev'>;
                # a PF port (``direct-physical``) a plain <hostdev>; every
                # other kind (vdpa, macvtap, bridge, ...) has no VFIO device
                # of its own: left as Nova made it
                hostdev_pf = isinstance(
                    conf, config.LibvirtConfigGuestHostdevPCI)
                hostdev_vf = (
                    isinstance(conf, config.LibvirtConfigGuestInterface) and
                    conf.net_type == 'hostdev')
                address = (vif.get('profile') or {}).get('pci_slot')
                if not ((hostdev_pf or hostdev_vf) and address and
                        _unmanaged(instance.uuid, address)):
                    return conf
                if hostdev_pf:
                    conf.managed = 'no'
                else:
                    conf.vfio_lm_unmanaged = True
                return conf
            return get_config

        def make_format(original):
            def format_dom(self):
                dev = original(self)
                if getattr(self, 'vfio_lm_unmanaged', False):
                    dev.set('managed', 'no')
                return dev
            return format_dom

        base.wrap(vif_mod.LibvirtGenericVIFDriver, 'get_config', make_config)
        base.wrap(config.LibvirtConfigGuestInterface, 'format_dom',
                  make_format)


CHANGE = LibvirtInterfaceHostdevManaged()
