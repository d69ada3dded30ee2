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

"""A failed live migration with VFs ends where the hypervisor left its guest.

Two of Nova's outcomes put a server into ERROR whose guest the hypervisor
left in a known place:

- When the hypervisor fails a live migration, the libvirt driver's monitor
  rolls it back (the server stays running on the source with its devices).
  Nova 2025.1+'s driver then re-raises the failure from its migration
  thread, and the compute manager puts the already rolled-back server into
  ERROR.
- When the monitor itself fails (the connection to libvirtd drops while
  it looks at the job, an error in its own bookkeeping), Nova (every
  release) tries to abort the job and puts the server into ERROR on the
  source, "too late to roll back", even when the hypervisor completed the
  job (the guest runs on the destination, with the VFs it claimed there)
  or cancelled it (the guest runs on the source and the destination's
  claim waits for an audit).

For migrations that carry PCI device mappings, this change, on every
series, logs the first as a warning once the rollback ran, so the server
stays ACTIVE on the source. In the second, once neither the post-migration
nor the rollback ran, it asks this host's hypervisor after the job ended:
a guest gone from this host (libvirt undefines the source of a completed
job; Nova always asks for that) goes on with Nova's post-migration; a
guest still running here is rolled back; anything else (no answer, a job
still running after a bound, a guest defined but not running) keeps
Nova's ERROR. Each is logged as a WARNING. An error inside a rollback
still raises (Nova puts the server into ERROR, which the operator can act
on) and is logged as a failed rollback.
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


class LibvirtLiveMigrationFailureState(base.Change):
    name = 'libvirt_live_migration_failure_state'
    summary = ('a failed live migration with PCI mappings ends where the '
               'hypervisor left its guest: ACTIVE after a rollback, '
               'post-migration or rollback after a failed monitor')
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
                started = []  # the post-migration or rollback, once called
                rolled_back = []  # the rollback, once it ran through

                def post(*args, **kwargs):
                    started.append('post-migration')
                    return post_method(*args, **kwargs)

                def recover(*args, **kwargs):
                    started.append('rollback')
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
                    return original(self, context, instance, dest, post,
                                    recover, block_migration, migrate_data)
                except Exception as exc:
                    if rolled_back:
                        LOG.warning('Live migration to %(dest)s failed and '
                                    'was rolled back; the server keeps '
                                    'running here with its PCI devices.',
                                    {'dest': dest}, instance=instance,
                                    exc_info=True)
                        return None
                    if started:
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
                    return post(context, instance, dest, block_migration,
                                migrate_data)
                LOG.warning('Live migration to %(dest)s failed on this host '
                            '(%(failure)s); the hypervisor ended the job and '
                            'the guest still runs here. Rolling back.',
                            {'dest': dest, 'failure': failure},
                            instance=instance)
                recover(context, instance, dest, migrate_data)
                return None
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


CHANGE = LibvirtLiveMigrationFailureState()
