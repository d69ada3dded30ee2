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

"""Make Nova's fake libvirt keep PCI ``<hostdev>`` elements.

The fake libvirt ``Domain`` of Nova 2024.x drops every PCI hostdev from the
XML it is given, so ``XMLDesc()`` cannot show which VF a guest has, nor its
``managed`` mode. Assertions on hostdev addresses need what a real libvirt
keeps: the source address, ``managed``, the guest ``<alias>`` and guest
``<address>`` (the last two assigned if the input has none, as libvirt does
when it defines a domain). This fixture keeps them and puts back any the
fake's own ``XMLDesc()`` left out; on releases whose fake already keeps them
it adds nothing.

It does the same for SR-IOV ports' ``<interface type='hostdev'>``, which
the fake describes with a ``<source hostdev='pci_...'/>`` no libvirt
writes: Nova then cannot find such an interface to detach it. The fixture
gives back each interface as it was defined or attached.
"""

import fixtures
from lxml import etree

_PCI_HOSTDEVS = '_nova_vfio_lm_pci_hostdevs'
_HOSTDEV_INTERFACES = '_nova_vfio_lm_hostdev_interfaces'


def _mac(interface):
    mac = interface.find('./mac')
    return None if mac is None else (mac.get('address') or '').lower()


def _hostdev_interfaces(xml):
    """``{MAC: <interface type='hostdev'>}`` of a domain or device XML."""
    root = etree.fromstring(xml)
    if root.tag == 'interface':
        found = [root] if root.get('type') == 'hostdev' else []
    else:
        found = root.findall("./devices/interface[@type='hostdev']")
    return {_mac(iface): etree.tostring(iface) for iface in found}


def _source_address(hostdev):
    address = hostdev.find('./source/address')
    if address is None:
        return None
    return tuple(int(address.get(key, '0'), 16)
                 for key in ('domain', 'bus', 'slot', 'function'))


def pci_hostdevs_of(domain_xml):
    """The ``<hostdev type='pci'>`` elements of a domain XML string."""
    root = etree.fromstring(domain_xml)
    return root.findall("./devices/hostdev[@type='pci']")


def _completed(hostdev, index):
    """A copy of ``hostdev`` with the alias and guest address libvirt adds."""
    hostdev = etree.fromstring(etree.tostring(hostdev))
    hostdev.set('managed', hostdev.get('managed', 'yes'))
    if hostdev.find('./alias') is None:
        etree.SubElement(hostdev, 'alias', name='hostdev%d' % index)
    if hostdev.find('./address') is None:
        etree.SubElement(
            hostdev, 'address', type='pci', domain='0x0000',
            bus='0x%02x' % (0x10 + index), slot='0x00', function='0x0')
    return hostdev


def _next_index(domain):
    """A hostdev index no device of the domain had (for its alias)."""
    index = domain._def.get('_nova_vfio_lm_next_hostdev', 0)
    index = max(index, len(domain._def.get(_PCI_HOSTDEVS) or []))
    domain._def['_nova_vfio_lm_next_hostdev'] = index + 1
    return index


class PciHostdevFixture(fixtures.Fixture):
    """Patch the fake ``Domain`` to keep PCI hostdevs across ``XMLDesc``.

    :param drivers: returns the running computes' libvirt drivers, to which
        the device-removed event of a detached interface goes (Nova's test
        fixtures turn libvirt's own event loop off).
    """

    def __init__(self, drivers=lambda: ()):
        super().__init__()
        self._drivers = drivers

    def _device_removed(self, domain, alias):
        from nova.virt.libvirt import event as libvirtevent

        for driver in self._drivers():
            if driver._host.get_connection() is domain._connection:
                driver.emit_event(libvirtevent.DeviceRemovedEvent(
                    domain.UUIDString(), alias))

    def _setUp(self):
        from nova.tests.fixtures import libvirt as fakelibvirt

        domain_cls = fakelibvirt.Domain
        orig_parse = domain_cls._parse_definition
        orig_xmldesc = domain_cls.XMLDesc

        orig_attach = domain_cls.attachDevice

        def _parse_definition(domain, xml):
            definition = orig_parse(domain, xml)
            definition[_PCI_HOSTDEVS] = [
                _completed(hostdev, index)
                for index, hostdev in enumerate(pci_hostdevs_of(xml))]
            definition[_HOSTDEV_INTERFACES] = _hostdev_interfaces(xml)
            return definition

        def attachDevice(domain, xml):
            result = orig_attach(domain, xml)
            if xml.lstrip().startswith('<interface'):
                domain._def.setdefault(_HOSTDEV_INTERFACES, {}).update(
                    _hostdev_interfaces(xml))
            elif xml.lstrip().startswith('<hostdev'):
                # a PF port plugged again (live migration, attach)
                kept = domain._def.setdefault(_PCI_HOSTDEVS, [])
                for hostdev in pci_hostdevs_of(
                        '<domain><devices>%s</devices></domain>' % xml):
                    kept.append(_completed(hostdev, _next_index(domain)))
            return result

        def XMLDesc(domain, flags):
            xml = orig_xmldesc(domain, flags)
            kept = domain._def.get(_PCI_HOSTDEVS) or []
            interfaces = domain._def.get(_HOSTDEV_INTERFACES) or {}
            if not (kept or interfaces):
                return xml
            root = etree.fromstring(xml)
            devices = root.find('./devices')
            for index, iface in enumerate(
                    devices.findall("./interface[@type='hostdev']")):
                original = interfaces.get(_mac(iface))
                if original is None:
                    continue
                defined = etree.fromstring(original)
                # what libvirt adds to a defined device: alias, guest address
                if defined.find('./alias') is None:
                    etree.SubElement(defined, 'alias',
                                     name='hostdevnet%d' % index)
                if defined.find('./address') is None and (
                        iface.find('./address') is not None):
                    defined.append(iface.find('./address'))
                iface.getparent().replace(iface, defined)
            # the fake's own XML (2025.1+) has some hostdevs, without the
            # alias and managed libvirt keeps (2025.x) or with an alias of
            # its own (2026.x): each is given back as it was kept, so the
            # alias Nova reads is the one its device-removed event names
            by_address = {_source_address(h): h for h in kept}
            present = set()
            for hostdev in devices.findall("./hostdev[@type='pci']"):
                address = _source_address(hostdev)
                if address in by_address:
                    present.add(address)
                    hostdev.getparent().replace(hostdev, etree.fromstring(
                        etree.tostring(by_address[address])))
            for hostdev in kept:
                if _source_address(hostdev) not in present:
                    devices.append(etree.fromstring(etree.tostring(hostdev)))
            return etree.tostring(root, encoding='unicode')

        self.useFixture(fixtures.MonkeyPatch(
            'nova.tests.fixtures.libvirt.Domain._parse_definition',
            _parse_definition))
        self.useFixture(fixtures.MonkeyPatch(
            'nova.tests.fixtures.libvirt.Domain.XMLDesc', XMLDesc))
        self.useFixture(fixtures.MonkeyPatch(
            'nova.tests.fixtures.libvirt.Domain.attachDevice', attachDevice))

        orig_detach_flags = domain_cls.detachDeviceFlags

        def detachDeviceFlags(domain, xml, flags):
            """Detach, then tell Nova as libvirt does (device-removed)."""
            device = etree.fromstring(xml)
            # an interface is known by its MAC, a PCI hostdev (a PF port)
            # by its source address
            key = None
            if device.tag == 'interface':
                key = _mac(device)
            elif device.tag == 'hostdev' and device.get('type') == 'pci':
                key = _source_address(device)
            # the fake has one config for both the persistent and the live
            # detach Nova does in turn; remember the alias from the first
            aliases = domain._def.setdefault('_nova_vfio_lm_aliases', {})
            if device.tag == 'interface' and key:
                for iface in etree.fromstring(XMLDesc(domain, 0)).findall(
                        './devices/interface'):
                    alias = iface.find('./alias')
                    if _mac(iface) == key and alias is not None:
                        aliases[key] = alias.get('name')
            elif key:
                kept = domain._def.get(_PCI_HOSTDEVS) or []
                for hostdev in list(kept):
                    if _source_address(hostdev) == key:
                        aliases[key] = hostdev.find('./alias').get('name')
                        kept.remove(hostdev)
            result = orig_detach_flags(domain, xml, flags)
            alias = aliases.get(key) if key else None
            if alias and flags & fakelibvirt.VIR_DOMAIN_AFFECT_LIVE:
                self._device_removed(domain, alias)
            return result

        self.useFixture(fixtures.MonkeyPatch(
            'nova.tests.fixtures.libvirt.Domain.detachDeviceFlags',
            detachDeviceFlags))
