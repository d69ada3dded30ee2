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

"""Tell the scheduler at once about the VFs a move freed.

The scheduler reads a host's free PCI devices from its compute node record
(``pci_device_pools``), which Nova (every release) refreshes only at the
host's next resource audit (``update_resources_interval``, a minute by
default). When a live migration completes, the source frees the server's
VFs; when one rolls back, the destination frees its claims. Until the audit
the scheduler still counts those VFs as used: moving the server back, or
placing another server that needs them, fails with "No valid host" for up
to a minute although the VFs are free.

This change, on every series, writes the PCI tracker's pools to the
compute node record right after the resource tracker frees a server's PCI
claims or allocations, as Nova's own claims do for new servers.

A free happens inside a post-migration after the switch-over and inside a
refused pre-check: a database or placement error while the devices and
pools are saved must not turn either into a failed migration or a server
in ERROR. Such an error is logged as a warning and the save is left to the
next resource audit, which writes the devices and pools again.
"""

from oslo_log import log as logging

from nova_vfio_lm.changes import base

LOG = logging.getLogger(__name__)


def _report_pools(tracker, context):
    """Save the compute node record with the PCI tracker's current pools."""
    pci_tracker = tracker.pci_tracker
    if pci_tracker is None:
        return
    for compute_node in list(tracker.compute_nodes.values()):
        if compute_node.id == pci_tracker.node_id:
            # Nova's own update: pools into the record, then placement
            tracker._update(context, compute_node)


class ComputePciPoolsReportedAtOnce(base.Change):
    name = 'compute_pci_pools_reported_at_once'
    summary = ('VFs freed by a live migration or its rollback are reported '
               'to the scheduler at once, not at the next resource audit')
    series = base.EVERY_SERIES

    def _apply(self):
        from nova.compute import resource_tracker
        from nova import utils

        report = utils.synchronized(
            resource_tracker.COMPUTE_RESOURCE_SEMAPHORE, fair=True)(
                _report_pools)

        def make(original):
            def free_and_report(self, context, instance, *args, **kwargs):
                # Nova's method takes the resource lock itself; the report
                # takes it again afterwards (it is not re-entrant)
                try:
                    result = original(self, context, instance, *args,
                                      **kwargs)
                    report(self, context)
                except Exception as exc:
                    # the devices are free in the tracker; the audit saves
                    LOG.warning('Freed the PCI devices of this server but '
                                'could not save them or report the pools '
                                '(%s: %s); the next resource audit does',
                                type(exc).__name__, exc, instance=instance)
                    result = None
                return result
            return free_and_report

        for method in ('free_pci_device_claims_for_instance',
                       'free_pci_device_allocations_for_instance'):
            base.wrap(resource_tracker.ResourceTracker, method, make)


CHANGE = ComputePciPoolsReportedAtOnce()
