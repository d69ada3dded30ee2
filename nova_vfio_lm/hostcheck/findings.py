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

"""The readiness rules: one finding per VF and check, with its fix.

A finding is ``ok``, ``warning`` (migration works, but something is
fragile), ``blocking`` (a live migration of this VF fails or is refused)
or ``unknown`` (a tool, file or key is missing, so nothing can be said).
Every finding that is not ``ok`` carries the commands that fix it, in the
order to run them.
"""

import re

from nova_vfio_lm.hostcheck import devlink
from nova_vfio_lm.hostcheck import runner as runner_mod
from nova_vfio_lm.hostcheck import specs
from nova_vfio_lm.hostcheck import sysfs

OK = 'ok'
WARNING = 'warning'
BLOCKING = 'blocking'
UNKNOWN = 'unknown'
#: Worst first.
STATUSES = (BLOCKING, WARNING, UNKNOWN, OK)

HOST = 'host'
#: The names of the checks of ``[pci]device_spec`` (host-wide) and of a
#: VF's bound driver (:func:`check_driver`).
DEVICE_SPEC = 'device_spec'
DRIVER = 'driver'
MIN_KERNEL = (6, 7)
# Nova's minimums for VFIO variant-driver devices, the same as the change
# libvirt_version_requirements enforces (not imported: that loads every
# change of the plugin, and Nova with them).
MIN_LIBVIRT = (10, 0, 0)
MIN_QEMU = (8, 2, 2)
MELLANOX = '15b3'
MLX5_VARIANT = 'mlx5_vfio_pci'
#: Minimum firmware with VF migration, by PF PCI id.
MIN_FIRMWARE_BY_PF = {(MELLANOX, '1021'): ('ConnectX-7', '28.41.1000')}
#: ... and by firmware family (the first number), for cards whose PF id
#: is not listed: BlueField-3 runs the 32.x family.
MIN_FIRMWARE_BY_FAMILY = {'32': ('BlueField-3', '32.41.1000')}
NEEDS_IPROUTE2 = 'install iproute2 6.2 or newer (devlink with migratable)'


class Finding:
    """What one check found for one device (``host`` for host-wide)."""

    def __init__(self, device, check, status, detail, fix=()):
        self.device = device
        self.check = check
        self.status = status
        self.detail = detail
        self.fix = [] if status == OK else list(fix)

    def as_dict(self):
        return dict(self.__dict__)

    def __repr__(self):
        return 'Finding(%s %s %s: %s)' % (
            self.device, self.check, self.status, self.detail)


class Report:
    """Every finding on one host, and the facts they came from."""

    def __init__(self, hostname, root, findings, vfs=(), cards=None):
        self.hostname = hostname
        self.root = root
        self.findings = findings
        self.vfs = list(vfs)
        self.cards = cards or {}

    def count(self, status):
        return sum(1 for f in self.findings if f.status == status)

    @property
    def status(self):
        """The worst status of all findings."""
        return next((s for s in STATUSES if self.count(s)), OK)

    @property
    def blocking(self):
        return self.count(BLOCKING) > 0

    def blocking_findings(self, check=None):
        """The blocking findings (of one check, e.g. :data:`DRIVER`)."""
        return [f for f in self.findings if f.status == BLOCKING and
                (check is None or f.check == check)]


def version_tuple(text, parts=3):
    """``'6.8.0-45-generic'`` -> ``(6, 8, 0)``; ``None`` if no number."""
    numbers = re.findall(r'\d+', (text or '').split('-')[0])
    if not numbers:
        return None
    return tuple(int(n) for n in numbers[:parts])


def _dotted(version):
    return '.'.join(str(n) for n in version)


# -- commands of the fixes ----------------------------------------------

def unbind(vf, driver):
    return 'echo %s > %s/%s/unbind' % (vf, sysfs.PCI_DRIVERS, driver)


def bind_to(vf, driver):
    return ['echo %s > /sys/bus/pci/devices/%s/driver_override' % (
        driver, vf), 'echo %s > /sys/bus/pci/drivers_probe' % vf]


def rebind(vf, current, variant, loaded):
    """Commands binding a VF to its variant driver from ``current``."""
    commands = [unbind(vf, current)] if current else []
    if loaded is not True:
        commands.append('modprobe %s' % variant)
    return commands + bind_to(vf, variant)


# -- host-wide checks ----------------------------------------------------

def check_kernel(root):
    release = sysfs.kernel_release(root)
    version = version_tuple(release, 2)
    if version is None:
        return Finding(HOST, 'kernel', UNKNOWN,
                       'kernel release unknown (proc/sys/kernel/osrelease '
                       'unreadable)', ['uname -r'])
    need = '>= %s needed for %s' % (_dotted(MIN_KERNEL), MLX5_VARIANT)
    if version < MIN_KERNEL:
        return Finding(HOST, 'kernel', BLOCKING, '%s (%s)' % (release, need),
                       ['boot a kernel %s or newer built with '
                        'CONFIG_MLX5_VFIO_PCI' % _dotted(MIN_KERNEL)])
    return Finding(HOST, 'kernel', OK, '%s (%s)' % (release, need))


def check_versions(runner):
    (libvirt, qemu), source = runner.versions()
    findings = []
    for check, found, minimum in (('libvirt', libvirt, MIN_LIBVIRT),
                                  ('qemu', qemu, MIN_QEMU)):
        need = '>= %s needed by Nova for VFIO variant drivers' % (
            _dotted(minimum))
        version = version_tuple(found)
        if version is None:
            findings.append(Finding(
                HOST, check, UNKNOWN, 'version unknown (%s)' % source,
                ['virsh version']))
        elif version < minimum:
            findings.append(Finding(
                HOST, check, BLOCKING, '%s (%s)' % (found, need),
                ['upgrade %s to %s or newer' % (
                    'libvirt' if check == 'libvirt' else 'QEMU',
                    _dotted(minimum))]))
        else:
            findings.append(Finding(
                HOST, check, OK, '%s (%s, from %s)' % (found, need, source)))
    return findings


# -- per-VF checks -------------------------------------------------------

class VFFacts:
    """What the checks of one VF read, gathered once."""

    def __init__(self, vf, root, aliases, modules, release):
        self.vf = vf
        self.driver = sysfs.bound_driver(vf.address, root)
        self.aliases = aliases
        self.release = release
        self.targets = (None if aliases is None else sysfs.variant_drivers(
            aliases, sysfs.modalias_fields(root, vf.address)))
        if self.targets:
            self.variant = self.targets[0]
        elif vf.vendor_id == MELLANOX:
            self.variant = MLX5_VARIANT
        else:
            self.variant = None
        if self.variant is None:
            self.loaded = None
        elif self.is_variant(self.driver) or sysfs.driver_registered(
                root, self.variant):
            self.loaded = True
        elif modules is None:
            self.loaded = None
        else:
            self.loaded = any(sysfs.same_driver(m, self.variant)
                              for m in modules)

    def is_variant(self, driver):
        if not driver or driver == sysfs.PLAIN_VFIO:
            return False
        if self.targets and any(sysfs.same_driver(driver, t)
                                for t in self.targets):
            return True
        return driver.replace('-', '_').endswith('_vfio_pci')

    @property
    def managed(self):
        return 'yes' if self.vf.managed == 'true' else 'no'


def check_driver(facts):
    vf, driver, variant = facts.vf.address, facts.driver, facts.variant
    managed = 'managed=%s' % facts.managed
    want = variant or '<variant driver>'
    if facts.is_variant(driver):
        return Finding(vf, DRIVER, OK, 'bound to %s, a variant driver '
                       '(%s)' % (driver, managed))
    fix = rebind(vf, driver, want, facts.loaded)
    if driver == sysfs.PLAIN_VFIO:
        return Finding(vf, DRIVER, BLOCKING, 'bound to plain vfio-pci, '
                       'which cannot migrate device state; bind it to %s '
                       '(%s)' % (want, managed), fix)
    if facts.vf.managed == 'true':
        if driver is None:
            return Finding(vf, DRIVER, OK, 'unbound; libvirt binds %s '
                           'when the guest starts (%s)' % (want, managed))
        return Finding(vf, DRIVER, WARNING, 'held by %s on the host; '
                       'libvirt takes it at guest start (%s), leave it '
                       'unbound or bind it to %s' % (driver, managed, want),
                       [unbind(vf, driver)])
    return Finding(vf, DRIVER, BLOCKING, '%s; %s needs it bound to %s '
                   'beforehand' % ('unbound' if driver is None else
                                   'bound to %s' % driver, managed, want),
                   fix)


def check_variant_driver(facts):
    vf = facts.vf
    ids = '%s:%s' % (vf.vendor_id, vf.product_id)
    if facts.targets is None:
        return Finding(vf.address, 'variant_driver', UNKNOWN,
                       'modules.alias unreadable (kernel %s)' % (
                           facts.release or 'release unknown'),
                       ['grep vfio_pci: /lib/modules/$(uname -r)/'
                        'modules.alias'])
    if not facts.targets:
        return Finding(vf.address, 'variant_driver', BLOCKING,
                       'no vfio_pci variant driver for %s in modules.alias '
                       '(kernel %s)' % (ids, facts.release),
                       ['boot a kernel %s or newer built with '
                        'CONFIG_MLX5_VFIO_PCI' % _dotted(MIN_KERNEL)])
    return Finding(vf.address, 'variant_driver', OK, '%s serves %s '
                   '(modules.alias)' % (', '.join(facts.targets), ids))


def check_module_loaded(facts):
    vf, variant = facts.vf.address, facts.variant
    if variant is None:
        return Finding(vf, 'module_loaded', UNKNOWN,
                       'no variant driver known for this device')
    if facts.loaded is None:
        return Finding(vf, 'module_loaded', UNKNOWN,
                       '%s: /proc/modules unreadable' % variant,
                       ['grep %s /proc/modules' % variant])
    if not facts.loaded:
        return Finding(vf, 'module_loaded', WARNING, '%s is not loaded'
                       % variant, ['modprobe %s' % variant,
                                   'echo %s > /etc/modules-load.d/%s.conf'
                                   % (variant, variant)])
    return Finding(vf, 'module_loaded', OK, '%s is loaded' % variant)


def check_eswitch(vf, mode, error):
    handle = 'pci/%s' % vf.pf
    if mode is None:
        return Finding(vf.address, 'eswitch', UNKNOWN, error,
                       [NEEDS_IPROUTE2])
    if mode != 'switchdev':
        return Finding(vf.address, 'eswitch', BLOCKING,
                       'PF %s eswitch in %s mode, switchdev needed'
                       % (vf.pf, mode),
                       ['devlink dev eswitch set %s mode switchdev'
                        % handle])
    return Finding(vf.address, 'eswitch', OK, 'PF %s eswitch in switchdev '
                   'mode' % vf.pf)


def check_migratable(facts, mode, runner):
    vf = facts.vf
    if vf.index is None:
        return Finding(vf.address, 'migratable', UNKNOWN,
                       'VF number unknown: no virtfn link of %s points to '
                       'it' % vf.pf)
    port, error = devlink.vf_port(vf.pf, vf.index, runner)
    if port is None:
        if mode not in (None, 'switchdev'):
            return Finding(vf.address, 'migratable', UNKNOWN,
                           'VF ports exist only in switchdev mode; check '
                           'again after the eswitch fix',
                           ['devlink dev eswitch set pci/%s mode switchdev'
                            % vf.pf, 'nova-vfio-lm check-host'])
        return Finding(vf.address, 'migratable', UNKNOWN, error,
                       [NEEDS_IPROUTE2])
    state, error = devlink.migratable(port, runner)
    if state is None:
        return Finding(vf.address, 'migratable', UNKNOWN, error,
                       [NEEDS_IPROUTE2])
    if state != 'enable':
        fix = [unbind(vf.address, facts.driver)] if facts.driver else []
        fix.append('devlink port function set %s migratable enable' % port)
        if facts.vf.managed == 'false' or facts.is_variant(facts.driver):
            fix += bind_to(vf.address, facts.variant or '<variant driver>')
        return Finding(vf.address, 'migratable', BLOCKING,
                       'port %s migratable %s' % (port, state), fix)
    return Finding(vf.address, 'migratable', OK, 'port %s migratable '
                   'enable' % port)


def minimum_firmware(pf_ids, firmware):
    """``(card name, minimum version)`` for a PF, or ``None``."""
    if pf_ids in MIN_FIRMWARE_BY_PF:
        return MIN_FIRMWARE_BY_PF[pf_ids]
    return MIN_FIRMWARE_BY_FAMILY.get((firmware or '').split('.')[0])


def check_firmware(vf, card, pf_ids):
    pf = vf.pf
    if card.error:
        return Finding(vf.address, 'firmware', UNKNOWN,
                       'PF %s: PSID %s, firmware %s (%s)' % (
                           pf, card.psid, card.firmware, card.error),
                       [NEEDS_IPROUTE2])
    said = 'PF %s: PSID %s, running %s' % (pf, card.psid, card.firmware)
    known = minimum_firmware(pf_ids, card.firmware)
    if known is None:
        return Finding(vf.address, 'firmware', UNKNOWN, '%s; no known '
                       'minimum for PF %s:%s' % ((said,) + pf_ids))
    name, minimum = known
    said += ' (>= %s for %s)' % (minimum, name)
    reset = 'mlxfwreset -d %s reset -y' % pf
    if version_tuple(card.firmware) < version_tuple(minimum):
        fix = [reset]
        stored = version_tuple(card.stored)
        if stored is None or stored < version_tuple(minimum):
            fix.insert(0, 'mlxfwmanager -d %s -u --online' % pf)
        return Finding(vf.address, 'firmware', BLOCKING,
                       '%s: too old for VF migration' % said, fix)
    if card.stored and card.stored != card.firmware:
        return Finding(vf.address, 'firmware', WARNING,
                       '%s; stored %s runs after the next reset: keep both '
                       'ends of a migration on the same firmware' % (
                           said, card.stored), [reset])
    return Finding(vf.address, 'firmware', OK, said)


# -- the whole host ------------------------------------------------------

def check_host(device_spec, root='/', runner=None):
    """Check every VF a ``live_migratable=yes`` entry holds on a host.

    :param device_spec: the ``[pci]device_spec`` strings.
    :param root: the host root the files are read under.
    :param runner: runs devlink and reads versions (default: this host).
    :returns: a :class:`Report`.
    """
    runner = runner or runner_mod.CommandRunner()
    hostname = sysfs.hostname(root) or UNKNOWN
    try:
        vfs, entries = specs.migratable_vfs(device_spec, root)
    except specs.SpecError as exc:
        return Report(hostname, root, [Finding(
            HOST, DEVICE_SPEC, BLOCKING, 'invalid: %s' % exc,
            ['correct [pci]device_spec in nova.conf'])])
    if not vfs:
        if entries:
            finding = Finding(
                HOST, DEVICE_SPEC, WARNING, '%d live_migratable=yes '
                '%s no VF on this host' % (
                    entries, 'entry matches' if entries == 1
                    else 'entries match'),
                ['ls -l /sys/bus/pci/devices/*/physfn',
                 'correct [pci]device_spec in nova.conf'])
        else:
            finding = Finding(HOST, DEVICE_SPEC, OK, 'no '
                              'live_migratable=yes entry: nothing to check')
        return Report(hostname, root, [finding])

    release = sysfs.kernel_release(root)
    aliases = sysfs.vfio_pci_aliases(root, release)
    modules = sysfs.loaded_modules(root)
    findings = [Finding(HOST, DEVICE_SPEC, OK, '%d VF%s held by '
                        'live_migratable=yes entries' % (
                            len(vfs), '' if len(vfs) == 1 else 's')),
                check_kernel(root)] + check_versions(runner)
    cards, modes = {}, {}
    for vf in vfs:
        if vf.pf not in cards:
            cards[vf.pf] = devlink.card_info(vf.pf, runner)
            modes[vf.pf] = devlink.eswitch_mode(vf.pf, runner)
        facts = VFFacts(vf, root, aliases, modules, release)
        findings += [
            check_driver(facts),
            check_variant_driver(facts),
            check_module_loaded(facts),
            check_eswitch(vf, *modes[vf.pf]),
            check_migratable(facts, modes[vf.pf][0], runner),
            check_firmware(vf, cards[vf.pf], sysfs.device_ids(root, vf.pf)),
        ]
    return Report(hostname, root, findings, vfs, cards)
