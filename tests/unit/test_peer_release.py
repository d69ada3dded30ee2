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

from nova_vfio_lm import pci_migration
from nova_vfio_lm import peer_release


class _Data(dict):
    """Live-migration data as received: its sender's version, its marks."""

    fields = ('vfio_lm_source', 'vfio_lm_dest')

    def __init__(self, version, **marks):
        super().__init__(**marks)
        self.VERSION = version

    def __getattr__(self, name):
        return self[name]


class PeerMapsVfsTest(testtools.TestCase):

    def test_2025_1_or_newer_maps_vfs_with_or_without_the_plugin(self):
        self.assertTrue(peer_release.maps_vfs(_Data('1.13'), 'vfio_lm_dest'))
        self.assertTrue(peer_release.maps_vfs(_Data('1.14'),
                                              'vfio_lm_source'))

    def test_2024_x_maps_vfs_only_with_the_plugin(self):
        marked = _Data('1.12', vfio_lm_source=pci_migration.DATA_FORMAT)
        self.assertTrue(peer_release.maps_vfs(marked, 'vfio_lm_source'))
        self.assertFalse(peer_release.maps_vfs(marked, 'vfio_lm_dest'))
        self.assertFalse(peer_release.maps_vfs(_Data('1.11'),
                                               'vfio_lm_source'))

    def test_refusal_names_the_peer_its_data_version_and_the_fix(self):
        said = peer_release.refusal('source', 'compute3', _Data('1.11'))
        for text in ('source compute compute3', 'version 1.11',
                     'older than 2025.1', 'nova-vfio-lm-run'):
            self.assertIn(text, said)
