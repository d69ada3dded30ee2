"""Schedule moving ports onto hosts with a free live-migratable VF.

A port whose VF is live-migratable keeps its device only if the
destination VF is live-migratable too (:mod:`compute_live_migration_port_claim`
claims one at pre-check). Nova's scheduler knows only the port's physical
network, so it may pick a host whose free VFs there cannot take the state,
which the pre-check then refuses. This change, in the conductor, asks the
scheduler for ``live_migratable=true`` VFs for those ports while it looks
for a live-migration destination, so the PCI filter drops such hosts first.
The stored request spec is left as it was.
"""

from nova_vfio_lm.changes import base
from nova_vfio_lm import pci_migration
from nova_vfio_lm import pci_tags


class ConductorLiveMigrationPortScheduling(base.Change):
    name = 'conductor_live_migration_port_scheduling'
    summary = ('live-migration scheduling asks for live-migratable VFs for '
               'ports that move with their state')
    series = base.EVERY_SERIES

    def _apply(self):
        from nova.conductor.tasks import live_migrate
        from nova import objects

        def make(original):
            def _find_destination(self):
                pci_requests = self.request_spec.pci_requests
                if not (pci_requests and pci_requests.requests and
                        pci_migration.port_requests(self.instance)):
                    return original(self)
                moving = pci_migration.migratable_port_request_ids(
                    self.instance, objects.PciDeviceList.get_by_instance_uuid(
                        self.context, self.instance.uuid))
                changed = [(r, r.spec) for r in pci_requests.requests
                           if r.request_id in moving]
                for request, spec in changed:
                    request.spec = [dict(s, **{pci_tags.LIVE_MIGRATABLE:
                                               pci_tags.TRUE}) for s in spec]
                try:
                    return original(self)
                finally:
                    for request, spec in changed:
                        request.spec = spec
            return _find_destination

        base.wrap(live_migrate.LiveMigrationTask, '_find_destination', make)


CHANGE = ConductorLiveMigrationPortScheduling()
