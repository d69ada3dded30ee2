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

"""The fields the plugin adds to ``LibvirtLiveMigrateData``, pinned."""

import nova_vfio_lm
from nova_vfio_lm_cloud.inprocess import cloud

#: Changing a field's name or type changes the data on the wire between
#: computes: bump DATA_FORMAT in nova_vfio_lm.pci_migration and update this.
PINNED = {
    'vfio_lm_pci_devices': 'ListOfDictOfNullableStringsField(False)',
    'vfio_lm_source': 'StringField(True)',
    'vfio_lm_dest': 'StringField(True)',
    'vfio_lm_release_claims_only': 'BooleanField(False)',
}


def _describe(field):
    return '%s(%s)' % (type(field).__name__, field.nullable)


class LiveMigrateDataFieldsTest(cloud.VfioCloudTestCase):

    def setUp(self):
        super().setUp()
        nova_vfio_lm.activate()
        from nova.objects import migrate_data
        self.cls = migrate_data.LibvirtLiveMigrateData

    def test_added_fields_are_pinned(self):
        added = {name: _describe(field)
                 for name, field in self.cls.fields.items()
                 if name.startswith('vfio_lm_')}
        # the same on every series: 2024.x and 2025.1+ computes running the
        # plugin exchange them during a rolling upgrade
        self.assertEqual(PINNED, added)

    def test_fields_survive_serialisation_and_older_versions(self):
        data = self.cls(vfio_lm_release_claims_only=True,
                        vfio_lm_source='1', vfio_lm_dest='1')
        data.vfio_lm_pci_devices = [{'source_address': '0000:81:00.1',
                                     'dest_address': '0000:81:00.2'}]
        if cloud.NOVA_SERIES.native:
            data.pci_dev_map_src_dst = {'0000:81:00.1': '0000:81:00.2'}
        for version in (None, '1.11'):
            primitive = data.obj_to_primitive(target_version=version)
            copy = self.cls.obj_from_primitive(primitive)
            self.assertTrue(copy.vfio_lm_release_claims_only)
            self.assertEqual('1', copy.vfio_lm_dest)
            self.assertEqual('0000:81:00.2',
                             copy.vfio_lm_pci_devices[0]['dest_address'])
            if cloud.NOVA_SERIES.native:
                # what a 2024.1 compute receives keeps only the plugin's map
                self.assertEqual(version is None,
                                 'pci_dev_map_src_dst' in copy)

    def test_port_flag_is_pinned_and_survives_serialisation(self):
        from nova.objects import migrate_data
        vif_cls = migrate_data.VIFMigrateData
        self.assertEqual(
            {'vfio_lm_moves': 'BooleanField(False)'},
            {name: _describe(field) for name, field in vif_cls.fields.items()
             if name.startswith('vfio_lm_')})
        vif = vif_cls(port_id='p1', vfio_lm_moves=True)
        copy = vif_cls.obj_from_primitive(vif.obj_to_primitive())
        self.assertTrue(copy.vfio_lm_moves)
        # a peer that never sets it leaves it unset: unplug and plug
        self.assertNotIn('vfio_lm_moves', vif_cls(port_id='p2'))
