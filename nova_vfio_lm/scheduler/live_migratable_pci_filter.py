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

"""Scheduler filter: hosts with free live-migratable VFs for the server.

Enable it as Nova documents for third-party filters::

    [filter_scheduler]
    available_filters = nova.scheduler.filters.all_filters
    available_filters = nova_vfio_lm.scheduler.live_migratable_pci_filter.LiveMigratablePciFilter
    enabled_filters = ...,PciPassthroughFilter,LiveMigratablePciFilter

Loading it activates the plugin in nova-scheduler, so the scheduler's own
PCI pool filtering follows the plugin's rules even when nova-scheduler is
started without the launcher.
"""  # noqa: E501

import time

from nova.compute import task_states
from nova import context as nova_context
from nova import exception
from nova import objects
from nova.scheduler import filters
from oslo_log import log as logging

import nova_vfio_lm
from nova_vfio_lm import card_match
from nova_vfio_lm import pci_migration
from nova_vfio_lm import pci_pools

LOG = logging.getLogger(__name__)


def flavor_pci_requests(spec_obj):
    """The server's PCI requests that come from its flavor's aliases."""
    pci_requests = spec_obj.pci_requests
    if not pci_requests or not pci_requests.requests:
        return []
    return [request for request in pci_requests.requests
            if request.source == request.FLAVOR_ALIAS]


class LiveMigratablePciFilter(filters.BaseHostFilter):
    """Pass hosts whose free live-migratable VFs satisfy the server.

    Applies to servers whose every flavor PCI request asks for
    ``live_migratable=yes``, the servers that can be live-migrated: a
    host passes only if its free devices tagged ``live_migratable=true``
    can satisfy all those requests at once, for at least one of the
    host's placement allocation candidates. Other servers pass untouched.

    For a live migration it also keeps only hosts with a free
    live-migratable VF on a card that ``[vfio_lm] card_match`` accepts for
    each card the server's VFs sit on now, so that no destination's
    pre-check has to refuse it (one database read of the host's PCI
    devices per host and live migration). A destination the admin named
    is left to its pre-check, whose refusal names both cards.
    """

    run_filter_once_per_request = False
    RUN_ON_REBUILD = False

    def __init__(self):
        super().__init__()
        nova_vfio_lm.activate()
        import nova.conf

        from nova_vfio_lm import conf
        # a wrong value stops the scheduler; the compute's folder is not
        # here
        conf.check(nova.conf.CONF, compute=False)
        #: ``(request spec id, server uuid)``, when read, source cards of
        #: the request being filtered: one read for all its hosts
        self._source_cards = (None, 0, None)

    def host_passes(self, host_state, spec_obj):
        requests = flavor_pci_requests(spec_obj)
        if not requests or not all(
                pci_pools.is_live_migratable_request(r) for r in requests):
            return True

        if not host_state.pci_stats:
            LOG.debug('%(host)s has no PCI devices; the server needs '
                      'live-migratable ones for alias(es) %(aliases)s',
                      {'host': host_state, 'aliases': _aliases(requests)})
            return False

        candidates = host_state.allocation_candidates or [{'mappings': {}}]
        for candidate in candidates:
            if host_state.pci_stats.support_requests(
                    requests, provider_mapping=candidate['mappings']):
                return self._cards_match(host_state, spec_obj)

        LOG.debug('%(host)s has not enough free live-migratable PCI '
                  'devices for alias(es) %(aliases)s',
                  {'host': host_state, 'aliases': _aliases(requests)})
        return False

    def _cards_match(self, host_state, spec_obj):
        import nova.conf

        policy = nova.conf.CONF.vfio_lm.card_match
        if policy == card_match.OFF or _host_requested(spec_obj):
            return True
        cell, sources = self._live_migration_source_cards(spec_obj)
        if not sources:
            return True
        # a server live-migrates within its cell
        with nova_context.target_cell(nova_context.get_admin_context(),
                                      cell) as ctxt:
            node = objects.ComputeNode.get_by_uuid(ctxt, host_state.uuid)
            devices = objects.PciDeviceList.get_by_compute_node(ctxt, node.id)
        free = {card_match.card_of(d) for d in devices
                if d.status == 'available' and
                pci_migration.is_live_migratable_device(d)}
        missing = [source for source in sources
                   if not any(not card_match.mismatch(policy, source, dest)[0]
                              for dest in free)]
        if missing:
            LOG.debug('%(host)s has no free live-migratable VF on a card '
                      'matching %(cards)s ([vfio_lm] card_match = '
                      '%(policy)s)',
                      {'host': host_state, 'policy': policy,
                       'cards': '; '.join(card_match.describe(c)
                                          for c in missing)})
            return False
        return True

    def _live_migration_source_cards(self, spec_obj):
        """``(cell, cards)``: the cards under a live-migrating server's VFs.

        ``cards`` is ``None`` for any other request (a boot, whose server
        is in no cell yet; a cold migration): only a live migration moves
        device state between cards.
        """
        key = (id(spec_obj), spec_obj.instance_uuid)
        cached_key, read_at, cached = self._source_cards
        if cached_key == key and time.monotonic() - read_at < 30:
            return cached
        found = (None, None)
        ctxt = nova_context.get_admin_context()
        try:
            mapping = objects.InstanceMapping.get_by_instance_uuid(
                ctxt, spec_obj.instance_uuid)
        except exception.InstanceMappingNotFound:
            mapping = None
        cell = (mapping.cell_mapping if mapping is not None and
                'cell_mapping' in mapping else None)
        if cell is not None:
            with nova_context.target_cell(ctxt, cell) as cctxt:
                try:
                    instance = objects.Instance.get_by_uuid(
                        cctxt, spec_obj.instance_uuid,
                        expected_attrs=['pci_devices'])
                except exception.InstanceNotFound:
                    instance = None
            if (instance is not None and
                    instance.task_state == task_states.MIGRATING):
                found = (cell, {
                    card_match.card_of(d) for d in instance.pci_devices
                    if d.status == 'allocated' and
                    pci_migration.is_live_migratable_device(d)})
        self._source_cards = (key, time.monotonic(), found)
        return found


def _host_requested(spec_obj):
    """An admin named the destination: its pre-check says why it refuses."""
    destination = (spec_obj.requested_destination
                   if 'requested_destination' in spec_obj else None)
    return bool(destination and 'host' in destination and destination.host)


def _aliases(requests):
    return ', '.join('%s:%d' % (r.alias_name, r.count) for r in requests)
