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

"""Refuse to start nova-compute where migratable VFs cannot migrate.

Migrating a VFIO variant-driver device needs libvirt 10.0.0 and QEMU 8.2.2
or newer. Stock Nova 2024.1/2024.2 knows no such requirement; Nova 2025.1+
checks it in ``LibvirtDriver._check_pci_whitelist`` but with a generic
message, and for entries that say ``live_migratable=no`` too (it tests the
tag for being set, and ``"false"`` is set). On every series this change
makes nova-compute refuse to start only when an entry says ``yes`` and the
host is too old, naming the versions found and required.
"""

from nova_vfio_lm.changes import base
from nova_vfio_lm import pci_tags

MIN_LIBVIRT = (10, 0, 0)
MIN_QEMU = (8, 2, 2)


def _dotted(version):
    return '.'.join(str(part) for part in version)


def _from_int(version):
    return (version // 1000000, version // 1000 % 1000, version % 1000)


def requirement_error(live_migratable_declared, libvirt_version,
                      qemu_version):
    """The message refusing this host, or ``None`` if it qualifies."""
    if not live_migratable_declared:
        return None
    if libvirt_version >= MIN_LIBVIRT and qemu_version >= MIN_QEMU:
        return None
    # native Nova's own words first, so what operators search for matches
    return ("PCI device spec is configured for live_migratable but it's not "
            "supported by libvirt. "
            '[pci]device_spec declares live_migratable=yes devices, which '
            'need libvirt >= %s and QEMU >= %s to migrate; this host has '
            'libvirt %s and QEMU %s' % (
                _dotted(MIN_LIBVIRT), _dotted(MIN_QEMU),
                _dotted(libvirt_version), _dotted(qemu_version)))


class LibvirtVersionRequirements(base.Change):
    name = 'libvirt_version_requirements'
    summary = ('nova-compute refuses to start with live_migratable=yes '
               'devices on libvirt < 10.0.0 or QEMU < 8.2.2')
    series = base.EVERY_SERIES

    def _apply(self):
        import nova.conf
        from nova import exception
        from nova.pci import whitelist
        from nova.virt.libvirt import driver

        conf = nova.conf.CONF

        def check(self):
            declared = any(
                spec.tags.get(pci_tags.LIVE_MIGRATABLE) == pci_tags.TRUE
                for spec in whitelist.Whitelist(conf.pci.device_spec).specs)
            if not declared:
                return
            conn = self._host.get_connection()
            error = requirement_error(
                declared, _from_int(conn.getLibVersion()),
                _from_int(conn.getVersion()))
            if error:
                raise exception.InvalidConfiguration(error)

        if hasattr(driver.LibvirtDriver, '_check_pci_whitelist'):
            # Nova 2025.1+: the same check point, with the plugin's rule
            base.wrap(driver.LibvirtDriver, '_check_pci_whitelist',
                      lambda original: check)
            return

        def make(original):
            def init_host(self, host):
                result = original(self, host)
                check(self)
                return result
            return init_host

        base.wrap(driver.LibvirtDriver, 'init_host', make)


CHANGE = LibvirtVersionRequirements()
