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

"""check-host's readers and rules, on the fixture hosts under fixtures/."""

import json
import os

import fixtures
import testtools

from nova_vfio_lm.hostcheck import devlink
from nova_vfio_lm.hostcheck import findings
from nova_vfio_lm.hostcheck import report
from nova_vfio_lm.hostcheck import runner
from nova_vfio_lm.hostcheck import specs
from nova_vfio_lm.hostcheck import sysfs
from tests import host_fixtures


def spec(**tags):
    entry = {'vendor_id': '15b3', 'product_id': '101e'}
    entry.update(tags)
    return json.dumps(entry)


UNMANAGED = [spec(live_migratable='yes', managed='no')]
#: not-ready: the VFs of PF 81 unmanaged, those of PF 82 managed
MIXED = [spec(address='0000:81:*.*', live_migratable='yes', managed='no'),
         spec(address='0000:82:*.*', live_migratable='Yes', managed='YES')]


def root(host):
    return host_fixtures.root(host)


def recorded(host):
    return runner.RecordedRunner(host_fixtures.commands(host))


def check(host, device_spec=UNMANAGED, commands=None):
    return findings.check_host(device_spec, root(host),
                               commands or recorded(host))


def finding(result, device, name):
    [found] = [f for f in result.findings
               if (f.device, f.check) == (device, name)]
    return found


class SysfsTest(testtools.TestCase):

    def test_bound_driver_and_unbound(self):
        self.assertEqual('mlx5_vfio_pci', sysfs.bound_driver(
            '0000:81:00.2', root('ready-cx7')))
        self.assertEqual('vfio-pci', sysfs.bound_driver(
            '0000:81:00.2', root('not-ready')))
        self.assertIsNone(sysfs.bound_driver(
            '0000:81:00.3', root('not-ready')))
        self.assertIsNone(sysfs.bound_driver(
            '0000:99:00.0', root('not-ready')))

    def test_vf_links(self):
        ready = root('ready-cx7')
        self.assertEqual('0000:81:00.0', sysfs.physfn(ready, '0000:81:00.2'))
        self.assertIsNone(sysfs.physfn(ready, '0000:81:00.0'))
        self.assertEqual(1, sysfs.vf_index(ready, '0000:81:00.0',
                                           '0000:81:00.3'))
        self.assertEqual(('15b3', '101e'),
                         sysfs.device_ids(ready, '0000:81:00.2'))

    def test_variant_driver_from_modules_alias(self):
        ready = root('ready-cx7')
        aliases = sysfs.vfio_pci_aliases(ready, '6.8.0-45-generic')
        self.assertEqual(['mlx5_vfio_pci'], sysfs.variant_drivers(
            aliases, sysfs.modalias_fields(ready, '0000:81:00.2')))
        # the PF is no VF: no alias serves it
        self.assertEqual([], sysfs.variant_drivers(
            aliases, sysfs.modalias_fields(ready, '0000:81:00.0')))
        self.assertIsNone(sysfs.vfio_pci_aliases(ready, '5.14.0'))
        self.assertIsNone(sysfs.vfio_pci_aliases(ready, None))

    def test_missing_files_are_none(self):
        empty = self.useFixture(fixtures.TempDir()).path
        self.assertIsNone(sysfs.kernel_release(empty))
        self.assertIsNone(sysfs.loaded_modules(empty))
        self.assertEqual([], sysfs.pci_addresses(empty))


class RunnerTest(testtools.TestCase):

    def test_recording_names(self):
        self.assertEqual('devlink-dev-info-pci-0000:81:00.0.json',
                         runner.recording_name(
                             ('devlink', '-j', 'dev', 'info',
                              'pci/0000:81:00.0')))
        self.assertEqual(
            'devlink-port-function-show-pci-0000:81:00.0-1.json',
            runner.recording_name(('devlink', '-j', 'port', 'function',
                                   'show', 'pci/0000:81:00.0/1')))
        self.assertEqual('virsh-version.txt',
                         runner.recording_name(runner.VIRSH_VERSION))

    def test_recorded_versions_and_missing_recording(self):
        self.assertEqual((('10.0.0', '8.2.2'), 'virsh version'),
                         recorded('ready-cx7').versions())
        (versions, why) = recorded('unknowns').versions()
        self.assertEqual((None, None), versions)
        self.assertIn('no recorded output (virsh-version.txt)', why)

    def test_a_missing_tool_is_an_error_not_an_exception(self):
        result = runner.CommandRunner().run(('no-such-tool-here', '-j'))
        self.assertFalse(result.ok)
        self.assertEqual('no-such-tool-here is not installed', result.error)


class DevlinkTest(testtools.TestCase):

    def test_card_info(self):
        card = devlink.card_info('0000:81:00.0', recorded('ready-cx7'))
        self.assertEqual(('MT_0000000894', '28.41.1000'),
                         (card.psid, card.firmware))
        self.assertIsNone(card.error)

    def test_card_info_missing_keys_and_tool(self):
        card = devlink.card_info('0000:81:00.0', recorded('unknowns'))
        self.assertEqual(('unknown', 'unknown'), (card.psid, card.firmware))
        self.assertIn('no fw.psid or running fw.version', card.error)
        empty = self.useFixture(fixtures.TempDir()).path
        card = devlink.card_info('0000:81:00.0',
                                 runner.RecordedRunner(empty))
        self.assertEqual(('unknown', 'unknown'), (card.psid, card.firmware))
        self.assertIn('no recorded output', card.error)

    def test_migratable_nested_under_function(self):
        tmp = self.useFixture(fixtures.TempDir()).path
        with open(os.path.join(
                tmp, 'devlink-port-function-show-pci-0000:81:00.0-1.json'),
                'w') as f:
            json.dump({'port': {'pci/0000:81:00.0/1': {'function': {
                'hw_addr': '00:00:00:00:00:00', 'migratable': 'disable'}}}},
                f)
        self.assertEqual(('disable', None), devlink.migratable(
            'pci/0000:81:00.0/1', runner.RecordedRunner(tmp)))


class SpecMatchingTest(testtools.TestCase):

    def test_vendor_product_entry_holds_every_vf(self):
        vfs, entries = specs.migratable_vfs(UNMANAGED, root('ready-cx7'))
        self.assertEqual(1, entries)
        self.assertEqual([('0000:81:00.2', '0000:81:00.0', 0, 'false'),
                          ('0000:81:00.3', '0000:81:00.0', 1, 'false')],
                         [(v.address, v.pf, v.index, v.managed)
                          for v in vfs])

    def test_pf_address_matches_its_vfs_under_the_host_root(self):
        # Nova tells a PF address from a VF one by reading sysfs: here,
        # the fixture's
        vfs, _ = specs.migratable_vfs(
            [json.dumps({'address': '0000:81:00.0',
                         'live_migratable': 'yes'})], root('ready-cx7'))
        self.assertEqual(['0000:81:00.2', '0000:81:00.3'],
                         [v.address for v in vfs])
        self.assertEqual({'true'}, {v.managed for v in vfs})

    def test_first_matching_entry_wins_as_in_nova(self):
        vfs, entries = specs.migratable_vfs(
            [json.dumps({'address': '0000:81:00.3', 'vendor_id': '15b3',
                         'product_id': '101e', 'live_migratable': 'no'})]
            + UNMANAGED, root('ready-cx7'))
        self.assertEqual(1, entries)
        self.assertEqual(['0000:81:00.2'], [v.address for v in vfs])

    def test_wrong_tag_value_is_a_spec_error(self):
        exc = self.assertRaises(
            specs.SpecError, specs.migratable_vfs,
            [spec(live_migratable='maybe')], root('ready-cx7'))
        self.assertIn('maybe', str(exc))


class ReadyHostTest(testtools.TestCase):

    def test_every_finding_ok(self):
        result = check('ready-cx7')
        self.assertEqual([], [f for f in result.findings
                              if f.status != findings.OK])
        self.assertEqual(
            ['device_spec', 'kernel', 'libvirt', 'qemu'] +
            ['driver', 'variant_driver', 'module_loaded', 'eswitch',
             'migratable', 'firmware'] * 2,
            [f.check for f in result.findings])
        self.assertEqual(0, report.exit_status(result))
        self.assertEqual('ok', result.status)
        self.assertTrue(all(f.fix == [] for f in result.findings))

    def test_managed_yes_with_variant_driver_is_ok(self):
        result = check('ready-cx7', [spec(live_migratable='yes')])
        self.assertEqual(findings.OK,
                         finding(result, '0000:81:00.2', 'driver').status)
        self.assertIn('managed=yes',
                      finding(result, '0000:81:00.2', 'driver').detail)


class NotReadyHostTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.result = check('not-ready', MIXED)

    def assertFinding(self, device, name, status, fix=None, detail=None):
        found = finding(self.result, device, name)
        self.assertEqual(status, found.status, found)
        if fix is not None:
            self.assertEqual(fix, found.fix)
        if detail is not None:
            self.assertIn(detail, found.detail)

    def test_exit_status_is_one(self):
        self.assertEqual(1, report.exit_status(self.result))
        self.assertEqual('blocking', self.result.status)

    def test_old_kernel_libvirt_qemu(self):
        self.assertFinding('host', 'kernel', 'blocking',
                           detail='6.5.0-1-generic')
        self.assertFinding('host', 'libvirt', 'blocking', detail='9.0.0',
                           fix=['upgrade libvirt to 10.0.0 or newer'])
        self.assertFinding('host', 'qemu', 'blocking', detail='8.1.0',
                           fix=['upgrade QEMU to 8.2.2 or newer'])

    def test_plain_vfio_pci_blocks_and_is_rebound(self):
        self.assertFinding('0000:81:00.2', 'driver', 'blocking', fix=[
            'echo 0000:81:00.2 > /sys/bus/pci/drivers/vfio-pci/unbind',
            'modprobe mlx5_vfio_pci',
            'echo mlx5_vfio_pci > '
            '/sys/bus/pci/devices/0000:81:00.2/driver_override',
            'echo 0000:81:00.2 > /sys/bus/pci/drivers_probe'],
            detail='plain vfio-pci')

    def test_unbound_vf_blocks_when_unmanaged(self):
        self.assertFinding('0000:81:00.3', 'driver', 'blocking',
                           detail='unbound; managed=no')

    def test_unbound_vf_is_ok_when_managed(self):
        self.assertFinding('0000:82:00.3', 'driver', 'ok',
                           detail='libvirt binds mlx5_vfio_pci')

    def test_vf_held_by_mlx5_core_warns_when_managed(self):
        self.assertFinding('0000:82:00.2', 'driver', 'warning', fix=[
            'echo 0000:82:00.2 > /sys/bus/pci/drivers/mlx5_core/unbind'])

    def test_vf_held_by_mlx5_core_blocks_when_unmanaged(self):
        result = check('not-ready', UNMANAGED)
        found = finding(result, '0000:82:00.2', 'driver')
        self.assertEqual('blocking', found.status)
        self.assertEqual(
            'echo 0000:82:00.2 > /sys/bus/pci/drivers/mlx5_core/unbind',
            found.fix[0])

    def test_no_variant_driver_in_modules_alias(self):
        self.assertFinding('0000:81:00.2', 'variant_driver', 'blocking',
                           detail='no vfio_pci variant driver for 15b3:101e')
        self.assertFinding('0000:81:00.2', 'module_loaded', 'warning', fix=[
            'modprobe mlx5_vfio_pci',
            'echo mlx5_vfio_pci > /etc/modules-load.d/mlx5_vfio_pci.conf'])

    def test_legacy_eswitch(self):
        self.assertFinding('0000:81:00.2', 'eswitch', 'blocking', fix=[
            'devlink dev eswitch set pci/0000:81:00.0 mode switchdev'])
        self.assertFinding('0000:82:00.2', 'eswitch', 'ok')
        # no VF port in legacy mode: migratable unknown until switchdev
        self.assertFinding('0000:81:00.2', 'migratable', 'unknown',
                           detail='switchdev')

    def test_migratable_disabled(self):
        self.assertFinding('0000:82:00.2', 'migratable', 'blocking', fix=[
            'echo 0000:82:00.2 > /sys/bus/pci/drivers/mlx5_core/unbind',
            'devlink port function set pci/0000:82:00.0/1 migratable enable'])
        self.assertFinding('0000:82:00.3', 'migratable', 'ok')

    def test_migratable_fix_rebinds_an_unmanaged_vf(self):
        result = check('not-ready', UNMANAGED)
        self.assertEqual(
            ['echo 0000:82:00.2 > /sys/bus/pci/drivers/mlx5_core/unbind',
             'devlink port function set pci/0000:82:00.0/1 migratable enable',
             'echo mlx5_vfio_pci > '
             '/sys/bus/pci/devices/0000:82:00.2/driver_override',
             'echo 0000:82:00.2 > /sys/bus/pci/drivers_probe'],
            finding(result, '0000:82:00.2', 'migratable').fix)

    def test_old_firmware(self):
        # stored firmware is new enough: a reset runs it
        self.assertFinding('0000:81:00.2', 'firmware', 'blocking',
                           fix=['mlxfwreset -d 0000:81:00.0 reset -y'],
                           detail='running 28.39.3560 (>= 28.41.1000 for '
                                  'ConnectX-7)')
        self.assertFinding('0000:82:00.2', 'firmware', 'blocking', fix=[
            'mlxfwmanager -d 0000:82:00.0 -u --online',
            'mlxfwreset -d 0000:82:00.0 reset -y'])

    def test_every_non_ok_finding_has_a_fix(self):
        self.assertEqual([], [f for f in self.result.findings
                              if f.status != 'ok' and not f.fix])


class UnknownsTest(testtools.TestCase):

    def test_missing_files_and_keys_are_unknown(self):
        result = check('unknowns')
        self.assertEqual(
            {('host', 'kernel'), ('host', 'libvirt'), ('host', 'qemu'),
             ('0000:81:00.2', 'variant_driver'),
             ('0000:81:00.2', 'eswitch'), ('0000:81:00.2', 'migratable'),
             ('0000:81:00.2', 'firmware')},
            {(f.device, f.check) for f in result.findings
             if f.status == 'unknown'})
        self.assertEqual(0, report.exit_status(result))
        self.assertIn('no migratable key', finding(
            result, '0000:81:00.2', 'migratable').detail)
        self.assertIn(
            'unknown: 0000:81:00.2 eswitch: devlink dev eswitch show '
            'pci/0000:81:00.0 has no mode', report.as_table(result))

    def test_devlink_absent(self):
        empty = self.useFixture(fixtures.TempDir()).path
        result = check('ready-cx7', commands=runner.RecordedRunner(empty))
        for name in ('eswitch', 'migratable', 'firmware'):
            found = finding(result, '0000:81:00.2', name)
            self.assertEqual('unknown', found.status, found)
            self.assertIn('no recorded output', found.detail)
        self.assertEqual(0, report.exit_status(result))

    def test_empty_host_root(self):
        empty = self.useFixture(fixtures.TempDir()).path
        result = findings.check_host(UNMANAGED, empty,
                                     runner.RecordedRunner(empty))
        self.assertEqual([('host', 'device_spec', 'warning')],
                         [(f.device, f.check, f.status)
                          for f in result.findings])
        self.assertIn('entry matches no VF', result.findings[0].detail)

    def test_nothing_to_check(self):
        result = check('ready-cx7', [spec(live_migratable='no')])
        self.assertEqual([('device_spec', 'ok')],
                         [(f.check, f.status) for f in result.findings])
        result = check('ready-cx7', [])
        self.assertEqual('ok', result.status)

    def test_invalid_spec_blocks(self):
        result = check('ready-cx7', [spec(live_migratable='maybe')])
        self.assertEqual([('device_spec', 'blocking')],
                         [(f.check, f.status) for f in result.findings])
        self.assertEqual(1, report.exit_status(result))


class VersionRuleTest(testtools.TestCase):

    def test_same_minimums_as_the_start_refusal(self):
        from nova_vfio_lm.changes import libvirt_version_requirements as req

        self.assertEqual((req.MIN_LIBVIRT, req.MIN_QEMU),
                         (findings.MIN_LIBVIRT, findings.MIN_QEMU))

    def test_version_tuple(self):
        self.assertEqual((6, 8), findings.version_tuple('6.8.0-45-generic',
                                                        2))
        self.assertEqual((10, 0, 0), findings.version_tuple('10.0.0'))
        self.assertIsNone(findings.version_tuple(None))


class FirmwareRuleTest(testtools.TestCase):

    def vf(self):
        return specs.MigratableVF('0000:03:00.2', '0000:03:00.0', 0,
                                  '15b3', '101e', 'false')

    def test_bluefield3_by_firmware_family(self):
        card = devlink.CardInfo('MT_0000000884', '32.40.1000', None, None)
        found = findings.check_firmware(self.vf(), card, ('15b3', 'a2dc'))
        self.assertEqual('blocking', found.status)
        self.assertIn('>= 32.41.1000 for BlueField-3', found.detail)

    def test_unknown_card_has_no_minimum(self):
        card = devlink.CardInfo('MT_0000000001', '26.36.1010', None, None)
        found = findings.check_firmware(self.vf(), card, ('15b3', '101d'))
        self.assertEqual('unknown', found.status)
        self.assertIn('no known minimum', found.detail)

    def test_stored_firmware_differs_warns(self):
        card = devlink.CardInfo('MT_0000000894', '28.41.1000', '28.42.1000',
                                None)
        found = findings.check_firmware(self.vf(), card, ('15b3', '1021'))
        self.assertEqual('warning', found.status)
        self.assertEqual(['mlxfwreset -d 0000:03:00.0 reset -y'], found.fix)


class ReportTest(testtools.TestCase):

    def test_json_shape(self):
        document = json.loads(report.as_json(check('not-ready', MIXED)))
        self.assertEqual(
            {'host', 'host_root', 'status', 'blocking', 'summary', 'vfs',
             'cards', 'findings', 'unknown'}, set(document))
        self.assertEqual('cx7-not-ready', document['host'])
        self.assertEqual('blocking', document['status'])
        self.assertTrue(document['blocking'])
        self.assertEqual({'blocking': 16, 'warning': 5, 'unknown': 2,
                          'ok': 5}, document['summary'])
        self.assertEqual(
            {'0000:81:00.0': {'psid': 'MT_0000000894',
                              'firmware': '28.39.3560'},
             '0000:82:00.0': {'psid': 'MT_0000000894',
                              'firmware': '28.39.3560'}},
            document['cards'])
        self.assertEqual(
            {'address': '0000:82:00.3', 'pf': '0000:82:00.0', 'vf_index': 1,
             'vendor_id': '15b3', 'product_id': '101e', 'managed': 'true'},
            document['vfs'][3])
        self.assertEqual(
            {'device': '0000:81:00.2', 'check': 'eswitch',
             'status': 'blocking',
             'detail': 'PF 0000:81:00.0 eswitch in legacy mode, switchdev '
                       'needed',
             'fix': ['devlink dev eswitch set pci/0000:81:00.0 mode '
                     'switchdev']},
            [f for f in document['findings']
             if (f['device'], f['check']) == ('0000:81:00.2', 'eswitch')][0])
        self.assertEqual(2, len(document['unknown']))

    def test_table_rows_and_fixes(self):
        table = report.as_table(check('not-ready', MIXED))
        lines = table.splitlines()
        self.assertTrue(lines[0].startswith('host cx7-not-ready (root '))
        self.assertIn('summary: 16 blocking, 5 warning, 2 unknown, 5 ok',
                      lines)
        row = [n for n, line in enumerate(lines)
               if line.startswith('0000:81:00.2  eswitch ')][0]
        self.assertIn('blocking', lines[row])
        self.assertEqual(
            'fix: devlink dev eswitch set pci/0000:81:00.0 mode switchdev',
            lines[row + 1].strip())
