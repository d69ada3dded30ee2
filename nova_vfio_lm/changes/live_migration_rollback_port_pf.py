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

"""Give a port its source PF back when a live migration rolls back.

For a port with a bandwidth allocation, Nova's conductor writes the
destination PF's netdev into the port's PCI request while it schedules a
live migration, and the source compute saves the instance with it while
the migration runs (its statistics save). Nova's rollback then reloads
the request from the database, destination PF included, although the
port keeps its source VF and its bandwidth on the source PF. This change,
on every series and for moving and re-plugged ports alike, has the source
repin each port request to the PF of the VF the port holds, after the
rollback.
"""

from oslo_log import log as logging

from nova_vfio_lm.changes import base
from nova_vfio_lm import pci_migration

LOG = logging.getLogger(__name__)


class LiveMigrationRollbackPortPf(base.Change):
    name = 'live_migration_rollback_port_pf'
    summary = ("a rolled-back live migration leaves each port's PCI "
               'request on the PF of its source VF')
    series = base.EVERY_SERIES

    def _apply(self):
        from nova.compute import manager

        def make(original):
            def _rollback_live_migration(self, context, instance, *args,
                                         **kwargs):
                result = original(self, context, instance, *args, **kwargs)
                if pci_migration.repin_port_requests_to_held_vfs(instance):
                    LOG.info('Live migration rolled back: port PCI requests '
                             'name the PFs of their source VFs again',
                             instance=instance)
                    instance.save()
                return result
            return _rollback_live_migration

        base.wrap(manager.ComputeManager, '_rollback_live_migration', make)


CHANGE = LiveMigrationRollbackPortPf()
