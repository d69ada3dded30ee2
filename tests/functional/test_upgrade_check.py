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

"""``nova-vfio-lm upgrade check`` against a whole cloud."""

import contextlib
import io
import json
import os
import subprocess
import tempfile

import fixtures
from nova import objects
from oslo_upgradecheck import upgradecheck as oslo_upgradecheck
import testtools

from nova_vfio_lm import placement_traits
from nova_vfio_lm import upgradecheck
from nova_vfio_lm_cloud.inprocess import cloud
from tests import commands
from tests.unit import test_hostcheck

Code = oslo_upgradecheck.Code
TRAIT = placement_traits.TRAIT


class _UpgradeCheckCloud(cloud.VfioCloudTestCase):
    """VF 1-2 live-migratable and unmanaged, VF 3-4 not migratable."""

    PCI_DEVICE_SPEC = cloud.split_device_specs((1, 2), (3, 4))
    PCI_ALIAS = [cloud.alias('lm-vf', live_migratable='yes')]

    def commands(self):
        """The plugin's checks; this host's devices are a fixture host's.

        ready-cx7, whose VFs have other PCI ids than this cloud's: a host
        without the computes' VFs, as a controller is.
        """
        return upgradecheck.UpgradeCommands(
            host_root=test_hostcheck.root('ready-cx7'),
            host_runner=test_hostcheck.recorded('ready-cx7'))

    def run_check(self, method):
        """One check of the plugin's command, in this process."""
        result = getattr(self.commands(), method)()
        self.assertIsInstance(result, oslo_upgradecheck.Result)
        return result

    def requests_check(self):
        return self.run_check('_check_pci_requests_predate_alias')

    def computes_check(self):
        return self.run_check('_check_computes_run_plugin')

    def placement_check(self):
        return self.run_check('_check_placement_trait')

    def host_devices_check(self):
        return self.run_check('_check_host_devices')


class CleanCloudTest(_UpgradeCheckCloud):

    def test_every_check_succeeds(self):
        self.start_sriov_compute('compute1')
        server = self.boot(self.create_pci_flavor('lm-vf'))
        self.assertEqual('ACTIVE', server['status'])

        requests = self.requests_check()
        self.assertEqual(Code.SUCCESS, requests.code, requests.details)
        self.assertIn('lm-vf', requests.details)
        computes = self.computes_check()
        self.assertEqual(Code.SUCCESS, computes.code, computes.details)
        if cloud.NOVA_SERIES.native:
            self.assertIn('runs the plugin or Nova 2025.1+',
                          computes.details)
        placement = self.placement_check()
        self.assertEqual(Code.SUCCESS, placement.code, placement.details)
        self.assertIn('Placement knows the %s trait' % TRAIT,
                      placement.details)
        host = self.host_devices_check()
        self.assertEqual(Code.SUCCESS, host.code, host.details)
        self.assertIn('No VF that a live_migratable=yes [pci]device_spec '
                      'entry matches is visible on host cx7-ready',
                      host.details)

        # the whole command: each check in the summary, the worst code
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            code = self.commands().check()
        self.assertEqual(Code.SUCCESS, code)
        for name, _check in upgradecheck.UpgradeCommands._upgrade_checks:
            self.assertIn('Check: %s' % name, out.getvalue())


class RequestPredatesAliasTest(_UpgradeCheckCloud):
    """Servers booted before their alias said ``live_migratable=yes``."""

    PCI_ALIAS = [cloud.alias('lm-vf')]

    def setUp(self):
        super().setUp()
        self.start_sriov_compute('compute1')
        self.start_sriov_compute('compute2')
        self.flavor_id = self.create_pci_flavor('lm-vf')

    def _tag_alias(self):
        # the operator adds the tag to nova.conf of nova-api and every
        # nova-compute (one configuration in this cloud)
        self.flags(alias=[cloud.alias('lm-vf', live_migratable='yes')],
                   group='pci')

    def test_untagged_request_warns_until_resized(self):
        old = self.boot(self.flavor_id, name='old')
        self.assertEqual('ACTIVE', old['status'])
        self.assertEqual(Code.SUCCESS, self.requests_check().code)

        self._tag_alias()
        new = self.boot(self.flavor_id, name='new')
        self.assertEqual('ACTIVE', new['status'])
        result = self.requests_check()
        self.assertEqual(Code.WARNING, result.code)
        self.assertIn('1 server(s)', result.details)
        self.assertIn(old['id'], result.details)
        self.assertNotIn(new['id'], result.details)
        self.assertIn('lm-vf', result.details)
        self.assertIn('openstack server resize --flavor', result.details)
        # the plugin refuses to live-migrate it, for the same reason
        moved, _migration = self.live_migrate(old)
        self.assertIn('NoValidHost', self.api_error or '')
        self.assertEqual(old['OS-EXT-SRV-ATTR:host'],
                         moved['OS-EXT-SRV-ATTR:host'])

        # the action the warning names: a resize to a copy of the flavor
        # rebuilds the request from the flavor and the tagged alias
        copy = self.create_pci_flavor('lm-vf', name='lm-vf-copy')
        with self.no_disk_copy():
            resized = self._resize_server(old, copy)
        self.assertEqual('VERIFY_RESIZE', resized['status'])
        self._confirm_resize(resized)
        [request] = self.server_pci_requests(old['id'])
        self.assertEqual(
            {'true'}, {spec.get('live_migratable') for spec in request.spec})
        # and the copy the scheduler uses for the next move
        request_spec = objects.RequestSpec.get_by_instance_uuid(
            self.ctxt, old['id'])
        self.assertEqual(
            [{'true'}], [{spec.get('live_migratable') for spec in r.spec}
                         for r in request_spec.pci_requests.requests])
        result = self.requests_check()
        self.assertEqual(Code.SUCCESS, result.code, result.details)

    def test_list_of_servers_is_bounded(self):
        self.useFixture(fixtures.MonkeyPatch(
            'nova_vfio_lm.upgradecheck.MAX_LISTED', 1))
        servers = [self.boot(self.flavor_id, name='vm%d' % i)
                   for i in range(2)]
        self._tag_alias()
        result = self.requests_check()
        self.assertEqual(Code.WARNING, result.code)
        self.assertIn('2 server(s)', result.details)
        self.assertIn('and 1 more', result.details)
        self.assertEqual(1, sum(server['id'] in result.details
                                for server in servers))


@testtools.skipIf(cloud.NOVA_SERIES.native,
                  'Nova 2025.1+ records live_migratable on PCI devices '
                  'itself; the check applies to 2024.1 and 2024.2 only')
class ComputeWithoutPluginTest(_UpgradeCheckCloud):
    """One nova-compute of a 2024.x cloud runs stock Nova."""

    def _stock_compute_start(self):
        """Stock Nova for the computes started in this context.

        Undoes what the plugin changes as nova-compute parses its
        device_spec and syncs its PCI devices.
        """
        from nova.objects import pci_device
        from nova.pci import devspec
        from nova.pci import whitelist

        from nova_vfio_lm.changes import base

        stock = fixtures.CompoundFixture([
            fixtures.MonkeyPatch(
                '%s.%s.%s' % (cls.__module__, cls.__name__, method),
                base.stock(getattr(cls, method)))
            for cls, method in (
                (devspec.PciDeviceSpec, '_init_dev_details'),
                (whitelist.Whitelist, 'device_assignable'),
                (pci_device.PciDevice, 'update_device'))])
        return stock

    def test_compute_without_plugin_fails_until_restarted_with_it(self):
        self.start_sriov_compute('compute1')
        with self._stock_compute_start():
            self.start_sriov_compute('compute2')

        # what a stock compute leaves in the database: the operator's word
        # in its pools, nothing on its devices
        self.assertEqual(
            {'yes', 'no'},
            {pool['live_migratable'] for pool in self.pci_pools('compute2')})
        self.assertEqual(
            [], [d.address for d in self.pci_devices('compute2')
                 if 'live_migratable' in d.extra_info])
        self.assertEqual(
            {'true', 'false'},
            {pool['live_migratable'] for pool in self.pci_pools('compute1')})

        result = self.computes_check()
        self.assertEqual(Code.FAILURE, result.code)
        self.assertIn('1 nova-compute(s)', result.details)
        self.assertIn('compute2 (node compute2)', result.details)
        self.assertNotIn('compute1', result.details)
        self.assertIn('nova-vfio-lm-run nova-compute', result.details)

        # the fix: nova-compute restarted through the launcher
        self.restart_compute_service('compute2')
        result = self.computes_check()
        self.assertEqual(Code.SUCCESS, result.code, result.details)

    def test_tag_written_true_still_shows_missing_device_tags(self):
        # an operator who wrote "true": the pools alone cannot tell
        self.flags(device_spec=[cloud.device_spec(
            cloud.vf_address(1), live_migratable='true')], group='pci')
        with self._stock_compute_start():
            self.start_sriov_compute('compute1')
        self.assertEqual(['true'], [pool['live_migratable']
                                    for pool in self.pci_pools('compute1')])
        result = self.computes_check()
        self.assertEqual(Code.FAILURE, result.code)
        self.assertIn('compute1 (node compute1)', result.details)
        self.assertIn('no PCI device record of it does', result.details)


class OldPlacementTest(_UpgradeCheckCloud):

    PLACEMENT_LACKS_TRAITS = (TRAIT,)

    def test_unknown_trait_warns_until_placement_upgraded(self):
        self.start_sriov_compute('compute1')
        result = self.placement_check()
        self.assertEqual(Code.WARNING, result.code)
        self.assertIn('Placement does not know the %s trait' % TRAIT,
                      result.details)
        self.assertIn('install os-traits 3.3.0 or newer where placement '
                      'runs and restart placement', result.details)

        self.upgrade_placement_traits()
        result = self.placement_check()
        self.assertEqual(Code.SUCCESS, result.code, result.details)


class CommandTest(testtools.TestCase):
    """The command itself, as an operator runs it."""

    def _run(self, *args):
        return subprocess.run(commands.nova_vfio_lm() + ['upgrade'] +
                              list(args),
                              capture_output=True, text=True, timeout=300)

    def test_help(self):
        result = self._run('check', '--help')
        self.assertEqual(0, result.returncode, result.stderr)
        self.assertIn('--json', result.stdout)

    def test_config_without_database_or_placement_fails_cleanly(self):
        with tempfile.NamedTemporaryFile('w', suffix='.conf') as conf:
            conf.write('[pci]\nalias = %s\n' % cloud.alias(
                'lm-vf', live_migratable='yes'))
            conf.flush()
            result = self._run('check', '--json', '--config-file', conf.name)
        self.assertEqual(int(Code.FAILURE), result.returncode, result.stderr)
        self.assertNotIn('Traceback', result.stdout + result.stderr)
        report = json.loads(result.stdout)
        checks = {c['check']: c for c in report['checks']}
        self.assertEqual(
            [name for name, _check in
             upgradecheck.UpgradeCommands._upgrade_checks],
            [c['check'] for c in report['checks']])
        requests = checks[
            'Servers whose PCI request predates live_migratable']
        self.assertEqual(int(Code.FAILURE), requests['result'])
        self.assertIn('Cannot read the Nova databases', requests['details'])
        placement = checks['Placement knows %s' % TRAIT]
        self.assertEqual(int(Code.WARNING), placement['result'])
        self.assertIn('Could not ask placement', placement['details'])
        # this host's devices: the configuration holds no device_spec
        host = checks[upgradecheck.HOST_DEVICES_CHECK]
        self.assertEqual(int(Code.SUCCESS), host['result'])
        self.assertIn('No [pci]device_spec entry of this nova.conf says '
                      'live_migratable=yes', host['details'])

    def test_invalid_transport_url_is_named_without_traceback(self):
        # Nova's RPC starts as for nova-status: reading a cell mapping
        # needs [DEFAULT]transport_url
        with tempfile.NamedTemporaryFile('w', suffix='.conf') as conf:
            conf.write('[DEFAULT]\ntransport_url = no-scheme\n')
            conf.flush()
            result = self._run('check', '--config-file', conf.name)
        self.assertEqual(upgradecheck.EXIT_NOT_RUN, result.returncode)
        self.assertIn('invalid [DEFAULT]transport_url', result.stderr)
        self.assertNotIn('Traceback', result.stdout + result.stderr)

    def test_missing_config_file_is_named_without_traceback(self):
        missing = os.path.join(tempfile.gettempdir(), 'no-such-nova.conf')
        result = self._run('check', '--config-file', missing)
        self.assertEqual(upgradecheck.EXIT_NOT_RUN, result.returncode)
        self.assertIn(missing, result.stderr)
        self.assertNotIn('Traceback', result.stdout + result.stderr)
