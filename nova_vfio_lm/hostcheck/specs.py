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

"""The VFs of this host that a ``live_migratable=yes`` entry holds.

Matching is Nova's own (``nova.pci.whitelist.Whitelist``: first matching
``[pci]device_spec`` entry wins) on device dicts built from sysfs, so the
check sees the VFs nova-compute will report. The tags are read with the
plugin's parser, as nova-compute does with the plugin active.
"""

import collections
import contextlib
import os

from nova_vfio_lm.hostcheck import sysfs
from nova_vfio_lm import pci_tags

#: A VF to check; ``managed`` and ``live_migratable`` are ``true``/``false``.
MigratableVF = collections.namedtuple(
    'MigratableVF', 'address pf index vendor_id product_id managed')


class SpecError(Exception):
    """``[pci]device_spec`` cannot be parsed; nova-compute would refuse it."""


def device_dict(root, address):
    """A PCI device as Nova's spec matching sees it, from sysfs."""
    vendor_id, product_id = sysfs.device_ids(root, address)
    parent = sysfs.physfn(root, address)
    if parent:
        dev_type = 'type-VF'
    elif sysfs.is_pf(root, address):
        dev_type = 'type-PF'
    else:
        dev_type = 'type-PCI'
    return {'address': address, 'vendor_id': vendor_id,
            'product_id': product_id, 'parent_addr': parent,
            'dev_type': dev_type}


@contextlib.contextmanager
def _nova_reads_sysfs_under(root):
    """Let Nova's spec parser look up PFs and netdevs under ``root``.

    Nova decides whether an entry's single address is a PF (so that it
    matches that PF's VFs) and resolves ``devname`` by reading ``/sys``;
    for a host root other than ``/`` those two reads go under it instead,
    for the time of the matching only.
    """
    if os.path.realpath(root) == '/':
        yield
        return
    from nova.pci import utils

    def is_physical_function(domain, bus, slot, function):
        return sysfs.is_pf(root, '%s:%s:%s.%s' % (domain, bus, slot,
                                                  function))

    def get_function_by_ifname(ifname):
        try:
            address = os.path.basename(os.readlink(
                sysfs.path(root, 'sys/class/net', ifname, 'device')))
        except OSError:
            return None, False
        return address, sysfs.is_pf(root, address)

    saved = utils.is_physical_function, utils.get_function_by_ifname
    utils.is_physical_function = is_physical_function
    utils.get_function_by_ifname = get_function_by_ifname
    try:
        yield
    finally:
        utils.is_physical_function, utils.get_function_by_ifname = saved


def _tag(spec, tag, default):
    value = spec.get_tags().get(tag)
    if value is None:
        return default
    try:
        return pci_tags.normalise(tag, value)
    except pci_tags.InvalidTagValue as exc:
        raise SpecError('entry %s: %s' % (spec.dev_spec_conf, exc))


def migratable_vfs(device_spec, root='/'):
    """``(vfs, entries)``: VFs held by ``live_migratable=yes`` entries.

    :param device_spec: the ``[pci]device_spec`` strings from nova.conf.
    :param root: the host root the sysfs tree is read under.
    :returns: the :class:`MigratableVF` list and how many entries say
        ``live_migratable=yes``.
    :raises SpecError: when Nova or the plugin would refuse the spec.
    """
    from nova.pci import whitelist

    with _nova_reads_sysfs_under(root):
        try:
            specs = whitelist.Whitelist(list(device_spec or [])).specs
        except Exception as exc:  # Nova's many PciConfig/PciDevice errors
            raise SpecError(str(exc))
        tags = {id(spec): (_tag(spec, pci_tags.LIVE_MIGRATABLE,
                                pci_tags.FALSE),
                           _tag(spec, pci_tags.MANAGED, pci_tags.TRUE))
                for spec in specs}
        entries = sum(1 for t in tags.values() if t[0] == pci_tags.TRUE)
        vfs = []
        for address in sysfs.pci_addresses(root):
            dev = device_dict(root, address)
            if dev['dev_type'] != 'type-VF':
                continue
            spec = next((s for s in specs if s.match(dev)), None)
            if spec is None or tags[id(spec)][0] != pci_tags.TRUE:
                continue
            vfs.append(MigratableVF(
                address, dev['parent_addr'],
                sysfs.vf_index(root, dev['parent_addr'], address),
                dev['vendor_id'], dev['product_id'], tags[id(spec)][1]))
    return vfs, entries
