"""After a live migration fails on the source, ask the hypervisor how it ended.

Nova's libvirt driver takes a migration's outcome from its monitor. When the
monitor itself fails (the connection to libvirtd drops while it looks at
the job, an error in its own bookkeeping), Nova tries to abort the job and
the compute manager puts the server into ERROR on the source, "too late to
roll back" - even when the hypervisor completed the job (the guest runs on
the destination, with the VFs the destination claimed) or cancelled it
(the guest runs on the source and the destination's claim waits for an
audit). For a migration that carries PCI device mappings, this change, on
every series, then asks this host's hypervisor once the job has ended:

- the guest is gone from this host (libvirt undefines the source of a
  completed job; Nova always asks for that): the migration goes on with
  Nova's post-migration, as the monitor does for a completed job;
- the guest still runs here: the migration is rolled back, as the monitor
  does for a failed job, and the server stays ACTIVE here;
- anything else (the hypervisor does not answer, the job still runs after
  a bound, the guest is defined but not running): Nova's own outcome.

Each is logged as a WARNING naming what the hypervisor said. The post-
migration or rollback runs at most once: a failure after either ran is
Nova's own.
"""

import time

from oslo_log import log as logging

from nova_vfio_lm.changes import base
from nova_vfio_lm import pci_migration

LOG = logging.getLogger(__name__)

#: how long to wait for the job to end after Nova's abort (seconds)
JOB_END_WAIT = 30
_LOOK_INTERVAL = 0.5

LEFT = 'left'
STAYED = 'stayed'


class LibvirtLiveMigrationOutcomeFromHypervisor(base.Change):
    name = 'libvirt_live_migration_outcome_from_hypervisor'
    summary = ('a live migration whose monitor failed ends as the '
               'hypervisor ended it: post-migration or rollback')
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
                ran = []

                def post(*args, **kwargs):
                    ran.append('post-migration')
                    return post_method(*args, **kwargs)

                def recover(*args, **kwargs):
                    ran.append('rollback')
                    return recover_method(*args, **kwargs)

                try:
                    return original(self, context, instance, dest, post,
                                    recover, block_migration, migrate_data)
                except Exception as exc:
                    if ran:
                        raise
                    where = guest_after_job(self, instance)
                    if where is None:
                        raise
                    failure = '%s: %s' % (type(exc).__name__, exc)
                if where == LEFT:
                    LOG.warning('Live migration to %(dest)s failed on this '
                                'host (%(failure)s), but the hypervisor '
                                'completed it: the guest left this host. '
                                'Going on with the post-migration.',
                                {'dest': dest, 'failure': failure},
                                instance=instance)
                    return post_method(context, instance, dest,
                                       block_migration, migrate_data)
                LOG.warning('Live migration to %(dest)s failed on this host '
                            '(%(failure)s); the hypervisor ended the job and '
                            'the guest still runs here. Rolling back.',
                            {'dest': dest, 'failure': failure},
                            instance=instance)
                return recover_method(context, instance, dest, migrate_data)
            return live_migration

        base.wrap(driver.LibvirtDriver, 'live_migration', make)


def guest_after_job(libvirt_driver, instance):
    """Where this host's hypervisor has the guest once its job ended.

    :returns: :data:`LEFT` (no longer defined here: a completed job),
        :data:`STAYED` (running here, no job), or None when the hypervisor
        cannot tell (an error, a job still running after
        :data:`JOB_END_WAIT`, a guest defined but not running).
    """
    from nova import exception
    from nova.virt.libvirt import driver

    running = driver.libvirt.VIR_DOMAIN_JOB_UNBOUNDED
    try:
        guest = libvirt_driver._host.get_guest(instance)
        for _ in range(int(JOB_END_WAIT / _LOOK_INTERVAL)):
            if guest.get_job_info().type != running:
                break
            time.sleep(_LOOK_INTERVAL)
        else:
            LOG.warning('The live migration job of this guest still runs '
                        '%d s after it failed here.', JOB_END_WAIT,
                        instance=instance)
            return None
        guest = libvirt_driver._host.get_guest(instance)
        return STAYED if guest.is_active() else None
    except exception.InstanceNotFound:
        return LEFT
    except Exception:
        LOG.warning('Could not ask the hypervisor where the guest of a '
                    'failed live migration is.', instance=instance,
                    exc_info=True)
        return None


CHANGE = LibvirtLiveMigrationOutcomeFromHypervisor()
