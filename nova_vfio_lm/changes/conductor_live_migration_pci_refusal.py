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

"""Refuse, before scheduling, live migration of non-migratable flavor VFs.

Nova checks flavor PCI requests only after the scheduler has picked a
destination; a refusal there makes the conductor try every other host and
end in a bare ``NoValidHost``, and Nova 2025.1+'s own reason ("does not
explicitly request live-migratable devices") names nothing. This change,
on every series, refuses at the first pre-check, naming each alias that
lacks ``live_migratable=yes`` and the fix (a resize to a flavor whose
aliases have it), before any host is tried or any allocation moved.

The refusal keeps the exception stock and native Nova give for the same
request, so the instance action, the fault and any tooling that reads them
see what they always saw: ``NoValidHost`` when the scheduler picks (or
checks) the destination, ``MigrationPreCheckError`` for a forced host.
"""

from oslo_log import log as logging

from nova_vfio_lm.changes import base
from nova_vfio_lm import pci_migration

LOG = logging.getLogger(__name__)


def refusal_error(task, reason):
    """The exception Nova itself raises for this refusal on this path."""
    from nova import exception

    if task.destination:  # forced host: Nova's pre-checks of that host
        return exception.MigrationPreCheckError(reason=reason)
    return exception.NoValidHost(reason=reason)


class ConductorLiveMigrationPciRefusal(base.Change):
    name = 'conductor_live_migration_pci_refusal'
    summary = ('live migration of non-migratable flavor VFs refused before '
               'scheduling, naming the alias')
    series = base.EVERY_SERIES

    def _apply(self):
        from nova.conductor.tasks import live_migrate

        def make(original):
            def _check_instance_is_active(self):
                original(self)
                reason = pci_migration.refusal(self.instance)
                if reason:
                    LOG.warning('Live migration of server %s refused: %s',
                                self.instance.uuid, reason)
                    raise refusal_error(self, reason)
            return _check_instance_is_active

        base.wrap(live_migrate.LiveMigrationTask, '_check_instance_is_active',
                  make)


CHANGE = ConductorLiveMigrationPciRefusal()
