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

"""Record the card under each live-migratable VF: PSID and firmware.

Nova knows nothing of the card a VF belongs to, yet a VF's device state can
only move between cards with the same PSID and firmware. When a compute
reads its PCI devices (Nova does so once, as nova-compute starts), this
change asks devlink about the PF of every VF a
``live_migratable=yes`` device_spec entry matches and stores the answer in
the device's ``extra_info`` (:mod:`nova_vfio_lm.card_match`), so that the
destination of a live migration can compare it with the source's. devlink
is asked once per PF; ``unknown`` is stored when
it cannot tell.
"""

import threading
import time

from oslo_log import log as logging

from nova_vfio_lm import card_match
from nova_vfio_lm.changes import base
from nova_vfio_lm import pci_tags

LOG = logging.getLogger(__name__)

#: Seconds a PF's devlink answer is reused: one device sync asks once.
CACHE_SECONDS = 5
_CACHE = {}
_CACHE_LOCK = threading.Lock()


def _runner(recorded_dir):
    from nova_vfio_lm.hostcheck import runner

    if recorded_dir:
        return runner.RecordedRunner(recorded_dir)
    return runner.CommandRunner()


def card(pf, recorded_dir=None):
    """The :class:`card_match.Card` of a PF, from devlink or recordings."""
    from nova_vfio_lm.hostcheck import devlink

    key = (recorded_dir, pf)
    now = time.monotonic()
    with _CACHE_LOCK:
        cached = _CACHE.get(key)
        if cached and now - cached[0] < CACHE_SECONDS:
            return cached[1]
    info = devlink.card_info(pf, _runner(recorded_dir))
    if info.error:
        LOG.debug('Card of PF %s: %s', pf, info.error)
    found = card_match.Card(info.psid, info.firmware)
    with _CACHE_LOCK:
        _CACHE[key] = (now, found)
    return found


def _live_migratable(spec):
    value = spec.get_tags().get(pci_tags.LIVE_MIGRATABLE)
    try:
        return (value is not None and
                pci_tags.normalise(pci_tags.LIVE_MIGRATABLE, value) ==
                pci_tags.TRUE)
    except pci_tags.InvalidTagValue:
        return False


def add_card(whitelist, dev, recorded_dir):
    """Add the card keys to a VF dict matched by a live-migratable spec."""
    parent = dev.get('parent_addr')
    if not parent:
        return
    for spec in whitelist.specs:
        if spec.match(dev):
            if _live_migratable(spec):
                found = card(parent, recorded_dir)
                dev[card_match.PSID_KEY] = found.psid
                dev[card_match.FIRMWARE_KEY] = found.firmware
            return


class ComputePciCardInfo(base.Change):
    name = 'compute_pci_card_info'
    summary = ('PSID and running firmware of the card under each '
               'live-migratable VF kept in PciDevice.extra_info')
    series = base.EVERY_SERIES

    def _apply(self):
        import nova.conf
        from nova.pci import whitelist

        conf = nova.conf.CONF

        def make(original):
            def device_assignable(self, dev):
                assignable = original(self, dev)
                if assignable:
                    add_card(self, dev, conf.vfio_lm.recorded_commands_dir)
                return assignable
            return device_assignable

        base.wrap(whitelist.Whitelist, 'device_assignable', make)


CHANGE = ComputePciCardInfo()
