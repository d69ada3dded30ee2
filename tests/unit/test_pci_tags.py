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

import testtools

from nova_vfio_lm import pci_tags


class NormaliseTest(testtools.TestCase):

    def test_true_words_in_any_case(self):
        for word in ('yes', 'YES', 'Yes', 'true', 'True', '1', 'on', 't',
                     'y', True):
            self.assertEqual('true', pci_tags.normalise('managed', word),
                             word)

    def test_false_words_in_any_case(self):
        for word in ('no', 'No', 'false', 'FALSE', '0', 'off', 'f', 'n',
                     False):
            self.assertEqual('false', pci_tags.normalise('managed', word),
                             word)

    def test_other_words_name_tag_and_value(self):
        for word in ('maybe', '', 'yess', '2', None):
            exc = self.assertRaises(
                pci_tags.InvalidTagValue, pci_tags.normalise,
                'live_migratable', word)
            self.assertIn('live_migratable=%r' % (word,), str(exc))
            self.assertIn('yes', str(exc))
