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

"""What moves with a live-migrated server's VFs, and how its XML changes.

The destination claims one VF per device of each live-migratable flavor PCI
request before anything moves, and describes each pair as a plain dict
carried in ``LiveMigrateData.vfio_lm_pci_devices``; the source rewrites each
``<hostdev type='pci'>`` of the guest to the destination VF. Each side
marks its check data (``vfio_lm_source``, ``vfio_lm_dest``) so that the
other can refuse a peer that would not understand the mapping.
"""

import contextlib

from nova_vfio_lm import pci_pools
from nova_vfio_lm import pci_tags

#: Format of the dicts in ``vfio_lm_pci_devices``; the source writes it in
#: ``vfio_lm_source`` and the destination checks it.
DATA_FORMAT = '1'

KEYS = ('source_address', 'dest_address', 'request_id', 'vendor_id',
        'product_id', 'live_migratable', 'managed')


class MappingError(Exception):
    """The guest has a live-migratable device with no destination VF."""


def peer_runs_plugin(migrate_data, field):
    """Whether the compute that filled ``field`` of the data runs the plugin.

    :param field: ``vfio_lm_source`` or ``vfio_lm_dest``, the marks each
        side's pre-check writes.
    """
    return (migrate_data is not None and field in migrate_data.fields and
            field in migrate_data and
            getattr(migrate_data, field) == DATA_FORMAT)


def flavor_requests(instance):
    if not instance.pci_requests or not instance.pci_requests.requests:
        return []
    return [r for r in instance.pci_requests.requests
            if r.source == r.FLAVOR_ALIAS]


def has_pci_requests(instance, loaded_only=False):
    """Whether the server asks for PCI devices (flavor or ports).

    :param loaded_only: decide from what is loaded, never lazy-loading
        the requests: a rollback may run with the database down (the
        conductor's pre-check loaded them while it answered).
    """
    if loaded_only and not instance.obj_attr_is_set('pci_requests'):
        return False
    return bool(instance.pci_requests and instance.pci_requests.requests)


def asks_for_pci_devices(instance):
    """:func:`has_pci_requests`, False when the requests cannot be read.

    For the error paths of RPC calls, which must not fail on a lazy-load
    with the database down (the caller usually loaded them).
    """
    try:
        return has_pci_requests(instance)
    except Exception:
        return False


def arrives_with_pci_devices(compute, instance):
    """Whether a server a destination takes over has PCI devices here.

    Decided without the database (it may be down as the destination's
    post-migration is called): the requests when the source sent them,
    else the devices this host claimed for the server (the tracker holds
    them in memory).
    """
    if has_pci_requests(instance, loaded_only=True):
        return True
    tracker = compute.rt.pci_tracker
    return tracker is not None and bool(tracker.claims.get(instance.uuid))


def migratable_flavor_requests(instance):
    """The flavor PCI requests if all are live-migratable, else ``[]``."""
    requests = flavor_requests(instance)
    if requests and all(pci_pools.is_live_migratable_request(r)
                        for r in requests):
        return requests
    return []


def refusal(instance):
    """Why the flavor PCI requests block live migration, or ``None``."""
    blocking = sorted({
        request.alias_name or request.request_id
        for request in flavor_requests(instance)
        if not pci_pools.is_live_migratable_request(request)})
    if not blocking:
        return None
    return ('PCI alias(es) %s of this server do not ask for live-migratable '
            'devices (live_migratable=yes in [pci]alias); resize to a flavor '
            'whose aliases do, to live-migrate it' % ', '.join(blocking))


def carries_pci_mapping(migrate_data):
    """Whether a live migration moves PCI devices with their state.

    True for the plugin's mapping, for Nova 2025.1+'s own, and for ports
    that move with their VF state.
    """
    if migrate_data is None:
        return False
    for field in ('vfio_lm_pci_devices', 'pci_dev_map_src_dst'):
        if field in migrate_data.fields and field in migrate_data and (
                getattr(migrate_data, field)):
            return True
    if 'vifs' in migrate_data.fields and 'vifs' in migrate_data:
        return any('vfio_lm_moves' in vif and vif.vfio_lm_moves
                   for vif in migrate_data.vifs or ())
    return False


def device_pairs(migrate_data):
    """``(source, dest)`` addresses of every VF that moves with its state.

    From the plugin's mapping or Nova 2025.1+'s, and from moving ports.
    """
    pairs = []
    if migrate_data is None:
        return pairs
    fields = migrate_data.fields
    if ('vfio_lm_pci_devices' in fields and
            'vfio_lm_pci_devices' in migrate_data):
        pairs.extend((entry['source_address'], entry['dest_address'])
                     for entry in migrate_data.vfio_lm_pci_devices or ())
    elif ('pci_dev_map_src_dst' in fields and
            'pci_dev_map_src_dst' in migrate_data):
        pairs.extend(sorted((migrate_data.pci_dev_map_src_dst or {}).items()))
    if 'vifs' in fields and 'vifs' in migrate_data:
        for vif in migrate_data.vifs or ():
            if not ('vfio_lm_moves' in vif and vif.vfio_lm_moves):
                continue
            source_vif = vif.source_vif if 'source_vif' in vif else {}
            source = (source_vif.get('profile') or {}).get('pci_slot')
            # ``profile`` reads the ``profile_json`` field ({} when unset)
            dest = (vif.profile or {}).get('pci_slot')
            if source and dest:
                pairs.append((source, dest))
    return pairs


def _flag(device, tag, default):
    return (device.extra_info or {}).get(tag, default)


def pair_devices(requests, source_devices, dest_devices):
    """One mapping dict per source device of each request.

    Devices of one request are interchangeable (they match the same spec),
    so they are paired in address order within each request.
    """
    mapping = []
    for request in requests:
        sources = sorted((d for d in source_devices
                          if d.request_id == request.request_id),
                         key=lambda d: d.address)
        dests = sorted((d for d in dest_devices
                        if d.request_id == request.request_id),
                       key=lambda d: d.address)
        mapping.extend(_entry(request.request_id, source.address, dest)
                       for source, dest in zip(sources, dests))
    return mapping


def _entry(request_id, source_address, dest):
    """One mapping dict: a source address and its destination device."""
    return {
        'source_address': source_address,
        'dest_address': dest.address,
        'request_id': request_id,
        'vendor_id': dest.vendor_id,
        'product_id': dest.product_id,
        'live_migratable': _flag(dest, pci_tags.LIVE_MIGRATABLE,
                                 pci_tags.FALSE),
        'managed': _flag(dest, pci_tags.MANAGED, pci_tags.TRUE),
    }


def mapping_from_native(source_to_dest, source_devices, dest_devices):
    """The plugin's mapping dicts for Nova 2025.1+'s own map.

    A 2024.x compute running the plugin reads only ``vfio_lm_pci_devices``
    (Nova drops ``pci_dev_map_src_dst`` when it sends the data to a
    2024.x compute), so a 2025.1+ destination describes the same pairs in
    the plugin's format as well.

    :param source_to_dest: ``pci_dev_map_src_dst``.
    :param source_devices: the server's devices on the source (their
        request ids).
    :param dest_devices: the devices claimed on the destination.
    """
    requests = {d.address: d.request_id for d in source_devices}
    by_address = {d.address: d for d in dest_devices}
    return [_entry(requests.get(source), source, by_address[dest])
            for source, dest in sorted(source_to_dest.items())
            if dest in by_address]


def native_map(mapping):
    """``pci_dev_map_src_dst`` for the plugin's mapping dicts."""
    return {entry['source_address']: entry['dest_address']
            for entry in mapping}


#: libvirt's ``<address>`` attributes of a PCI address, with hex widths.
_ADDRESS_FIELDS = (('domain', 4), ('bus', 2), ('slot', 2), ('function', 1))


def _fields(address):
    """The numbers of a PCI address string (``0000:81:00.1``)."""
    domain, bus, rest = address.split(':')
    slot, function = rest.split('.')
    return tuple(int(part, 16) for part in (domain, bus, slot, function))


def _normalized(address):
    return '%04x:%02x:%02x.%x' % _fields(address)


def _address_of(element):
    return '%04x:%02x:%02x.%x' % tuple(
        int(element.get(key), 16) for key, _width in _ADDRESS_FIELDS)


def _set_address(element, address):
    for (key, width), value in zip(_ADDRESS_FIELDS, _fields(address)):
        element.set(key, '0x%0*x' % (width, value))


def _pci_hostdev_sources(xml_doc):
    """``[(hostdev, its <address>, source address)]`` of the guest's VFs.

    Read in full before any is changed: a device is known by the address
    it had on the source, whatever another device's new address is.
    """
    found = []
    for hostdev in xml_doc.findall("./devices/hostdev[@type='pci']"):
        address = hostdev.find('./source/address')
        if address is not None:
            found.append((hostdev, address, _address_of(address)))
    return found


def rewrite_hostdevs(xml_doc, mapping, migratable_addresses):
    """Point each mapped ``<hostdev type='pci'>`` at its destination VF.

    :param xml_doc: the guest XML (lxml element), changed in place.
    :param mapping: the dicts built by :func:`pair_devices`.
    :param migratable_addresses: source addresses of the guest's
        live-migratable devices; each must have a mapping.
    :raises MappingError: naming a live-migratable address with none.
    """
    refuse_unmapped(xml_doc, native_map(mapping), migratable_addresses)
    by_source = {entry['source_address']: entry for entry in mapping}
    for hostdev, address, source in _pci_hostdev_sources(xml_doc):
        entry = by_source.get(source)
        if entry is None:
            continue
        _set_address(address, entry['dest_address'])
        hostdev.set('managed', 'no' if entry['managed'] == pci_tags.FALSE
                    else 'yes')
    return xml_doc


def unmapped_hostdevs(xml_doc, source_to_dest, migratable_addresses):
    """Live-migratable ``<hostdev>`` addresses of the guest with no VF.

    :param source_to_dest: ``{source address: destination address}``.
    :param migratable_addresses: the guest's live-migratable devices'
        addresses on the source.
    """
    mapped = {_normalized(src) for src in source_to_dest}
    migratable = {_normalized(a) for a in migratable_addresses}
    return sorted(source for _hostdev, _address, source
                  in _pci_hostdev_sources(xml_doc)
                  if source in migratable and source not in mapped)


def refuse_unmapped(xml_doc, source_to_dest, migratable_addresses):
    """Stop a migration that would leave a live-migratable VF unmapped.

    :raises MappingError: naming each such ``<hostdev>`` address.
    """
    missing = unmapped_hostdevs(xml_doc, source_to_dest,
                                migratable_addresses)
    if missing:
        raise MappingError(
            'live-migratable PCI device %s has no destination device; '
            'refusing to start the migration' % ', '.join(missing))


def map_hostdevs_at_once(xml_doc, source_to_dest):
    """Point each ``<hostdev type='pci'>`` at the VF mapped to its source.

    Every device's source address is read before any is changed, so a
    destination address that is also another device's source address
    cannot make a later entry match the wrong device.

    :param xml_doc: the guest XML (lxml element), changed in place.
    :param source_to_dest: ``{source address: destination address}``.
    :raises MappingError: naming a source address no device in the XML has.
    """
    wanted = {_normalized(src): _normalized(dst)
              for src, dst in source_to_dest.items()}
    targets = [(address, source) for _hostdev, address, source
               in _pci_hostdev_sources(xml_doc) if source in wanted]
    missing = sorted(set(wanted) - {source for _, source in targets})
    if missing:
        raise MappingError(
            'no PCI device %s in the guest to map to the destination; '
            'refusing to start the migration' % ', '.join(missing))
    for address, source in targets:
        _set_address(address, wanted[source])
    return xml_doc


def is_live_migratable_device(device):
    """Whether a PCI device's state can move (``live_migratable=yes``)."""
    return _flag(device, pci_tags.LIVE_MIGRATABLE, None) == pci_tags.TRUE


def migratable_source_addresses(instance):
    """Addresses of the guest's live-migratable devices on its host."""
    return {device.address for device in instance_devices(instance.uuid)
            if device.status == 'allocated' and
            is_live_migratable_device(device)}


def port_requests(instance):
    """The neutron port PCI requests of an instance."""
    if not instance.pci_requests or not instance.pci_requests.requests:
        return []
    return [r for r in instance.pci_requests.requests
            if r.source == r.NEUTRON_PORT]


#: The only port kind whose device the guest drives through VFIO: a
#: ``direct`` port's VF. Every other SR-IOV port (``direct-physical``: a
#: whole PF; ``macvtap``, ``vdpa``, ``remote-managed``, ...) keeps Nova's
#: unplug and plug, whatever its device's tags say.
MOVING_VNIC_TYPE = 'direct'
MOVING_DEV_TYPE = 'type-VF'


def port_device_moves(vnic_type, device):
    """Whether a port of ``vnic_type`` on ``device`` moves with its state.

    The VF comes from a ``[pci]device_spec`` entry with
    ``physical_network`` and ``live_migratable=yes``.
    """
    return (vnic_type == MOVING_VNIC_TYPE and
            device.dev_type == MOVING_DEV_TYPE and
            is_live_migratable_device(device))


def migratable_port_request_ids(instance, devices):
    """Request ids of the ports here that move with their VF state."""
    vnic_types = {vif['id']: vif.get('vnic_type')
                  for vif in instance.get_network_info()}
    ports = {r.request_id: vnic_types.get(r.requester_id)
             for r in port_requests(instance)}
    return {d.request_id for d in devices
            if d.request_id in ports and d.status == 'allocated' and
            port_device_moves(ports[d.request_id], d)}


def instance_devices(instance_uuid):
    """Every PCI device the server holds, on any host, any status.

    A context of its own: callers run inside Nova operations whose request
    context may be busy in another thread (the migration monitor).
    """
    from nova import context as nova_context
    from nova import objects

    return objects.PciDeviceList.get_by_instance_uuid(
        nova_context.get_admin_context(), instance_uuid)


def moving_port_request_ids(instance):
    """Request ids of the server's ports that move with their VF state."""
    if not port_requests(instance):
        return set()
    return migratable_port_request_ids(instance,
                                       instance_devices(instance.uuid))


#: the spec key that pins a port's PCI request to one PF's netdev
PARENT_IFNAME = 'parent_ifname'


def repin_port_requests_to_held_vfs(instance):
    """Make each port's PCI request name the PF of the VF the port holds.

    Nova pins a port with a bandwidth allocation to the PF netdev of that
    allocation (``parent_ifname`` in the request spec). During a live
    migration the conductor writes the destination's PF there, and the
    source saves the instance with it while the migration runs. After a
    rollback the port still holds its source VF, so its request must name
    that VF's PF again; else the database places the port's VF on a PF it
    is not on.

    :returns: whether any request changed.
    """
    held = {d.request_id: d for d in instance_devices(instance.uuid)
            if d.status == 'allocated'}
    changed = False
    for request in port_requests(instance):
        device = held.get(request.request_id)
        pf = _flag(device, PARENT_IFNAME, None) if device else None
        for spec in request.spec if pf else ():
            if spec.get(PARENT_IFNAME, pf) != pf:
                spec[PARENT_IFNAME] = pf
                changed = True
    return changed


@contextlib.contextmanager
def requiring_live_migratable(requests, request_ids):
    """Let some PCI requests match only live-migratable VFs, for a while.

    Used while a moving port's VF is scheduled or claimed. Afterwards each
    request has its own spec back, with whatever Nova wrote into it
    meanwhile (the conductor pins a QoS port to the PF netdev of its new
    bandwidth allocation, in place, in the instance's requests, which a
    request spec built from the instance shares).

    :returns: (as the context value) whether any request was changed.
    """
    changed = [(r, r.spec) for r in requests if r.request_id in request_ids]
    for request, spec in changed:
        request.spec = [dict(s, **{pci_tags.LIVE_MIGRATABLE: pci_tags.TRUE})
                        for s in spec]
    try:
        yield bool(changed)
    finally:
        for request, spec in changed:
            for own, used in zip(spec, request.spec):
                kept = own.get(pci_tags.LIVE_MIGRATABLE)
                own.update(used)
                if kept is None:
                    del own[pci_tags.LIVE_MIGRATABLE]
                else:
                    own[pci_tags.LIVE_MIGRATABLE] = kept
            request.spec = spec
