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

import collections

import testtools

from nova_vfio_lm import pci_pools

Request = collections.namedtuple('Request', 'spec count')

POOLS = [
    {'live_migratable': 'true', 'count': 2},
    {'live_migratable': 'false', 'count': 3},
    {'count': 5},
]


def _kept(*specs):
    return [pool['count'] for pool in
            pci_pools.filter_pools(POOLS, Request(list(specs), 1))]


class TruthTableTest(testtools.TestCase):

    def test_every_spec_true_keeps_only_true_pools(self):
        self.assertEqual([2], _kept({'live_migratable': 'true'}))
        self.assertEqual([2], _kept({'live_migratable': 'true'},
                                    {'live_migratable': 'true'}))

    def test_every_spec_false_keeps_only_explicitly_false_pools(self):
        self.assertEqual([3], _kept({'live_migratable': 'false'}))

    def test_unset_keeps_every_pool(self):
        self.assertEqual([2, 3, 5], _kept({'vendor_id': '15b3'}))

    def test_mixed_specs_keep_every_pool(self):
        self.assertEqual([2, 3, 5], _kept({'live_migratable': 'true'},
                                          {'live_migratable': 'false'}))
        self.assertEqual([2, 3, 5], _kept({'live_migratable': 'true'}, {}))

    def test_no_spec_keeps_every_pool(self):
        self.assertEqual([2, 3, 5], _kept())

    def test_live_migratable_request(self):
        self.assertTrue(pci_pools.is_live_migratable_request(
            Request([{'live_migratable': 'true'}], 1)))
        self.assertFalse(pci_pools.is_live_migratable_request(
            Request([{'live_migratable': 'false'}], 1)))
        self.assertFalse(pci_pools.is_live_migratable_request(
            Request([{}], 1)))
