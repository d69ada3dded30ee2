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

"""The source's post-migration waits for the database and neutron to answer.

Once the hypervisor completed a live migration (the guest runs on the
destination only), the source's post-migration moves Nova's records: it
activates the ports' bindings on the destination (neutron) and saves the
server, the migration and the PCI devices (the conductor, the database).
When the database or neutron is down at that moment (a database failover,
a neutron or Keystone restart), Nova (every release) fails the
post-migration at its first call, and its error path fails on the same
backend: the migration stays ``running`` and the server ``migrating`` on
the source for good, while the guest runs on the destination with the VFs
it claimed there. For migrations that carry PCI device mappings, this
change, on every series, first waits until both answer a read
(:mod:`nova_vfio_lm.backend_wait`), then goes on with Nova's
post-migration.
"""

from nova_vfio_lm import backend_wait
from nova_vfio_lm.changes import base
from nova_vfio_lm import pci_migration


class LibvirtLiveMigrationPostWaitsForBackends(base.Change):
    name = 'libvirt_live_migration_post_waits_for_backends'
    summary = ("the source's post-migration of a completed live migration "
               'waits for the database and neutron to answer')
    series = base.EVERY_SERIES

    def _apply(self):
        from nova.virt.libvirt import driver

        def make(original):
            def live_migration(self, context, instance, dest, post_method,
                               recover_method, block_migration=False,
                               migrate_data=None):
                if pci_migration.carries_pci_mapping(migrate_data):
                    post_method = _after_backends_answer(post_method)
                return original(self, context, instance, dest, post_method,
                                recover_method, block_migration,
                                migrate_data)
            return live_migration

        base.wrap(driver.LibvirtDriver, 'live_migration', make)


def _after_backends_answer(post_method):
    def post(context, instance, *args, **kwargs):
        backend_wait.wait(context, instance,
                          'the live migration completed at the hypervisor',
                          'its post-migration')
        return post_method(context, instance, *args, **kwargs)
    return post


CHANGE = LibvirtLiveMigrationPostWaitsForBackends()
