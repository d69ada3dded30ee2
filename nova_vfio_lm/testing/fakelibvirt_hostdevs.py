"""Make Nova's fake libvirt keep PCI ``<hostdev>`` elements.

The fake libvirt ``Domain`` of Nova 2024.x drops every PCI hostdev from the
XML it is given, so ``XMLDesc()`` cannot show which VF a guest has, nor its
``managed`` mode. Assertions on hostdev addresses need what a real libvirt
keeps: the source address, ``managed``, the guest ``<alias>`` and guest
``<address>`` (the last two assigned if the input has none, as libvirt does
when it defines a domain). This fixture keeps them and puts back any the
fake's own ``XMLDesc()`` left out; on releases whose fake already keeps them
it adds nothing.
"""

import fixtures
from lxml import etree

_PCI_HOSTDEVS = '_nova_vfio_lm_pci_hostdevs'


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


class PciHostdevFixture(fixtures.Fixture):
    """Patch the fake ``Domain`` to keep PCI hostdevs across ``XMLDesc``."""

    def _setUp(self):
        from nova.tests.fixtures import libvirt as fakelibvirt

        domain_cls = fakelibvirt.Domain
        orig_parse = domain_cls._parse_definition
        orig_xmldesc = domain_cls.XMLDesc

        def _parse_definition(domain, xml):
            definition = orig_parse(domain, xml)
            definition[_PCI_HOSTDEVS] = [
                _completed(hostdev, index)
                for index, hostdev in enumerate(pci_hostdevs_of(xml))]
            return definition

        def XMLDesc(domain, flags):
            xml = orig_xmldesc(domain, flags)
            kept = domain._def.get(_PCI_HOSTDEVS) or []
            if not kept:
                return xml
            root = etree.fromstring(xml)
            devices = root.find('./devices')
            present = {_source_address(h) for h in
                       devices.findall("./hostdev[@type='pci']")}
            for hostdev in kept:
                if _source_address(hostdev) not in present:
                    devices.append(etree.fromstring(etree.tostring(hostdev)))
            return etree.tostring(root, encoding='unicode')

        self.useFixture(fixtures.MonkeyPatch(
            'nova.tests.fixtures.libvirt.Domain._parse_definition',
            _parse_definition))
        self.useFixture(fixtures.MonkeyPatch(
            'nova.tests.fixtures.libvirt.Domain.XMLDesc', XMLDesc))
