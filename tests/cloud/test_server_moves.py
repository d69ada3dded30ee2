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

"""Cold migration, resize, evacuation and shelving, then a live migration.

Each on a server with a live-migratable VF, checking what libvirt and Nova
leave on every host: the server's domain on its host only, naming the VFs
Nova allocates there; its one instance folder (the computes share one, as
on NFS) and no ``_resize`` copy; nothing claimed. Then the server still
live-migrates, and the whole cloud agrees with its hypervisors.
"""

import os

from tests.cloud import base


class ServerMovesTest(base.CloudScenario):

    def instance_folders(self, server):
        """The server's folders in the computes' instances folder."""
        folder = self.cloud.run.instances()
        return sorted(name for name in os.listdir(folder)
                      if name.startswith(server))

    def wait_status(self, server, status):
        def reached():
            found = self.show(server)
            if found['status'] == status and \
                    found['OS-EXT-STS:task_state'] is None:
                return found
            self.assertNotEqual('ERROR', found['status'], found)
        return base.wait_for('%s %s' % (server, status), reached,
                             interval=0.5)

    def assert_only_on(self, server, host, vf_count):
        self.wait_status(server, 'ACTIVE')
        self.assert_runs_on(server, host, vf_count)
        self.assertEqual({host: True}, self.domain_states(server))
        self.assertEqual([server], self.instance_folders(server))

    def live_migrate_to(self, server, host, vf_count):
        self.assertEqual('completed',
                         self.live_migrate(server, host)['status'])
        self.assert_only_on(server, host, vf_count)
        self.assert_cloud_consistent()

    def resize(self, server, flavor):
        """Resize (the scheduler picks the other host); VERIFY_RESIZE."""
        source = self.host_of(server)
        self.admin.run('server', 'resize', '--flavor', flavor, server)
        self.wait_status(server, 'VERIFY_RESIZE')
        destination = self.host_of(server)
        self.assertNotEqual(source, destination)
        # libvirt keeps the source guest defined, stopped, until the end
        self.assertEqual({source: False, destination: True},
                         self.domain_states(server))
        self.assertEqual([server, server + '_resize'],
                         self.instance_folders(server))
        return source, destination

    def test_cold_migration_confirmed_then_live_migration(self):
        server = self.boot('lm.vf1', 'compute1')
        self.admin.run('server', 'migrate', '--host', 'compute2', server)
        self.wait_status(server, 'VERIFY_RESIZE')
        self.assertEqual({'compute1': False, 'compute2': True},
                         self.domain_states(server))

        self.admin.run('server', 'resize', 'confirm', server)

        self.assert_only_on(server, 'compute2', 1)
        self.assert_nothing_claimed('compute1')
        self.live_migrate_to(server, 'compute1', 1)

    def test_resize_reverted_then_confirmed_then_live_migration(self):
        server = self.boot('lm.vf1', 'compute1')
        self.assertEqual(('compute1', 'compute2'),
                         self.resize(server, 'lm.vf3'))

        self.admin.run('server', 'resize', 'revert', server)

        self.assert_only_on(server, 'compute1', 1)
        self.assert_nothing_claimed('compute2')

        self.resize(server, 'lm.vf3')
        self.admin.run('server', 'resize', 'confirm', server)

        self.assert_only_on(server, 'compute2', 3)
        self.live_migrate_to(server, 'compute1', 3)

    def test_evacuation_then_live_migration(self):
        server = self.boot('lm.vf1', 'compute1')
        service = 'nova-compute-compute1'
        self.cloud.sup.kill(service)
        self.addCleanup(self.bring_back, 'compute1')
        self.admin.run('compute', 'service', 'set', '--down', 'compute1',
                       'nova-compute')

        self.admin.run('server', 'evacuate', '--host', 'compute2', server)
        self.wait_status(server, 'ACTIVE')

        # the host's hypervisor still runs the guest its nova-compute
        # cannot reach, as a real host whose nova-compute died would
        self.assertEqual({'compute1': True, 'compute2': True},
                         self.domain_states(server))
        self.bring_back('compute1')
        # the returning compute destroys the guest evacuated from it
        self.assert_only_on(server, 'compute2', 1)
        self.live_migrate_to(server, 'compute1', 1)

    def bring_back(self, host):
        """Start a compute that was forced down, then mark it up.

        In Nova's order: its start destroys the guests evacuated from it
        and completes those evacuations, which Nova wants done before it
        lets the service be forced up.
        """
        name = 'nova-compute-%s' % host
        if self.cloud.sup.pid(name):
            return
        self.cloud.start_service(name)

        def evacuations_done():
            found = self.rest.compute(
                '/os-migrations', migration_type='evacuation')['migrations']
            return all(m['status'] in ('completed', 'error', 'failed')
                       for m in found if m['source_compute'] == host)
        base.wait_for('evacuations from %s completed' % host,
                      evacuations_done, interval=0.5)
        self.admin.run('compute', 'service', 'set', '--up', host,
                       'nova-compute')
        base.wait_for('%s up' % name, lambda: self.compute_up(host))

    def test_shelve_offload_and_unshelve_then_live_migration(self):
        server = self.boot('lm.vf1', 'compute1')

        self.admin.run('server', 'shelve', server)
        self.wait_status(server, 'SHELVED_OFFLOADED')
        # Nova saves that state, then frees the server's resources on the
        # host, then clears its host: once that is cleared, all is freed
        base.wait_for('%s off its host' % server,
                      lambda: self.host_of(server) is None, interval=0.5)

        self.assertEqual({}, self.domain_states(server))
        self.assertEqual([], self.instance_folders(server))
        self.assertEqual([], self.pci_device_rows(instance=server))
        self.assertEqual({}, self.allocations(server))

        self.admin.run('server', 'unshelve', server)
        self.wait_status(server, 'ACTIVE')
        host = self.host_of(server)
        self.assert_only_on(server, host, 1)
        self.live_migrate_to(
            server, {'compute1': 'compute2'}.get(host, 'compute1'), 1)
