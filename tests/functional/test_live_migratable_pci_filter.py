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

"""The ``LiveMigratablePciFilter`` scheduler filter, on real host states."""

import logging
import subprocess
import sys
import textwrap

import fixtures

from nova import objects

from nova_vfio_lm import changes
from nova_vfio_lm.scheduler import live_migratable_pci_filter as lm_filter
from nova_vfio_lm_cloud.inprocess import cloud

FILTER_PATH = ('nova_vfio_lm.scheduler.live_migratable_pci_filter.'
               'LiveMigratablePciFilter')


class LiveMigratablePciFilterTest(cloud.VfioCloudTestCase):
    """compute1 has 2 live-migratable VFs, compute2 only non-migratable."""

    PCI_ALIAS = [cloud.alias('lm-vf', live_migratable='yes'),
                 cloud.alias('any-vf')]

    def setUp(self):
        super().setUp()
        self.start_sriov_compute(
            'compute1', num_vfs=2,
            device_specs=[cloud.device_spec(live_migratable='yes')])
        self.start_sriov_compute(
            'compute2', num_vfs=2,
            device_specs=[cloud.device_spec(live_migratable='no')])
        self.filter = lm_filter.LiveMigratablePciFilter()

    def _host_states(self, spec):
        host_manager = self.scheduler.manager.host_manager
        uuids = [objects.ComputeNode.get_by_nodename(self.ctxt, host).uuid
                 for host in ('compute1', 'compute2')]
        return {state.host: state for state in
                host_manager.get_host_states_by_uuids(self.ctxt, uuids,
                                                      spec)}

    def _spec_for(self, alias_name, count):
        server = self.boot(self.create_pci_flavor(alias_name, count))
        return server, objects.RequestSpec.get_by_instance_uuid(
            self.ctxt, server['id'])

    def _passing(self, spec):
        return sorted(host for host, state in self._host_states(spec).items()
                      if self.filter.host_passes(state, spec))

    def test_keeps_only_hosts_with_free_live_migratable_vfs(self):
        server, spec = self._spec_for('lm-vf', 1)
        self.assertEqual('compute1', server['OS-EXT-SRV-ATTR:host'])
        # one of compute1's two migratable VFs is still free
        self.assertEqual(['compute1'], self._passing(spec))

    def test_drops_a_host_whose_migratable_vfs_are_used_up(self):
        self._spec_for('lm-vf', 2)
        _server, spec = self._spec_for('any-vf', 1)
        spec_lm = self._spec_for('lm-vf', 1)[1]
        self.assertEqual([], self._passing(spec_lm))
        # a server that does not ask for migratable VFs is not its business
        self.assertEqual(['compute1', 'compute2'], self._passing(spec))

    def test_logs_why_a_host_was_dropped(self):
        log = self.useFixture(fixtures.FakeLogger(
            name=lm_filter.__name__, level=logging.DEBUG))
        _server, spec = self._spec_for('lm-vf', 1)
        self._passing(spec)
        self.assertIn('compute2', log.output)
        self.assertIn('not enough free live-migratable PCI devices for '
                      'alias(es) lm-vf:1', log.output)


class FilterLoadingActivatesPluginTest(cloud.VfioCloudTestCase):

    def test_loading_filter_the_nova_way_activates_the_plugin(self):
        # a fresh interpreter, as nova-scheduler started without the launcher
        script = textwrap.dedent('''
            import nova.monkey_patch
            from nova.scheduler import filters
            from nova_vfio_lm import activation
            assert not activation.is_active()
            [cls] = filters.HostFilterHandler().get_matching_classes(
                [%r])
            cls()
            applied = [s.name for s in activation.statuses()
                       if s.state == 'applied']
            print(activation.is_active(), ','.join(sorted(applied)))
            ''' % FILTER_PATH)
        result = subprocess.run([sys.executable, '-c', script],
                                capture_output=True, text=True, timeout=300)
        self.assertEqual(0, result.returncode, result.stderr)
        needed = sorted(c.name for c in changes.ALL
                        if c.needed(cloud.NOVA_SERIES))
        self.assertEqual('True %s' % ','.join(needed),
                         result.stdout.strip())
