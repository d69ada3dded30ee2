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

"""A live migration's progress save that fails does not fail the migration.

While a live migration runs, the source's libvirt driver saves its
progress (the migration's memory and disk figures, the server's progress)
through the conductor every few seconds. RPC is at most once: a save the
conductor took as it died, or one that waits longer than
``rpc_response_timeout`` for a busy conductor or database, raises in the
migration monitor. Nova (every release) then ends the monitor, tries to
abort the job and puts the server into ERROR on the source, even when the
hypervisor completed the job meanwhile: the guest then runs on the
destination while Nova keeps it on the source. The figures are only
reports. This change, on every series, logs such a failure as a warning
and lets the monitor go on; the job's outcome comes from the hypervisor,
as the monitor's next look at the job reports it.
"""

from oslo_log import log as logging

from nova_vfio_lm.changes import base

LOG = logging.getLogger(__name__)


class LibvirtLiveMigrationProgressSave(base.Change):
    name = 'libvirt_live_migration_progress_save'
    summary = ("a live migration's progress save that fails or times out "
               'is logged; the monitor goes on with the hypervisor')
    series = base.EVERY_SERIES

    def _apply(self):
        from nova.virt.libvirt import migration as libvirt_migration

        def make(original):
            def save_stats(instance, migration, info, remaining):
                try:
                    return original(instance, migration, info, remaining)
                except Exception as exc:
                    LOG.warning('Could not save the progress of live '
                                'migration %(uuid)s (%(kind)s: %(exc)s); '
                                'the migration goes on and its outcome '
                                'comes from the hypervisor',
                                {'uuid': migration.uuid,
                                 'kind': type(exc).__name__, 'exc': exc},
                                instance=instance)
                    return None
            return save_stats

        base.wrap(libvirt_migration, 'save_stats', make)


CHANGE = LibvirtLiveMigrationProgressSave()
