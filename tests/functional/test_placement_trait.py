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

"""``HW_PCI_LIVE_MIGRATABLE`` on PCI resource providers in placement."""

import logging

import fixtures

from nova_vfio_lm import placement_traits
from nova_vfio_lm_cloud.inprocess import cloud

TRAIT = placement_traits.TRAIT
#: PF 0's VFs are live-migratable, PF 1's carry no tag.
DEVICE_SPECS = [
    cloud.device_spec('0000:81:00.*', live_migratable='yes'),
    cloud.device_spec('0000:81:01.*'),
]
MIGRATABLE_RP = 'compute1_0000:81:00.0'
OTHER_RP = 'compute1_0000:81:01.0'


class _TraitCloud(cloud.VfioCloudTestCase):

    PCI_DEVICE_SPEC = DEVICE_SPECS
    PCI_ALIAS = [cloud.alias('lm-vf', live_migratable='yes')]

    def setUp(self):
        super().setUp()
        self.enable_pci_in_placement()
        # the warning is logged once per compute process: start clean
        self.useFixture(fixtures.MonkeyPatch(
            'nova_vfio_lm.placement_traits.AVAILABILITY',
            placement_traits.TraitAvailability()))
        self.log = self.useFixture(fixtures.FakeLogger(
            name=placement_traits.__name__, level=logging.INFO))

    def traits_by_rp(self):
        return {rp['name']: self.provider_traits(rp['uuid'])
                for rp in self.pci_providers('compute1')}


class TraitReportedTest(_TraitCloud):

    def test_trait_only_on_live_migratable_providers(self):
        self.start_sriov_compute('compute1', num_pfs=2, num_vfs=4)
        traits = self.traits_by_rp()
        self.assertEqual({MIGRATABLE_RP, OTHER_RP}, set(traits))
        self.assertIn(TRAIT, traits[MIGRATABLE_RP])
        self.assertNotIn(TRAIT, traits[OTHER_RP])
        self.assertNotIn('does not know', self.log.output)


class OldPlacementTest(_TraitCloud):
    """Placement runs an os-traits that predates the trait."""

    PLACEMENT_LACKS_TRAITS = (TRAIT,)

    def test_host_stays_schedulable_and_trait_follows_upgrade(self):
        self.start_sriov_compute('compute1', num_pfs=2, num_vfs=4)
        self._run_periodics()

        # everything but the trait was reported
        traits = self.traits_by_rp()
        self.assertEqual({MIGRATABLE_RP, OTHER_RP}, set(traits))
        self.assertNotIn(TRAIT, traits[MIGRATABLE_RP])
        for rp in self.pci_providers('compute1'):
            self.assertTrue(self._get_provider_inventory(rp['uuid']))
        self.assertTrue(self._get_provider_inventory(
            self.compute_rp_uuids['compute1']))

        # PCI and non-PCI servers still land on the host
        plain = self._create_server(
            flavor_id=self.create_plain_flavor(), networks='none')
        self.assertEqual('compute1', plain['OS-EXT-SRV-ATTR:host'])
        vf = self._create_server(
            flavor_id=self.create_pci_flavor('lm-vf'), networks='none')
        self.assertEqual('ACTIVE', vf['status'])

        # one clear warning naming the fix, however many updates ran
        self.assertEqual(1, self.log.output.count(
            'Placement does not know the %s trait' % TRAIT))
        self.assertIn('install os-traits 3.3.0 or newer where placement '
                      'runs and restart placement', self.log.output)

        self.upgrade_placement_traits()
        self._run_periodics()
        self.assertIn(TRAIT, self.traits_by_rp()[MIGRATABLE_RP])
        self.assertNotIn(TRAIT, self.traits_by_rp()[OTHER_RP])


class _PreFilterCloud(_TraitCloud):
    PCI_ALIAS = [cloud.alias('lm-vf', live_migratable='yes'),
                 cloud.alias('pinned-vf', live_migratable='no'),
                 cloud.alias('any-vf')]

    def candidate_queries(self):
        """The allocation candidate queries placement received."""
        return [line for line in self.stdlog.logger.output.splitlines()
                if 'GET /placement/allocation_candidates' in line]

    def boot_alias(self, alias_name):
        before = len(self.candidate_queries())
        server = self.boot(self.create_pci_flavor(alias_name))
        [query] = self.candidate_queries()[before:]
        return server, query


class PlacementPreFilterTest(_PreFilterCloud):

    def setUp(self):
        super().setUp()
        self.start_sriov_compute('compute1', num_pfs=2, num_vfs=4)

    def test_yes_requires_the_trait_and_lands_on_its_provider(self):
        server, query = self.boot_alias('lm-vf')
        self.assertIn('=%s' % TRAIT, query)
        self.assertNotIn('%%21%s' % TRAIT, query)
        self.assertEqual('ACTIVE', server['status'])
        usages = self.pci_usages('compute1')
        self.assertEqual(1, sum(usages[MIGRATABLE_RP].values()))

    def test_no_forbids_the_trait(self):
        # PF 1's VFs carry no tag, so nothing satisfies 'no': placement
        # already says so
        server, query = self.boot_alias('pinned-vf')
        self.assertIn('%%21%s' % TRAIT, query)
        self.assertEqual('ERROR', server['status'])
        self.assert_nothing_claimed('compute1')

    def test_unset_asks_nothing_of_the_trait(self):
        server, query = self.boot_alias('any-vf')
        self.assertNotIn(TRAIT, query)
        self.assertEqual('ACTIVE', server['status'])


class PlacementPreFilterOldPlacementTest(_PreFilterCloud):

    PLACEMENT_LACKS_TRAITS = (TRAIT,)

    def test_unknown_trait_is_not_asked_for(self):
        self.start_sriov_compute('compute1', num_pfs=2, num_vfs=4)
        server, query = self.boot_alias('lm-vf')
        self.assertNotIn(TRAIT, query)
        self.assertEqual('ACTIVE', server['status'])
