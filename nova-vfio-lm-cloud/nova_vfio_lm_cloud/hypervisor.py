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

"""The fake hypervisor's state on disk, and the controls of migrations.

Each compute's fake libvirt keeps its domains under
``hypervisor/<host>/domains/`` in the run folder, as libvirtd keeps them
beyond the life of nova-compute: a compute killed and started again finds
its guests. A live migration writes the guest into the destination's
folder, which is how it crosses processes.

Migrations are controlled from outside through ``hypervisor/mode`` (one
word, see :data:`MODES`) and a file per held migration under
``hypervisor/held/``. ``nova-vfio-lm-cloud hypervisor`` writes them.
"""

import json
import os
import time

from lxml import etree
from oslo_utils import uuidutils

from nova_vfio_lm_cloud import supervisor

#: ``complete``: migrations finish at once; ``hold``: each waits, running,
#: until released, failed or aborted; ``fail``: the hypervisor fails each.
MODES = ('complete', 'hold', 'fail')
#: How long a held migration waits before it fails by itself.
HOLD_LIMIT = 600


class HypervisorError(RuntimeError):
    """A control was used wrongly; the message says how."""


def checked_uuid(value):
    """``value`` if it is a server UUID; it names a file in the run folder."""
    if not value or not uuidutils.is_uuid_like(value):
        raise HypervisorError('%r is not a server UUID' % (value,))
    return value


class Hypervisor:
    """The fake hypervisor folder of one run folder."""

    def __init__(self, path):
        self.path = path

    # -- controls ------------------------------------------------------

    def mode(self):
        try:
            with open(os.path.join(self.path, 'mode')) as f:
                mode = f.read().strip()
        except FileNotFoundError:
            return 'complete'
        return mode if mode in MODES else 'complete'

    def set_mode(self, mode):
        if mode not in MODES:
            raise HypervisorError('mode must be one of %s, not %r'
                                  % (', '.join(MODES), mode))
        os.makedirs(self.path, exist_ok=True)
        _write(os.path.join(self.path, 'mode'), mode + '\n')

    def _held_path(self, uuid):
        return os.path.join(self.path, 'held', uuid + '.json')

    def held(self):
        """``{server uuid: {'source', 'destination', 'state'}}``."""
        folder = os.path.join(self.path, 'held')
        found = {}
        if os.path.isdir(folder):
            for name in os.listdir(folder):
                if name.endswith('.json'):
                    data = _read_json(os.path.join(folder, name))
                    if data:
                        found[name[:-5]] = data
        return found

    def hold(self, uuid, source, destination):
        """Record a migration as held (called by the source's libvirt)."""
        _write_json(self._held_path(uuid), {
            'source': source, 'destination': destination,
            'state': 'held', 'since': time.time()})

    def decide(self, uuid, state):
        """Let a held migration ``release`` (complete) or ``fail``."""
        if state not in ('release', 'fail'):
            raise HypervisorError('a held migration can be released or '
                                  'failed, not %r' % state)
        checked_uuid(uuid)
        data = _read_json(self._held_path(uuid))
        if not data:
            raise HypervisorError('no migration of %s is held' % uuid)
        data['state'] = state
        _write_json(self._held_path(uuid), data)

    def decision(self, uuid):
        data = _read_json(self._held_path(uuid)) or {}
        return data.get('state')

    def unhold(self, uuid):
        try:
            os.unlink(self._held_path(uuid))
        except FileNotFoundError:
            pass

    # -- the source's migration monitor -----------------------------------

    def _monitor_path(self, uuid):
        return os.path.join(self.path, 'monitor', checked_uuid(uuid))

    def pause_monitor(self, uuid):
        """Stop the source's migration monitor after its next look at the job.

        At the next look that finds the job running (the first one when
        set before the migration starts). Nova's monitor saves the
        migration's progress through the conductor between two looks, the
        first time right after the first running look; once
        :meth:`monitor_paused`, no save of this migration is in flight: a
        hold point for fault tests.
        """
        path = self._monitor_path(uuid)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        _write(path, 'pause\n')

    def monitor_paused(self, uuid):
        try:
            with open(self._monitor_path(uuid)) as f:
                return f.read().strip() == 'paused'
        except FileNotFoundError:
            return False

    def resume_monitor(self, uuid):
        try:
            os.unlink(self._monitor_path(uuid))
        except FileNotFoundError:
            pass

    def wait_while_monitor_paused(self, uuid):
        """Called by the source's libvirt as the monitor looks at the job."""
        path = self._monitor_path(uuid)
        if not os.path.exists(path):
            return
        _write(path, 'paused\n')
        supervisor.poll(lambda: not os.path.exists(path), HOLD_LIMIT, 0.2)

    # -- domains -------------------------------------------------------

    def host(self, hostname):
        return HostDomains(os.path.join(self.path, hostname))

    def hosts(self):
        """Names of the hosts whose hypervisor keeps something."""
        if not os.path.isdir(self.path):
            return []
        return sorted(
            name for name in os.listdir(self.path)
            if os.path.isdir(os.path.join(self.path, name, 'domains')))

    def destroy(self, hostname, uuid):
        """Stop and undefine a guest, as ``virsh destroy`` and ``undefine``.

        The operator's action for a guest Nova does not know on that host
        (its nova-compute drops it at its next call to the hypervisor).
        """
        checked_uuid(uuid)
        if hostname not in self.hosts():
            raise HypervisorError('no hypervisor of a host %r here (hosts: '
                                  '%s)' % (hostname, ', '.join(self.hosts())))
        domains = self.host(hostname)
        if domains.get(uuid) is None:
            raise HypervisorError('%s keeps no guest %s' % (hostname, uuid))
        domains.remove(uuid)


class HostDomains:
    """The domains one host's hypervisor keeps, by server UUID."""

    def __init__(self, path):
        self.path = path
        self.folder = os.path.join(path, 'domains')

    def _file(self, uuid):
        return os.path.join(self.folder, uuid + '.json')

    def save(self, uuid, xml, running):
        os.makedirs(self.folder, exist_ok=True)
        _write_json(self._file(uuid), {'xml': xml, 'running': running})

    def remove(self, uuid):
        try:
            os.unlink(self._file(uuid))
        except FileNotFoundError:
            pass

    def all(self):
        """``{uuid: {'xml', 'running'}}`` of every domain on the host."""
        found = {}
        if os.path.isdir(self.folder):
            for name in sorted(os.listdir(self.folder)):
                if name.endswith('.json'):
                    data = _read_json(os.path.join(self.folder, name))
                    if data:
                        found[name[:-5]] = data
        return found

    def get(self, uuid):
        return _read_json(self._file(uuid))

    # -- hot-plug -----------------------------------------------------

    def _plugs_file(self):
        return os.path.join(self.path, 'plugs.jsonl')

    def record_plug(self, uuid, action, xml):
        """Note a device attached to or detached from a running guest.

        ``vfs`` and ``macs``: those of a port's ``<interface
        type='hostdev'>``; ``pci``: the PCI address of any device, also a
        ``direct-physical`` port's PF ``<hostdev>``.
        """
        os.makedirs(self.path, exist_ok=True)
        devices = '<domain><devices>%s</devices></domain>' % xml
        interfaces = hostdev_interfaces(devices)
        entry = {'server': uuid, 'action': action,
                 'device': etree.fromstring(xml).tag,
                 'vfs': [vf for _mac, vf in interfaces],
                 'macs': [mac for mac, _vf in interfaces],
                 'pci': hostdev_addresses(devices)}
        with open(self._plugs_file(), 'a') as f:
            f.write(json.dumps(entry, sort_keys=True) + '\n')

    def plugs(self, uuid=None):
        """Attaches and detaches, oldest first (of one server)."""
        try:
            with open(self._plugs_file()) as f:
                found = [json.loads(line) for line in f if line.strip()]
        except FileNotFoundError:
            return []
        return [e for e in found if uuid is None or e['server'] == uuid]


def hostdev_addresses(xml):
    """Source PCI addresses of a domain XML's hostdevs, as ``0000:81:00.1``.

    Both ``<hostdev>`` and ``<interface type='hostdev'>`` count.
    """
    root = etree.fromstring(xml)
    found = []
    for address in root.findall('./devices/hostdev/source/address') + \
            root.findall("./devices/interface[@type='hostdev']"
                         "/source/address"):
        if address.get('bus') is None:
            continue
        found.append('%04x:%02x:%02x.%x' % tuple(
            int(address.get(key, '0'), 16)
            for key in ('domain', 'bus', 'slot', 'function')))
    return found


def pci_hostdevs(xml):
    """``[(PCI address, managed)]`` of a domain XML's plain ``<hostdev>``.

    A flavor's VF or a ``direct-physical`` port's PF, not a ``direct``
    port's ``<interface type='hostdev'>``.
    """
    found = []
    for hostdev in etree.fromstring(xml).findall(
            "./devices/hostdev[@type='pci']"):
        address = hostdev.find('./source/address')
        if address is None or address.get('bus') is None:
            continue
        found.append(('%04x:%02x:%02x.%x' % tuple(
            int(address.get(key, '0'), 16)
            for key in ('domain', 'bus', 'slot', 'function')),
            hostdev.get('managed', 'no')))
    return found


def hostdev_interfaces(xml):
    """``[(MAC, VF)]`` of a domain XML's ``<interface type='hostdev'>``.

    What the SR-IOV agent of a real host reads from its PFs: the MAC
    address each VF given to a guest has.
    """
    found = []
    for interface in etree.fromstring(xml).findall(
            "./devices/interface[@type='hostdev']"):
        mac = interface.find('./mac')
        address = interface.find('./source/address')
        if mac is None or address is None or address.get('bus') is None:
            continue
        found.append((mac.get('address').lower(), '%04x:%02x:%02x.%x' % tuple(
            int(address.get(key, '0'), 16)
            for key in ('domain', 'bus', 'slot', 'function'))))
    return found


def _write(path, text):
    tmp = path + '.tmp'
    with open(tmp, 'w') as f:
        f.write(text)
    os.replace(tmp, path)


def _write_json(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    _write(path, json.dumps(data, indent=1, sort_keys=True))


def _read_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (FileNotFoundError, ValueError):
        return None
