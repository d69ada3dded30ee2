"""Keep a server ACTIVE on its source when its rolled-back migration fails.

When the hypervisor fails a live migration, the libvirt driver's monitor
rolls it back (the server stays running on the source with its devices).
Nova 2025.1+'s driver then re-raises the failure from its migration thread,
and the compute manager puts the already rolled-back server into ERROR. For
migrations that carry PCI device mappings, this change, on every series,
logs that failure instead once the rollback has run, so the server stays
ACTIVE on the source; a failure before any rollback, or an error inside
the rollback, still raises (Nova puts the server into ERROR, which the
operator can act on) and the error inside the rollback is logged as such.
"""

from oslo_log import log as logging

from nova_vfio_lm.changes import base
from nova_vfio_lm import pci_migration

LOG = logging.getLogger(__name__)


class LibvirtLiveMigrationFailureState(base.Change):
    name = 'libvirt_live_migration_failure_state'
    summary = ('a rolled-back failed migration with PCI mappings leaves the '
               'server ACTIVE, not ERROR')
    series = base.EVERY_SERIES

    def _apply(self):
        from nova.virt.libvirt import driver

        def make(original):
            def live_migration(self, context, instance, dest, post_method,
                               recover_method, block_migration=False,
                               migrate_data=None):
                if not pci_migration.carries_pci_mapping(migrate_data):
                    return original(self, context, instance, dest,
                                    post_method, recover_method,
                                    block_migration, migrate_data)
                rolled_back = []

                def recover(*args, **kwargs):
                    try:
                        result = recover_method(*args, **kwargs)
                    except Exception:
                        LOG.exception('The rollback of the failed live '
                                      'migration to %(dest)s failed: the '
                                      'server goes to ERROR. Check where '
                                      'its guest runs before a hard reboot',
                                      {'dest': dest}, instance=instance)
                        raise
                    # recorded once it ran: a failed rollback is no rollback
                    rolled_back.append(True)
                    return result

                try:
                    return original(self, context, instance, dest,
                                    post_method, recover, block_migration,
                                    migrate_data)
                except Exception:
                    if not rolled_back:
                        raise
                    LOG.warning('Live migration to %(dest)s failed and was '
                                'rolled back; the server keeps running here '
                                'with its PCI devices.', {'dest': dest},
                                instance=instance, exc_info=True)
                    return None
            return live_migration

        base.wrap(driver.LibvirtDriver, 'live_migration', make)


CHANGE = LibvirtLiveMigrationFailureState()
