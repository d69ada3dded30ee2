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

"""Record ``managed`` and ``live_migratable`` on each PCI device.

Stock Nova 2024.1/2024.2 keeps device_spec tags only in the scheduler's pool
view; the ``PciDevice`` rows know nothing of them, so the libvirt driver
cannot tell a VF that must stay bound to its variant driver. Like Nova
2025.1+, this change copies both tags from the matching device_spec entry
into ``PciDevice.extra_info`` when the compute syncs its devices, and drops
them again when the operator removes the tag.
"""

from nova_vfio_lm.changes import base
from nova_vfio_lm import pci_tags


def add_spec_tags(whitelist, dev):
    """Copy the boolean tags of the first spec matching ``dev`` into it."""
    for spec in whitelist.specs:
        if spec.match(dev):
            for tag in pci_tags.DEVICE_SPEC_TAGS:
                if spec.tags.get(tag) is not None:
                    dev[tag] = spec.tags[tag]
            return


def drop_stale_tags(pci_device, dev_dict):
    """Remove tags from ``extra_info`` that the device_spec no longer sets."""
    extra_info = pci_device.extra_info
    stale = [tag for tag in pci_tags.DEVICE_SPEC_TAGS
             if tag in extra_info and tag not in dev_dict]
    if stale:
        extra_info = dict(extra_info)
        for tag in stale:
            del extra_info[tag]
        # assign, so that obj_what_changed() sees it and save() stores it
        pci_device.extra_info = extra_info


class PciDeviceExtraInfo(base.Change):
    name = 'pci_device_extra_info'
    summary = ('device_spec managed/live_migratable kept in '
               'PciDevice.extra_info')
    series = frozenset({29, 30})

    def _apply(self):
        from nova.objects import pci_device
        from nova.pci import whitelist

        def make_assignable(original):
            def device_assignable(self, dev):
                assignable = original(self, dev)
                if assignable:
                    add_spec_tags(self, dev)
                return assignable
            return device_assignable

        def make_update(original):
            def update_device(self, dev_dict):
                original(self, dev_dict)
                drop_stale_tags(self, dev_dict)
            return update_device

        base.wrap(whitelist.Whitelist, 'device_assignable', make_assignable)
        base.wrap(pci_device.PciDevice, 'update_device', make_update)


CHANGE = PciDeviceExtraInfo()
