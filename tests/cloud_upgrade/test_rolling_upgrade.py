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

"""A rolling upgrade from 2024.x with the plugin to 2025.1, VF servers moving.

Run by ``tox -e cloud-upgrade`` (or ``nova-vfio-lm-cloud test --test-path
tests/cloud_upgrade --lm-computes 3`` from the old release's environment,
with ``NOVA_VFIO_LM_UPGRADE_VENV`` naming the new release's): the cloud
starts on the old release, a server moves between two of its computes
and back, then the scenario follows Nova's upgrade guide: control plane,
then the empty compute2, servers moved compute1 -> compute2 (old -> new)
and back (new -> old), compute3 restarted without
the plugin and refused both ways (and named by the plugin's upgrade
check), compute1 upgraded and the servers moved between the two 2025.1
computes, compute3 upgraded and its server moved, then
``online_data_migrations`` to the end.
After every migration each host's guests use exactly the VFs Nova
allocated to them there, and no VF is held twice or left claimed.
"""

import os

from nova_vfio_lm_cloud import client
from nova_vfio_lm_cloud import hypervisor as hypervisor_mod
from nova_vfio_lm_cloud import service
from nova_vfio_lm_cloud import upgrade
from tests.cloud import base
from tests.cloud import test_operator_tools as operator_tools

VENV_ENV = 'NOVA_VFIO_LM_UPGRADE_VENV'
#: The plugin's check that names computes running without it.
COMPUTES_CHECK = operator_tools.CHECKS[1]
#: What compute2 (2025.1) logs when it refuses a 2024.x peer without the
#: plugin (nova_vfio_lm.peer_release).
PEER_REFUSAL = 'without nova-vfio-lm, so it cannot move live-migratable'


class RollingUpgradeTest(base.CloudScenario):

    def setUp(self):
        super().setUp()
        venv = os.environ.get(VENV_ENV)
        if not venv:
            self.skipTest('%s names no environment of the new release'
                          % VENV_ENV)
        self.new = upgrade.bindir_of(venv)
        self.assertEqual(
            ['compute1', 'compute2', 'compute3'],
            [h for h in sorted(self.cloud.layout)
             if any(c['live_migratable'] for c in self.cloud.layout[h])],
            'run with --lm-computes 3')

    def assert_every_guest_on_its_own_vfs(self):
        """On each host: guests use exactly the VFs allocated to them.

        No VF is in two guests, no guest uses a VF Nova did not allocate to
        it there, and nothing is left claimed.
        """
        for host in sorted(self.cloud.layout):
            held = {}
            for row in self.pci_rows(host):
                self.assertNotEqual('claimed', row['status'], row)
                if row['status'] == 'allocated':
                    held.setdefault(row['instance_uuid'], []).append(
                        row['address'])
            used = {}
            for uuid, domain in self.hypervisor.host(host).all().items():
                vfs = sorted(hypervisor_mod.hostdev_addresses(
                    domain['xml']))
                self.assertEqual(sorted(held.get(uuid, [])), vfs,
                                 '%s on %s' % (uuid, host))
                for vf in vfs:
                    self.assertNotIn(vf, used, '%s twice on %s' % (vf, host))
                    used[vf] = uuid

    def plugin_check(self):
        """The new release's ``nova-vfio-lm upgrade check``, by check.

        ``{check: (result, details)}``, run on the control plane's
        nova.conf.
        """
        code, output = upgrade.check_command(self.cloud, [
            os.path.join(self.new, 'nova-vfio-lm'), 'upgrade', 'check',
            '--json', '--config-file', self.cloud.nova.conf])
        self.assertNotIn('Traceback', output)
        return operator_tools.checks_of(operator_tools.json_document(output))

    def move(self, server, source, dest, vf_count):
        self.assert_runs_on(server, source, vf_count)
        migration = self.live_migrate(server, dest)
        self.assertEqual('completed', migration['status'], migration)
        self.assert_runs_on(server, dest, vf_count)
        self.assert_every_guest_on_its_own_vfs()

    def refused(self, server, source, dest, vf_count):
        """A live migration to ``dest`` ends refused; the server stays."""
        vfs = self.assert_runs_on(server, source, vf_count)
        try:
            self.start_live_migration(server, dest)
        except client.ClientError as exc:
            self.assertIn('No valid host', exc.output)
        migration = self.wait_for_migration(server)
        self.assertEqual('error', migration['status'], migration)
        self.assertEqual(vfs, self.assert_runs_on(server, source, vf_count))
        self.assertEqual([], self.pci_rows(dest, server))
        self.assert_nothing_claimed(dest)
        self.assert_every_guest_on_its_own_vfs()

    def test_rolling_upgrade_moves_vf_servers_between_releases(self):
        one = self.boot('lm.vf1', 'compute1')
        three = self.boot('lm.vf3', 'compute1')
        other = self.boot('lm.vf1', 'compute3')
        self.assert_every_guest_on_its_own_vfs()

        # 0. the old release as it runs before the upgrade (the only
        # 2024.2 cloud of the default envlist): three VFs there and back
        self.move(three, 'compute1', 'compute2', 3)
        self.move(three, 'compute2', 'compute1', 3)

        # 1. the control plane (Keystone, placement, Glance, Nova API,
        # conductor, scheduler) to the new release; computes stay
        checks = upgrade.upgrade_control(self.cloud, self.new)
        code, output = checks['nova-status']
        self.assertIn(code, (0, 1), output)  # success or warnings only
        self.assertIn('Upgrade Check Results', output)
        code, output = checks['nova-vfio-lm']
        self.assertEqual(0, code, output)
        self.cloud.wait_for_computes()

        # 2. the empty compute2 to the new release; old -> new, new -> old
        upgrade.upgrade_compute(self.cloud, 'compute2', self.new)
        self.move(one, 'compute1', 'compute2', 1)
        self.move(three, 'compute1', 'compute2', 3)
        self.move(one, 'compute2', 'compute1', 1)

        # 3. compute3 on the old release without the plugin: refused both
        # ways, before anything is claimed or moves
        # (the environment the cloud started from, running this test)
        upgrade.upgrade_compute(self.cloud, 'compute3',
                                service.default_bindir(), plugin=False)
        compute2_log = self.log_from_now('nova-compute-compute2')
        self.refused(other, 'compute3', 'compute2', 1)
        self.assertIn(PEER_REFUSAL, compute2_log())
        self.refused(three, 'compute2', 'compute3', 3)
        # what the operator is told: the plugin's check on the 2025.1
        # control plane names compute3 (Nova's own check cannot know)
        result, details = self.plugin_check()[COMPUTES_CHECK]
        self.assertEqual('Failure', result, details)
        self.assertIn('compute3 (node compute3)', details)
        self.assertIn('nova-vfio-lm-run nova-compute', details)

        # 4. compute1 to the new release: both computes native
        upgrade.upgrade_compute(self.cloud, 'compute1', self.new)
        self.move(one, 'compute1', 'compute2', 1)
        self.move(three, 'compute2', 'compute1', 3)
        self.move(one, 'compute2', 'compute1', 1)

        # 5. compute3 to the new release, through the launcher again; its
        # server, booted on 2024.x under the plugin, moves with no resize
        upgrade.upgrade_compute(self.cloud, 'compute3', self.new)
        self.move(other, 'compute3', 'compute2', 1)
        result, details = self.plugin_check()[COMPUTES_CHECK]
        self.assertEqual('Success', result, details)

        # 6. finish: online data migrations until none is left
        upgrade.online_data_migrations(self.cloud)
        self.assert_every_guest_on_its_own_vfs()
