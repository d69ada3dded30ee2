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

"""Honour ``managed=no`` in the guest's PCI ``<hostdev>``.

Stock Nova 2024.1/2024.2 always writes ``managed='yes'`` for kvm/qemu, so
libvirt unbinds the VF from its host driver and binds ``vfio-pci``, undoing
the variant driver (``mlx5_vfio_pci``) the operator bound for migration.
Like Nova 2025.1+, this change writes ``managed='no'`` for a device whose
``extra_info`` says ``managed=false``; everything else keeps ``yes``.
"""

from nova_vfio_lm.changes import base
from nova_vfio_lm import pci_tags


class LibvirtHostdevManaged(base.Change):
    name = 'libvirt_hostdev_managed'
    summary = "guest <hostdev managed='no'> for devices tagged managed=no"
    series = frozenset({29, 30})

    def _apply(self):
        from nova.virt.libvirt import driver

        def make(original):
            def _get_guest_pci_device(self, pci_device):
                dev = original(self, pci_device)
                extra_info = pci_device.extra_info or {}
                if extra_info.get(pci_tags.MANAGED) == pci_tags.FALSE:
                    dev.managed = 'no'
                return dev
            return _get_guest_pci_device

        base.wrap(driver.LibvirtDriver, '_get_guest_pci_device', make)


CHANGE = LibvirtHostdevManaged()
