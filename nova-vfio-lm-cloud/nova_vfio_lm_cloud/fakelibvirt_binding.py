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

"""The libvirt binding of the local cloud's computes: the only stand-in.

Nova's own test fake (``nova.tests.fixtures.libvirt``) provides the API;
this module makes it a hypervisor that outlives nova-compute and talks to
its peers through the run folder:

- ``openAuth`` returns a connection for the host described by the JSON
  file named in ``$NOVA_VFIO_LM_FAKE_HOST`` (its cards, PFs and VFs, and
  the libvirt and QEMU versions), with the domains kept on disk
  (:mod:`.hypervisor`); each PF has a netdev named as
  :func:`.layout.pf_netdev` says, and a lone PF (no VFs, for
  ``direct-physical`` ports) also the MAC address the layout gives it;
- a domain's PCI ``<hostdev>`` elements are kept as libvirt keeps them,
  and a guest is refused a VF that another running guest of the host
  holds, as VFIO refuses a device already open;
- a device attached to or detached from a running guest (Nova's
  hot-plug of a port whose VF cannot move) changes its kept XML and is
  recorded per host (:meth:`.hypervisor.HostDomains.plugs`);
- ``migrateToURI3`` writes the guest, with the destination XML Nova sent,
  into the destination host's domains, running, and stops and undefines
  the source's (:func:`.inprocess.fakelibvirt_jobs.leave_source`); it
  can be held, released, failed or aborted from outside
  (:class:`.hypervisor.Hypervisor`), and a failed or aborted job leaves
  the source running and nothing on the destination.

Nothing here imports eventlet: nova 2026.2's computes run without it.
"""

import importlib
import json
import os
import sys
import types
import urllib.parse

from lxml import etree
from oslo_utils import versionutils

import nova.tests

from nova_vfio_lm_cloud import hypervisor as hypervisor_mod
from nova_vfio_lm_cloud.inprocess import fakelibvirt_hostdevs
from nova_vfio_lm_cloud.inprocess import fakelibvirt_jobs
from nova_vfio_lm_cloud.inprocess import fakelibvirt_netdevs
from nova_vfio_lm_cloud import layout
from nova_vfio_lm_cloud import stand_in_gate
from nova_vfio_lm_cloud import supervisor

# before Nova's fake is set up: only in a compute of a test cloud
stand_in_gate.check('The fake libvirt binding')

FIXTURES = 'nova.tests.fixtures'


def _import_fake():
    """``nova.tests.fixtures.libvirt``, eventlet-free where it must be.

    The package's ``__init__`` imports Nova's functional test package,
    which monkey-patches eventlet. That is harmless in an eventlet
    compute (2024.x), but a compute in native-threading mode (nova
    2026.2) refuses eventlet, so there the package is an empty stand-in
    that only gives access to its modules (the compute needs no others).
    """
    if 'eventlet' not in sys.modules and FIXTURES not in sys.modules:
        package = types.ModuleType(FIXTURES)
        package.__path__ = [os.path.join(
            os.path.dirname(nova.tests.__file__), 'fixtures')]
        sys.modules[FIXTURES] = nova.tests.fixtures = package
    return importlib.import_module(FIXTURES + '.libvirt')


_fake = _import_fake()

# The binding's API is the fake's, name for name.
globals().update({name: value for name, value in vars(_fake).items()
                  if not name.startswith('__')})

HOST_ENV = 'NOVA_VFIO_LM_FAKE_HOST'

fakelibvirt_hostdevs.PciHostdevFixture().setUp()


def host_config():
    with open(os.environ[HOST_ENV]) as f:
        return json.load(f)


def _pf_netdevs():
    """Each card's PF has its netdev, which Nova records for its VFs.

    Nova ties a QoS port's bandwidth (on the provider
    ``<host>:NIC Switch agent:<PF netdev>``) to the VFs it may claim for
    it through each VF's ``parent_ifname``, its PF's netdev name.
    """
    cards = host_config()['cards']
    fakelibvirt_netdevs.PfNetdevFixture({
        layout.pf_address(card): layout.pf_netdev(card)
        for card in layout.sriov_cards(cards)}).setUp()
    _lone_pf_netdevs(layout.lone_pfs(cards))


def _lone_pf_netdevs(pfs):
    """A lone PF's netdev, in libvirt's list and in Nova's sysfs lookups.

    Nova reads a PF's MAC address (``/sys/bus/pci/devices/<PF>/net/<if>/
    address``) at each resource audit, puts it in the binding profile of a
    ``direct-physical`` port bound to that PF (``device_mac_address``),
    and neutron gives the port that MAC.
    """
    from nova.pci import utils as pci_utils

    netdevs = {layout.pf_address(pf): (layout.pf_netdev(pf), pf['mac'])
               for pf in pfs}
    get_ifname = pci_utils.get_ifname_by_pci_address
    get_mac = pci_utils.get_mac_by_pci_address
    list_devices = _fake.Connection.listAllDevices

    def get_ifname_by_pci_address(pci_addr, pf_interface=False):
        if pci_addr in netdevs:
            return netdevs[pci_addr][0]
        return get_ifname(pci_addr, pf_interface)

    def get_mac_by_pci_address(pci_addr, pf_interface=False):
        if pci_addr in netdevs:
            return netdevs[pci_addr][1]
        return get_mac(pci_addr, pf_interface)

    def listAllDevices(connection, flags):
        devices = list_devices(connection, flags)
        if flags & _fake.VIR_CONNECT_LIST_NODE_DEVICES_CAP_NET:
            for address, (ifname, mac) in sorted(netdevs.items()):
                parent = 'pci_%s' % address.replace(':', '_').replace(
                    '.', '_')
                devices.append(_fake.NodeDevice(
                    connection, xml=fakelibvirt_netdevs.netdev_xml(
                        ifname, mac, parent)))
        return devices

    pci_utils.get_ifname_by_pci_address = get_ifname_by_pci_address
    pci_utils.get_mac_by_pci_address = get_mac_by_pci_address
    _fake.Connection.listAllDevices = listAllDevices


if HOST_ENV in os.environ:
    _pf_netdevs()


def pci_devices(cards):
    """Fake libvirt's PCI devices for the host's cards."""
    info = _fake.HostPCIDevicesInfo(num_pci=0, num_pfs=0, num_vfs=0)
    iommu_group = 40
    for card in cards:
        bus = card['bus']
        info.add_device(
            dev_type='PF', bus=bus, slot=0, function=0,
            iommu_group=iommu_group, numa_node=0, vf_ratio=card['vfs'],
            vend_id=layout.VENDOR_ID, prod_id=card['pf_product_id'],
            driver_name='mlx5_core', mac_address=card.get('mac'))
        for number in range(card['vfs']):
            info.add_device(
                dev_type='VF', bus=bus, slot=0, function=number + 1,
                iommu_group=iommu_group + 1 + number, numa_node=0,
                vf_ratio=card['vfs'], parent=(bus, 0, 0),
                vend_id=layout.VENDOR_ID, prod_id=layout.VF_PRODUCT_ID,
                driver_name=('mlx5_vfio_pci' if card['live_migratable']
                             else 'vfio-pci'))
        iommu_group += card['vfs'] + 1
    return info


def _in_use_error(address, other):
    return _fake.make_libvirtError(
        _fake.libvirtError,
        'Requested operation is not valid: PCI device %s is in use by '
        'driver QEMU, domain %s' % (address, other),
        error_code=_fake.VIR_ERR_OPERATION_INVALID)


def check_hostdevs_free(store, xml, uuid):
    """Refuse a VF that another running guest of the host holds."""
    wanted = set(hypervisor_mod.hostdev_addresses(xml))
    if not wanted:
        return
    for other, data in store.all().items():
        if other != uuid and data['running']:
            taken = wanted & set(hypervisor_mod.hostdev_addresses(data['xml']))
            if taken:
                raise _in_use_error(sorted(taken)[0], other)


class HostConnection(_fake.Connection):
    """One host's hypervisor, its domains kept on disk."""

    def __init__(self, uri, readonly, config):
        self.config = config
        hyper = hypervisor_mod.Hypervisor(config['hypervisor_dir'])
        self.store = hyper.host(config['hostname'])
        # a migration job lives in its source's nova-compute: one held
        # when that process died ended with it
        for uuid, data in hyper.held().items():
            if data['source'] == config['hostname']:
                hyper.unhold(uuid)
        super().__init__(
            uri, readonly,
            version=versionutils.convert_version_to_int(
                config['libvirt_version']),
            hv_version=versionutils.convert_version_to_int(
                config['qemu_version']),
            hostname=config['hostname'],
            host_info=_fake.HostInfo(
                cpu_nodes=1, cpu_sockets=1, cpu_cores=config['cpus'],
                cpu_threads=1, kB_mem=config['memory_mb']),
            pci_info=pci_devices(config['cards']))
        self._sync()

    # -- the domains on disk -------------------------------------------

    def _sync(self):
        """Follow the domains on disk that others changed.

        Add those written by others (an incoming migration); drop those
        removed by others (an operator's ``cloud hypervisor destroy``, as
        ``virsh destroy`` and ``undefine`` act on every client's view).
        """
        for dom in list(self._vms.values()):
            # saved once, and gone from disk now (read last: computes of
            # 2024.x call libvirt from several native threads)
            if getattr(dom, '_vfio_lm_saved', False) and \
                    self.store.get(dom.UUIDString()) is None:
                dom._state = _fake.VIR_DOMAIN_SHUTOFF
                _fake.Connection._mark_not_running(self, dom)
                if dom.name() in self._vms:
                    _fake.Connection._undefine(self, dom)
        known = {vm.UUIDString() for vm in self._vms.values()}
        for uuid, data in self.store.all().items():
            if uuid in known:
                continue
            dom = _fake.Domain(self, data['xml'], running=False)
            dom._vfio_lm_xml = data['xml']
            dom._vfio_lm_saved = True
            self._vms[dom.name()] = dom
            if data['running']:
                dom._state = _fake.VIR_DOMAIN_RUNNING
                super()._mark_running(dom)

    def _save(self, dom):
        xml = getattr(dom, '_vfio_lm_xml', None)
        if xml is None or dom.name() not in self._vms:
            return
        self.store.save(dom.UUIDString(), xml,
                        dom._state != _fake.VIR_DOMAIN_SHUTOFF)
        dom._vfio_lm_saved = True

    def _emit_lifecycle(self, dom, event, detail):
        if hasattr(dom, '_def'):  # not while the domain is being built
            super()._emit_lifecycle(dom, event, detail)

    def _mark_running(self, dom):
        if hasattr(dom, '_def') and hasattr(dom, '_vfio_lm_xml'):
            try:
                check_hostdevs_free(
                    self.store, dom._vfio_lm_xml, dom.UUIDString())
            except _fake.libvirtError:
                dom._state = _fake.VIR_DOMAIN_SHUTOFF
                raise
        super()._mark_running(dom)
        if hasattr(dom, '_def'):
            self._save(dom)

    def _mark_not_running(self, dom):
        super()._mark_not_running(dom)
        if dom.name() in self._vms:
            self._save(dom)
        elif dom._transient:
            self.store.remove(dom.UUIDString())

    def _undefine(self, dom):
        super()._undefine(dom)
        self.store.remove(dom.UUIDString())

    def defineXML(self, xml):
        self._sync()
        dom = super().defineXML(xml)
        dom._vfio_lm_xml = xml
        self._save(dom)
        return dom

    def createXML(self, xml, flags):
        self._sync()
        uuid = etree.fromstring(xml).findtext('./uuid')
        check_hostdevs_free(self.store, xml, uuid)
        dom = super().createXML(xml, flags)
        dom._vfio_lm_xml = xml
        self._save(dom)
        return dom

    def lookupByUUIDString(self, uuid):
        self._sync()
        return super().lookupByUUIDString(uuid)

    def lookupByName(self, name):
        self._sync()
        return super().lookupByName(name)

    def listAllDomains(self, flags=None):
        self._sync()
        return super().listAllDomains(flags)


def openAuth(uri, auth, flags=0):
    return HostConnection(uri, flags == _fake.VIR_CONNECT_RO, host_config())


# -- live migration -------------------------------------------------------

def _migration_error(message, code=_fake.VIR_ERR_OPERATION_FAILED):
    return _fake.make_libvirtError(_fake.libvirtError, message,
                                   error_code=code)


def _wait_held(domain, hyper, uuid):
    """Wait while the migration is held; return what ended the wait."""
    def decided():
        if getattr(domain, '_vfio_lm_abort', False):
            return 'abort'
        decision = hyper.decision(uuid)
        return decision if decision in ('release', 'fail') else None

    return supervisor.poll(decided, hypervisor_mod.HOLD_LIMIT, 0.2) or 'fail'


def migrateToURI3(domain, dconnuri, params, flags):
    """Carry the guest to the destination host, as the controls say."""
    connection = domain._connection
    hyper = hypervisor_mod.Hypervisor(connection.config['hypervisor_dir'])
    destination = urllib.parse.urlparse(dconnuri).hostname
    uuid = domain.UUIDString()
    domain._vfio_lm_abort = False
    domain._job_type = _fake.VIR_DOMAIN_JOB_UNBOUNDED
    outcome = hyper.mode()
    if outcome == 'hold':
        hyper.hold(uuid, connection.hostname, destination)
        try:
            outcome = _wait_held(domain, hyper, uuid)
        finally:
            hyper.unhold(uuid)
    if outcome == 'abort':
        domain._job_type = _fake.VIR_DOMAIN_JOB_CANCELLED
        raise _migration_error('operation aborted: migration out job: '
                               'canceled by client')
    if outcome == 'fail':
        domain.fail_job()
        raise _migration_error('internal error: unable to execute QEMU '
                               'command: migration failed (fake '
                               'hypervisor told to fail)')
    xml = params.get('destination_xml') or domain.XMLDesc(0)
    target = hyper.host(destination)
    try:
        check_hostdevs_free(target, xml, uuid)
    except _fake.libvirtError:
        domain.fail_job()
        raise
    target.save(uuid, xml, running=True)
    domain.complete_job()
    fakelibvirt_jobs.leave_source(_fake, domain, flags)


def _with_device(xml, device_xml):
    doc = etree.fromstring(xml)
    doc.find('./devices').append(etree.fromstring(device_xml))
    return etree.tostring(doc, encoding='unicode')


def _device_key(device_xml):
    """An interface's MAC address, or the VFs of a hostdev."""
    mac = etree.fromstring(device_xml).find('./mac')
    if mac is not None:
        return mac.get('address').lower()
    return tuple(hypervisor_mod.hostdev_addresses(
        '<domain><devices>%s</devices></domain>' % device_xml))


def _same_device(xml, device_xml):
    """The element of a domain XML that is that device, or None.

    An interface is known by its MAC address, a hostdev by its VF.
    """
    gone = etree.fromstring(device_xml)
    mac = gone.find('./mac')
    wanted = hypervisor_mod.hostdev_addresses(
        '<domain><devices>%s</devices></domain>' % device_xml)
    devices = etree.fromstring(xml).find('./devices')
    for element in devices:
        if element.tag != gone.tag:
            continue
        own = element.find('./mac')
        if mac is not None and own is not None:
            if own.get('address').lower() == mac.get('address').lower():
                return element
        elif wanted and wanted == hypervisor_mod.hostdev_addresses(
                '<domain><devices>%s</devices></domain>'
                % etree.tostring(element, encoding='unicode')):
            return element
    return None


def _without_device(xml, device_xml):
    """The XML without that device."""
    element = _same_device(xml, device_xml)
    if element is None:
        return xml
    doc = element.getroottree().getroot()
    element.getparent().remove(element)
    return etree.tostring(doc, encoding='unicode')


_attach_device_flags = _fake.Domain.attachDeviceFlags
_detach_device_flags = _fake.Domain.detachDeviceFlags


def attachDeviceFlags(domain, xml, flags):
    connection = domain._connection
    kept = getattr(domain, '_vfio_lm_xml', None)
    uuid = domain.UUIDString()
    if kept is not None:
        check_hostdevs_free(connection.store, _with_device(kept, xml), uuid)
    result = _attach_device_flags(domain, xml, flags)
    if kept is not None:
        domain._vfio_lm_xml = _with_device(kept, xml)
        connection._save(domain)
        if flags & _fake.VIR_DOMAIN_AFFECT_LIVE:
            connection.store.record_plug(uuid, 'attach', xml)
    return result


def detachDeviceFlags(domain, xml, flags):
    """Detach, then tell Nova the device is gone, as libvirt does.

    Nova waits for libvirt's device-removed event (20 s by default)
    before it looks whether the device went; the fake sends none.
    """
    connection = domain._connection
    # the alias libvirt gave the device, which its event names; the fake
    # drops the device at Nova's first (persistent) detach, so kept
    aliases = domain.__dict__.setdefault('_vfio_lm_aliases', {})
    live = _same_device(domain.XMLDesc(0), xml)
    if live is not None and live.find('./alias') is not None:
        aliases[_device_key(xml)] = live.find('./alias').get('name')
    result = _detach_device_flags(domain, xml, flags)
    kept = getattr(domain, '_vfio_lm_xml', None)
    if kept is not None:
        domain._vfio_lm_xml = _without_device(kept, xml)
        connection._save(domain)
        if flags & _fake.VIR_DOMAIN_AFFECT_LIVE:  # not the persistent one
            connection.store.record_plug(domain.UUIDString(), 'detach', xml)
    removed = connection._event_callbacks.get(
        _fake.VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED)
    if removed and flags & _fake.VIR_DOMAIN_AFFECT_LIVE:
        callback, opaque = removed
        callback(connection, domain, aliases.pop(_device_key(xml), None),
                 opaque)
    return result


def abortJob(domain):
    domain._vfio_lm_abort = True


_fake.Domain.migrateToURI3 = migrateToURI3
_fake.Domain.abortJob = abortJob
_fake.Domain.attachDeviceFlags = attachDeviceFlags
_fake.Domain.detachDeviceFlags = detachDeviceFlags
_job_stats = fakelibvirt_jobs.job_stats_reporting_end_once(_fake)


def jobStats(domain, flags=0):
    """Nova's migration monitor looks at the job; a test may pause it.

    The pause comes after a look that found the job running, and the
    monitor then gets what it saw: as if the job had moved on just after
    the look.
    """
    stats = _job_stats(domain, flags)
    if stats['type'] == _fake.VIR_DOMAIN_JOB_UNBOUNDED:
        hyper = hypervisor_mod.Hypervisor(
            domain._connection.config['hypervisor_dir'])
        hyper.wait_while_monitor_paused(domain.UUIDString())
    return stats


_fake.Domain.jobStats = jobStats
