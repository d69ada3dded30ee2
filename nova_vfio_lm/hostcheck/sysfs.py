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

"""What the kernel tells about PCI devices and modules, read under a root.

Every function takes ``root``, the directory that stands for ``/``, so the
same code reads a real host and a fixture tree. A missing file is ``None``
(unknown), never an error.
"""

import fnmatch
import os

PCI_DEVICES = os.path.join('sys', 'bus', 'pci', 'devices')
PCI_DRIVERS = '/sys/bus/pci/drivers'
#: The plain VFIO driver: it has no device-state migration.
PLAIN_VFIO = 'vfio-pci'


def path(root, *parts):
    """``parts`` (relative to ``/``) under ``root``."""
    return os.path.join(root, *[p.lstrip('/') for p in parts])


def read(root, *parts):
    """A small file's stripped text, or ``None`` when it cannot be read."""
    try:
        with open(path(root, *parts)) as f:
            return f.read().strip()
    except (OSError, UnicodeDecodeError):
        return None


def _link_name(root, *parts):
    """The last path component a symlink points to, or ``None``."""
    try:
        return os.path.basename(os.readlink(path(root, *parts)).rstrip('/'))
    except OSError:
        return None


def pci_addresses(root):
    """Every PCI address under ``sys/bus/pci/devices``, sorted."""
    try:
        return sorted(os.listdir(path(root, PCI_DEVICES)))
    except OSError:
        return []


def _hex_id(root, address, name):
    value = read(root, PCI_DEVICES, address, name)
    if not value:
        return None
    return value.lower().replace('0x', '')


def device_ids(root, address):
    """``(vendor_id, product_id)`` as Nova writes them (``15b3``, ...)."""
    return _hex_id(root, address, 'vendor'), _hex_id(root, address, 'device')


def modalias_fields(root, address):
    """The fields a ``vfio_pci:`` modules.alias pattern is matched on."""
    fields = {}
    for field, name in (('v', 'vendor'), ('d', 'device'),
                        ('sv', 'subsystem_vendor'),
                        ('sd', 'subsystem_device')):
        value = _hex_id(root, address, name)
        if value:
            fields[field] = '%08X' % int(value, 16)
    pci_class = _hex_id(root, address, 'class')
    if pci_class:
        value = int(pci_class, 16)
        fields['bc'] = '%02X' % (value >> 16 & 0xff)
        fields['sc'] = '%02X' % (value >> 8 & 0xff)
        fields['i'] = '%02X' % (value & 0xff)
    return fields


def physfn(root, address):
    """The PF address of a VF, or ``None`` when it is not a VF."""
    return _link_name(root, PCI_DEVICES, address, 'physfn')


def is_pf(root, address):
    """Whether the device can have VFs (``sriov_totalvfs`` > 0)."""
    try:
        return int(read(root, PCI_DEVICES, address, 'sriov_totalvfs')) > 0
    except (TypeError, ValueError):
        return False


def vf_index(root, pf, vf):
    """The VF's number on its PF (``virtfn<N>`` -> ``vf``), or ``None``."""
    try:
        names = os.listdir(path(root, PCI_DEVICES, pf))
    except OSError:
        return None
    for name in names:
        if (name.startswith('virtfn') and name[6:].isdigit() and
                _link_name(root, PCI_DEVICES, pf, name) == vf):
            return int(name[6:])
    return None


def bound_driver(address, root='/'):
    """The name of the driver a device is bound to, ``None`` if unbound."""
    return _link_name(root, PCI_DEVICES, address, 'driver')


def driver_override(root, address):
    """The forced driver name, ``None`` when unset or unreadable."""
    value = read(root, PCI_DEVICES, address, 'driver_override')
    return None if value in (None, '', '(null)') else value


def kernel_release(root):
    """``uname -r`` as the kernel reports it, or ``None``."""
    return read(root, 'proc/sys/kernel/osrelease')


def hostname(root):
    return read(root, 'proc/sys/kernel/hostname')


def loaded_modules(root):
    """Names of loaded modules, or ``None`` when /proc/modules is missing."""
    text = read(root, 'proc/modules')
    if text is None:
        return None
    return {line.split()[0] for line in text.splitlines() if line.split()}


def driver_registered(root, driver):
    """Whether the driver is registered (a module or built in)."""
    return os.path.isdir(path(root, PCI_DRIVERS, driver))


def vfio_pci_aliases(root, release):
    """``(pattern, module)`` of each ``vfio_pci:`` line in modules.alias.

    ``None`` when the kernel release or the file is unknown.
    """
    if not release:
        return None
    text = read(root, 'lib/modules', release, 'modules.alias')
    if text is None:
        return None
    aliases = []
    for line in text.splitlines():
        words = line.split()
        if (len(words) == 3 and words[0] == 'alias' and
                words[1].startswith('vfio_pci:')):
            aliases.append((words[1], words[2]))
    return aliases


def _pattern_fields(pattern):
    """``vfio_pci:v000015B3d0000101Esv*...`` -> ``{'v': '000015B3', ...}``."""
    body = pattern.split(':', 1)[1]
    fields = {}
    for key in ('i', 'sc', 'bc', 'sd', 'sv', 'd', 'v'):
        head, sep, value = body.rpartition(key)
        if not sep:
            return None
        fields[key] = value
        body = head
    return fields if body == '' else None


def variant_drivers(aliases, fields):
    """Modules whose ``vfio_pci:`` alias matches a device's fields."""
    modules = []
    for pattern, module in aliases:
        wanted = _pattern_fields(pattern)
        if wanted is None:
            continue
        if all(fnmatch.fnmatchcase(value, wanted[key])
               for key, value in fields.items() if key in wanted):
            if module not in modules:
                modules.append(module)
    return modules


def same_driver(a, b):
    """Module and driver names differ only in ``-`` versus ``_``."""
    return (a or '').replace('-', '_') == (b or '').replace('-', '_')
