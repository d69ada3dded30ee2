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

"""Refuse a destination whose VF sits on another card or firmware.

Nova claims any free VF that matches the server's request, on whichever
card of the destination. NVIDIA supports moving a VF's state only between
cards with the same PSID and firmware, so after the destination's pre-check
claimed its VFs this change compares each source VF's card with the card of
the VF claimed for it (``[vfio_lm] card_match``: ``exact``, ``psid`` or
``off``). On a difference it frees every claim of the server on this host
and refuses with ``MigrationPreCheckError`` naming both cards: the server
stays ACTIVE on its source and the conductor may try another host. A card
that either side does not know is logged, not refused
(:mod:`nova_vfio_lm.card_match`).
"""

from oslo_log import log as logging

from nova_vfio_lm import card_match
from nova_vfio_lm.changes import base
from nova_vfio_lm.changes import precheck
from nova_vfio_lm import pci_migration

LOG = logging.getLogger(__name__)


def card_refusal(policy, host, instance, pairs, sources, dests):
    """Why these pairs cannot move under ``policy``, or ``None``.

    :param sources: source ``PciDevice`` by address.
    :param dests: this host's claimed ``PciDevice`` by address.
    """
    refused = []
    for source_address, dest_address in pairs:
        source, dest = sources.get(source_address), dests.get(dest_address)
        if source is None or dest is None:
            continue
        source_card = card_match.card_of(source)
        dest_card = card_match.card_of(dest)
        differs, unknown = card_match.mismatch(policy, source_card, dest_card)
        if differs:
            refused.append(
                'VF %s on %s sits on a card with %s, its source VF %s on %s '
                'on one with %s' % (
                    dest_address, host, card_match.describe(dest_card),
                    source_address, instance.host,
                    card_match.describe(source_card)))
        elif unknown:
            LOG.warning('Cannot compare the %(fields)s of the cards of VF '
                        '%(source)s on %(source_host)s (%(source_card)s) and '
                        'VF %(dest)s on this host (%(dest_card)s); moving '
                        'its state anyway. Run nova-vfio-lm check-host on '
                        'both hosts.',
                        {'fields': ' and '.join(unknown),
                         'source': source_address,
                         'source_host': instance.host,
                         'source_card': card_match.describe(source_card),
                         'dest': dest_address,
                         'dest_card': card_match.describe(dest_card)},
                        instance=instance)
    if not refused:
        return None
    return ('%s; NVIDIA supports VF live migration only between cards with '
            'the same PSID%s ([vfio_lm] card_match = %s)' % (
                '; '.join(refused),
                ' and firmware' if policy == card_match.EXACT else '',
                policy))


class ComputeLiveMigrationCardCheck(base.Change):
    name = 'compute_live_migration_card_check'
    summary = ('destination pre-check refuses VFs on a card with another '
               'PSID or firmware than the source VF ([vfio_lm] card_match)')
    series = base.EVERY_SERIES

    def _apply(self):
        import nova.conf
        from nova import exception

        conf = nova.conf.CONF

        def check_cards(compute, ctxt, instance, migrate_data):
            policy = conf.vfio_lm.card_match
            pairs = pci_migration.device_pairs(migrate_data)
            if policy == card_match.OFF or not pairs:
                return
            sources = {
                d.address: d
                for d in pci_migration.instance_devices(instance.uuid)
                if d.status == 'allocated'}
            dests = {
                d.address: d for d in compute.rt.pci_tracker.pci_devs
                if d.status == 'claimed' and
                d.instance_uuid == instance.uuid}
            reason = card_refusal(policy, compute.host, instance, pairs,
                                  sources, dests)
            if reason:
                raise exception.MigrationPreCheckError(reason=reason)

        precheck.after_destination_check(check_cards)


CHANGE = ComputeLiveMigrationCardCheck()
