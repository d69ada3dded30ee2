"""A destination's pre-check drops what an earlier one claimed for the server.

A destination claims the server's VFs in its live-migration pre-check. If
the conductor never gets the reply (it timed out, or died), it refuses the
migration or tries another host, and nothing tells the destination: the
claim stays until the destination's next resource audit. A retry to the
same host before that audit claims again, and the PCI tracker adds the
new claim to the old one (the flavor VFs and the ports of one pre-check
are two claims that must add up): the server then ends with VFs its guest
never uses, allocated for good. This change, on every series, frees the
server's leftover claims on the host as a new pre-check starts (asking
the hypervisor first, like every free of the plugin's), so each pre-check
claims afresh.
"""

from oslo_log import log as logging

from nova_vfio_lm.changes import base

LOG = logging.getLogger(__name__)


class ComputeLiveMigrationClaimsRenewed(base.Change):
    name = 'compute_live_migration_claims_renewed'
    summary = ("a destination's pre-check frees what an earlier pre-check "
               'for the server claimed there before it claims')
    series = base.EVERY_SERIES

    def _apply(self):
        from nova.compute import manager

        def make(original):
            def check_can_live_migrate_destination(self, ctxt, instance,
                                                   *args, **kwargs):
                tracker = self.rt.pci_tracker
                if tracker is not None and tracker.claims.get(instance.uuid):
                    LOG.info('Freeing the PCI devices an earlier pre-check '
                             'claimed here for this server (its migration '
                             'never came): this pre-check claims afresh',
                             instance=instance)
                    self.rt.free_pci_device_claims_for_instance(
                        ctxt, instance)
                return original(self, ctxt, instance, *args, **kwargs)
            return check_can_live_migrate_destination

        base.wrap(manager.ComputeManager,
                  'check_can_live_migrate_destination', make)


CHANGE = ComputeLiveMigrationClaimsRenewed()
