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

"""The PCI devices that the guests running on this host really use.

Nova's database says which server holds which VF; the hypervisor says which
VF a running guest is on. After a failure at the wrong moment (a source
compute killed after the switch-over, a lost progress save) the two
disagree, and freeing a VF by the database's word alone hands a device in
use to the next server. Where the plugin frees or lets Nova free PCI
devices for a server it believes gone (a resource audit's clean-up, a
rollback at the destination, a refused pre-check), the hypervisor is asked
first: a device a running guest uses is kept, loudly, until an operator
acts (see the admin guide, "A guest runs where Nova does not place it"),
and so is a device that its own server's guest, shut off on this host,
still names (a resize being reverted).
"""

import contextlib
import threading

from lxml import etree

_scope = threading.local()  # green with eventlet, per thread without

#: libvirt's VIR_CONNECT_LIST_NODE_DEVICES_CAP_VDPA (its ABI), for a host
#: module that has not loaded the binding
_CAP_VDPA = 1 << 17

#: The reason a device is kept when the hypervisor cannot be asked.
UNKNOWN = 'unknown: the hypervisor could not be asked'


@contextlib.contextmanager
def hypervisor_checked():
    """Frees inside this block ask the hypervisor first.

    Blocks nest; the hypervisor is asked once per outermost block.
    """
    depth = getattr(_scope, 'depth', 0)
    if depth == 0:
        _scope.found = {}
    _scope.depth = depth + 1
    try:
        yield
    finally:
        _scope.depth = depth
        if depth == 0:
            _scope.found = {}


def checking():
    """Whether the current free runs inside :func:`hypervisor_checked`."""
    return getattr(_scope, 'depth', 0) > 0


def guest_pci_addresses(xml_doc):
    """PCI addresses of a guest's ``<hostdev>`` and hostdev ``<interface>``.

    Both carry the host device's address as ``<source><address>``; a vDPA
    interface names a character device instead (:func:`vdpa_chardevs`).
    """
    found = []
    for source in xml_doc.iterfind('./devices/hostdev[@type="pci"]/source'
                                   '/address'):
        found.append(_address(source))
    for source in xml_doc.iterfind('./devices/interface[@type="hostdev"]'
                                   '/source/address'):
        found.append(_address(source))
    return found


def vdpa_chardevs(xml_doc):
    """The ``/dev/vhost-vdpa-N`` paths of a guest's vDPA interfaces."""
    return [source.get('dev') for source in xml_doc.iterfind(
        './devices/interface[@type="vdpa"]/source') if source.get('dev')]


def vdpa_vf_addresses(host):
    """``{vhost-vdpa character device: its VF's PCI address}`` of a host.

    A vDPA device is a child of the VF it runs on; libvirt names both as
    node devices (``<parent>pci_0000_06_00_1</parent>``).
    """
    from nova.virt.libvirt import host as host_mod

    flags = getattr(host_mod.libvirt, 'VIR_CONNECT_LIST_NODE_DEVICES_CAP_VDPA',
                    _CAP_VDPA)
    found = {}
    for device in host.list_all_devices(flags=flags):
        xml_doc = etree.fromstring(device.XMLDesc(0))
        chardev = xml_doc.findtext('./capability[@type="vdpa"]/chardev')
        parent = xml_doc.findtext('./parent') or ''
        parts = parent.split('_')
        if chardev and len(parts) == 5 and parts[0] == 'pci':
            found[chardev] = '%s:%s:%s.%s' % tuple(
                part.lower() for part in parts[1:])
    return found


def _address(element):
    return '%04x:%02x:%02x.%x' % tuple(
        int(element.get(key), 16)
        for key in ('domain', 'bus', 'slot', 'function'))


def in_use(driver, running=True):
    """``{PCI address: server UUID}`` for the guests ``driver`` runs.

    With ``running=False``, for the guests it keeps defined but shut off
    instead.

    :returns: None for a driver that cannot tell (not libvirt).
    :raises: whatever the hypervisor raises when it cannot be asked.
    """
    host = getattr(driver, '_host', None)
    if host is None or not hasattr(host, 'list_guests'):
        return None
    guests = host.list_guests(only_running=running)
    if not running:
        guests = [guest for guest in guests if not guest.is_active()]
    found = {}
    vdpa = {}  # {character device: server UUID}
    for guest in guests:
        xml_doc = etree.fromstring(guest.get_xml_desc())
        for address in guest_pci_addresses(xml_doc):
            found[address] = guest.uuid
        for chardev in vdpa_chardevs(xml_doc):
            vdpa[chardev] = guest.uuid
    if vdpa:
        for chardev, address in vdpa_vf_addresses(host).items():
            if chardev in vdpa:
                found[address] = vdpa[chardev]
    return found


def _asked(driver, running):
    """:func:`in_use`, once per :func:`hypervisor_checked` block."""
    key = (id(driver), running)
    found = _scope.found
    if key not in found:
        try:
            found[key] = in_use(driver, running=running)
        except Exception:
            found[key] = UNKNOWN
    return found[key]


def user_of(driver, address):
    """The server whose running guest uses ``address``, else None.

    Inside :func:`hypervisor_checked` only; the hypervisor is asked once
    per block. A hypervisor that cannot be asked answers :data:`UNKNOWN`:
    nothing is freed on a guess.
    """
    if driver is None:
        return None
    devices = _asked(driver, running=True)
    if devices == UNKNOWN:
        return UNKNOWN
    if devices is None:
        return None
    return devices.get(address.lower())


def named_by_own_stopped_guest(driver, address, owner):
    """Whether ``owner``'s own guest here, shut off, names ``address``.

    A resize being reverted: Nova's destination records the migration
    reverted before the source takes the server back, so a source audit
    in between finds the server neither on its host nor migrating, while
    the source's guest, shut off since the resize, is about to start again
    on these devices. Inside :func:`hypervisor_checked` only; a hypervisor
    that cannot be asked answers True: nothing is freed on a guess.
    """
    if driver is None or owner is None:
        return False
    devices = _asked(driver, running=False)
    if devices == UNKNOWN:
        return True
    return devices is not None and devices.get(address.lower()) == owner
