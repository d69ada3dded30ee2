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

"""Same card and firmware on both ends of a VF's live migration.

NVIDIA requires the source and destination VF to sit on cards with the same
PSID and running the same firmware: device state saved by one firmware may
not load, or load wrongly, in another. Each compute records its live-
migratable VFs' card in ``PciDevice.extra_info`` (read with devlink from the
VF's PF); the destination's pre-check compares each source VF with the VF it
claimed, under the ``[vfio_lm] card_match`` policy.

A side whose card is ``unknown`` (no devlink, or a kernel that does not say)
does not refuse the migration: the plugin cannot tell, so it logs a warning
and leaves the decision to ``nova-vfio-lm check-host``, which reports the
unknown on that host.
"""

import collections

#: ``PciDevice.extra_info`` keys a compute writes for live-migratable VFs.
PSID_KEY = 'vfio_lm_card_psid'
FIRMWARE_KEY = 'vfio_lm_card_firmware'
UNKNOWN = 'unknown'

EXACT = 'exact'
PSID = 'psid'
OFF = 'off'
#: ``[vfio_lm] card_match`` values, strictest first.
POLICIES = (EXACT, PSID, OFF)

Card = collections.namedtuple('Card', 'psid firmware')


def card_of(device):
    """The card a PCI device (object or dict with ``extra_info``) sits on."""
    extra_info = (device.get('extra_info') if isinstance(device, dict)
                  else device.extra_info) or {}
    return Card(extra_info.get(PSID_KEY) or UNKNOWN,
                extra_info.get(FIRMWARE_KEY) or UNKNOWN)


def compared(policy):
    """The card fields ``policy`` requires to be equal."""
    return {EXACT: ('psid', 'firmware'), PSID: ('psid',), OFF: ()}[policy]


def mismatch(policy, source, dest):
    """``(differs, unknown)``: fields that differ, fields a side lacks.

    Only the fields ``policy`` compares; a field is in ``unknown`` when
    either card does not know it.
    """
    differs, unknown = [], []
    for field in compared(policy):
        values = (getattr(source, field), getattr(dest, field))
        if UNKNOWN in values:
            unknown.append(field)
        elif values[0] != values[1]:
            differs.append(field)
    return differs, unknown


def describe(card):
    return 'PSID %s, firmware %s' % (card.psid, card.firmware)
