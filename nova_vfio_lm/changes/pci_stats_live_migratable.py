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

"""Filter PCI pools by ``live_migratable`` in the scheduler and the claim.

Stock Nova 2024.1/2024.2 matches a request's spec keys against pool tags
but has no rule of its own for ``live_migratable``. This change applies the
plugin's truth table (:mod:`nova_vfio_lm.pci_pools`) as the last step of
``PciDeviceStats._filter_pools``, which both the scheduler (host filtering)
and the compute (PCI claim) go through, as Nova 2025.1+ does with its own
``_filter_pools_for_live_migratable_devices``. When every spec of a
request carries the key, Nova's generic spec-to-pool matching already gives
the same answer and this step drops nothing (its cost is measured by
``tools/bench_scheduling.py``); it exists so that the rule lives in one
function the plugin's own filter shares.
"""

from oslo_log import log as logging

from nova_vfio_lm.changes import base
from nova_vfio_lm import pci_pools

LOG = logging.getLogger(__name__)


def filter_live_migratable(pools, request):
    """Apply the truth table to pools already filtered by Nova."""
    if pools is None:
        return None
    kept = pci_pools.filter_pools(pools, request)
    if len(kept) == len(pools):
        # the common case: Nova's spec matching already kept only these
        return pools
    after = sum(pool['count'] for pool in kept)
    LOG.debug('Dropped %(count)d device(s) whose live_migratable tag does '
              'not match the request',
              {'count': sum(pool['count'] for pool in pools) - after})
    if after < request.count:
        LOG.debug('Not enough PCI devices left to satisfy request')
        return None
    return kept


class PciStatsLiveMigratable(base.Change):
    name = 'pci_stats_live_migratable'
    summary = ('PCI pools filtered by live_migratable in scheduling and '
               'claims')
    series = frozenset({29, 30})

    def _apply(self):
        from nova.pci import stats

        def make(original):
            def _filter_pools(self, pools, request, numa_cells, rp_uuids):
                return filter_live_migratable(
                    original(self, pools, request, numa_cells, rp_uuids),
                    request)
            return _filter_pools

        base.wrap(stats.PciDeviceStats, '_filter_pools', make)


CHANGE = PciStatsLiveMigratable()
