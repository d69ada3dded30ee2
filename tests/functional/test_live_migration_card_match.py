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

"""Same card and firmware on both ends of a VF's live migration.

Each compute reads its PF's card from recorded devlink answers
(``[vfio_lm] recorded_commands_dir``, one directory per compute), the way a
compute that cannot run devlink itself would.
"""

import json
import os

import fixtures
from nova import objects
from oslo_utils import uuidutils

from nova_vfio_lm import card_match
from nova_vfio_lm_cloud.inprocess import cloud
from tests.functional import test_live_migration

CX7 = 'MT_0000000894'
OTHER_CX7 = 'MT_0000000838'
#: fake libvirt's PF of every VF
PF = cloud.vf_address(0)


class _CardCloud(test_live_migration._LiveMigrationCloud):
    """compute1 and compute2 with the cards the test class names."""

    #: ``(psid, firmware)`` of each compute's PF; ``None``: devlink silent
    CARDS = {'compute1': (CX7, '28.41.1000'),
             'compute2': (CX7, '28.41.1000')}
    POLICY = 'exact'

    def setUp(self):
        cloud.VfioCloudTestCase.setUp(self)
        self.flags(card_match=self.POLICY, group='vfio_lm')
        self.use_live_migration_hypervisor()
        for host in sorted(self.CARDS):
            self.flags(recorded_commands_dir=self.recordings(
                self.CARDS[host]), group='vfio_lm')
            self.start_sriov_compute(host)

    def recordings(self, card):
        path = self.useFixture(fixtures.TempDir()).path
        if card is not None:
            psid, firmware = card
            handle = 'pci/%s' % PF
            with open(os.path.join(
                    path, 'devlink-dev-info-%s.json' %
                    handle.replace('/', '-')), 'w') as f:
                json.dump({'info': {handle: {
                    'driver': 'mlx5_core',
                    'versions': {'fixed': {'fw.psid': psid},
                                 'running': {'fw.version': firmware,
                                             'fw': firmware}}}}}, f)
        return path

    def cards(self, hostname):
        """The cards a host's live-migratable VFs are recorded on."""
        return {card_match.card_of(d) for d in self.pci_devices(hostname)
                if d.extra_info.get('live_migratable') == 'true'}

    def assert_refused(self, server, vfs, *named):
        server, migration = self.live_migrate(server, host='compute2')
        self.assertEqual('error', migration['status'])
        self.assert_untouched_on_source(server, vfs, (4, 4))
        self.assert_nothing_claimed('compute2')
        refusals = [line for line in self.stdlog.logger.output.splitlines()
                    if 'MigrationPreCheckError' in line and
                    'NVIDIA supports VF live migration only' in line]
        self.assertTrue(refusals)
        for text in named:
            self.assertIn(text, refusals[0])


class SameCardTest(_CardCloud):

    def test_each_vf_records_its_card_and_moves(self):
        self.assertEqual({card_match.Card(CX7, '28.41.1000')},
                         self.cards('compute1'))
        server = self.boot_on('compute1', count=2)

        server, migration = self.live_migrate(server, host='compute2')

        self.assert_landed_on_compute2(server, migration)


class OtherFirmwareTest(_CardCloud):

    CARDS = {'compute1': (CX7, '28.41.1000'),
             'compute2': (CX7, '28.42.1010')}

    def test_other_firmware_is_refused_naming_both(self):
        server = self.boot_on('compute1', count=2)
        vfs = self.device_addresses(server['id'])

        self.assert_refused(server, vfs, 'firmware 28.42.1010',
                            'firmware 28.41.1000', 'card_match = exact')

    def test_psid_policy_lets_firmware_differ(self):
        self.flags(card_match='psid', group='vfio_lm')
        server = self.boot_on('compute1')

        server, migration = self.live_migrate(server, host='compute2')

        self.assert_landed_on_compute2(server, migration)


class OtherCardTest(_CardCloud):

    CARDS = {'compute1': (CX7, '28.41.1000'),
             'compute2': (OTHER_CX7, '28.41.1000')}
    POLICY = 'psid'

    def test_other_psid_is_refused_even_when_firmware_may_differ(self):
        server = self.boot_on('compute1')
        vfs = self.device_addresses(server['id'])

        self.assert_refused(server, vfs, 'PSID %s' % OTHER_CX7,
                            'PSID %s' % CX7, 'card_match = psid')

    def test_policy_off_compares_nothing(self):
        self.flags(card_match='off', group='vfio_lm')
        server = self.boot_on('compute1')

        server, migration = self.live_migrate(server, host='compute2')

        self.assert_landed_on_compute2(server, migration)


class UnknownCardTest(_CardCloud):

    CARDS = {'compute1': (CX7, '28.41.1000'), 'compute2': None}

    def test_unknown_card_is_logged_not_refused(self):
        self.assertEqual({card_match.Card('unknown', 'unknown')},
                         self.cards('compute2'))
        server = self.boot_on('compute1')

        server, migration = self.live_migrate(server, host='compute2')

        self.assert_landed_on_compute2(server, migration)
        self.assertIn('Cannot compare the psid and firmware of the cards',
                      self.stdlog.logger.output)


class SchedulerCardTest(_CardCloud):
    """compute2 runs other firmware than compute1 and compute3."""

    CARDS = {'compute1': (CX7, '28.41.1000'),
             'compute2': (CX7, '28.42.1010'),
             'compute3': (CX7, '28.41.1000')}

    def setUp(self):
        super().setUp()
        from nova_vfio_lm.scheduler import live_migratable_pci_filter

        self.filter = live_migratable_pci_filter.LiveMigratablePciFilter()
        self.server = self.boot_on('compute1')

    def passing(self, task_state='migrating', host=None, booting=None):
        """Which of compute2 and compute3 the filter keeps.

        :param booting: the uuid of a server being built in the server's
            place (no cell yet, or no mapping at all).
        """
        instance = objects.Instance.get_by_uuid(self.ctxt, self.server['id'])
        instance.task_state = task_state
        instance.save()
        spec = objects.RequestSpec.get_by_instance_uuid(
            self.ctxt, self.server['id'])
        if booting:
            spec.instance_uuid = booting
        spec.requested_destination = (
            objects.Destination(host=host) if host else None)
        uuids = [objects.ComputeNode.get_by_nodename(self.ctxt, h).uuid
                 for h in ('compute2', 'compute3')]
        states = self.scheduler.manager.host_manager.get_host_states_by_uuids(
            self.ctxt, uuids, spec)
        return sorted(state.host for state in states
                      if self.filter.host_passes(state, spec))

    def test_live_migration_keeps_hosts_with_matching_cards(self):
        self.assertEqual(['compute3'], self.passing())

    def test_psid_policy_keeps_both(self):
        self.flags(card_match='psid', group='vfio_lm')
        self.assertEqual(['compute2', 'compute3'], self.passing())

    def test_named_host_is_left_to_its_pre_check(self):
        self.assertEqual(['compute2', 'compute3'],
                         self.passing(host='compute2'))

    def test_a_boot_is_not_compared(self):
        unmapped = uuidutils.generate_uuid()
        uncelled = uuidutils.generate_uuid()
        objects.InstanceMapping(context=self.ctxt, instance_uuid=uncelled,
                                project_id=self.server['tenant_id'],
                                cell_mapping=None).create()
        self.assertEqual(['compute2', 'compute3'],
                         self.passing(booting=uncelled))
        self.assertEqual(['compute2', 'compute3'],
                         self.passing(booting=unmapped))

    def test_cold_migration_does_not_compare_cards(self):
        self.assertEqual(['compute2', 'compute3'],
                         self.passing(task_state='resize_prep'))
