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

"""The destination's post-migration waits for the database and neutron.

Once the hypervisor completed a live migration, the source calls the
destination's ``post_live_migration_at_destination``, which activates the
ports there (neutron), allocates the claimed PCI devices and moves the
server's host (the database, through the conductor). When the database or
neutron is down as that call arrives (a database failover while the call
waits in the destination's queue), Nova (every release) fails it at its
first write, the source's post-migration then meets the same database: the
migration is never final and the server stays ``migrating`` on the source
in Nova's records while its guest runs on the destination with the VFs it
claimed there. For servers with PCI devices this change, on every series,
first waits until both answer a read (:mod:`nova_vfio_lm.backend_wait`),
then runs Nova's post-migration; the source's call waits with it (Nova
makes it with the long RPC timeout and its heartbeat).
"""

from nova_vfio_lm import backend_wait
from nova_vfio_lm.changes import base
from nova_vfio_lm import pci_migration


class ComputeDestinationPostWaitsForBackends(base.Change):
    name = 'compute_destination_post_waits_for_backends'
    summary = ("the destination's post-migration of a completed live "
               'migration waits for the database and neutron to answer')
    series = base.EVERY_SERIES

    def _apply(self):
        from nova.compute import manager

        def make(original):
            # outside Nova's decorators: the first of them records an
            # instance action event, in the database
            def post_live_migration_at_destination(self, context, instance,
                                                   *args, **kwargs):
                if pci_migration.arrives_with_pci_devices(self, instance):
                    backend_wait.wait(
                        context, instance,
                        'the live migration completed at the hypervisor',
                        "the destination's post-migration")
                return original(self, context, instance, *args, **kwargs)
            return post_live_migration_at_destination

        base.wrap(manager.ComputeManager,
                  'post_live_migration_at_destination', make)


CHANGE = ComputeDestinationPostWaitsForBackends()
