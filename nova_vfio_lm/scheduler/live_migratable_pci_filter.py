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

from nova.scheduler import filters
from oslo_log import log as logging

import nova_vfio_lm
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
    """

    run_filter_once_per_request = False
    RUN_ON_REBUILD = False

    def __init__(self):
        super().__init__()
        nova_vfio_lm.activate()

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
                return True

        LOG.debug('%(host)s has not enough free live-migratable PCI '
                  'devices for alias(es) %(aliases)s',
                  {'host': host_state, 'aliases': _aliases(requests)})
        return False


def _aliases(requests):
    return ', '.join('%s:%d' % (r.alias_name, r.count) for r in requests)
