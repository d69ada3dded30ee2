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

from lxml import etree
import testtools

from nova_vfio_lm import pci_migration


class RequiringLiveMigratableTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        from nova import objects
        objects.register_all()
        self.port = objects.InstancePCIRequest(
            request_id='port', count=1,
            spec=[{'physical_network': 'physnet4'}])
        self.other = objects.InstancePCIRequest(
            request_id='other', count=1,
            spec=[{'physical_network': 'bar', 'live_migratable': 'false'}])

    def test_only_the_named_requests_ask_for_live_migratable_vfs(self):
        with pci_migration.requiring_live_migratable(
                [self.port, self.other], {'port'}) as changed:
            self.assertTrue(changed)
            self.assertEqual('true', self.port.spec[0]['live_migratable'])
            self.assertEqual('false', self.other.spec[0]['live_migratable'])
        self.assertEqual([{'physical_network': 'physnet4'}], self.port.spec)

    def test_what_nova_writes_meanwhile_is_kept(self):
        with pci_migration.requiring_live_migratable(
                [self.port], {'port'}):
            self.port.spec[0]['parent_ifname'] = 'ens2'
        self.assertEqual(
            [{'physical_network': 'physnet4', 'parent_ifname': 'ens2'}],
            self.port.spec)

    def test_nothing_named_changes_nothing(self):
        with pci_migration.requiring_live_migratable(
                [self.other], {'port'}) as changed:
            self.assertFalse(changed)
        self.assertEqual('false', self.other.spec[0]['live_migratable'])


class _CheckData(dict):
    """Check data whose class knows the marks, set or not."""

    fields = ('vfio_lm_source', 'vfio_lm_dest')

    def __getattr__(self, name):
        return self[name]


class PeerRunsPluginTest(testtools.TestCase):

    def test_marked_with_this_data_format(self):
        data = _CheckData(vfio_lm_dest=pci_migration.DATA_FORMAT)
        self.assertTrue(pci_migration.peer_runs_plugin(data, 'vfio_lm_dest'))
        self.assertFalse(
            pci_migration.peer_runs_plugin(data, 'vfio_lm_source'))

    def test_unmarked_other_format_or_no_data(self):
        self.assertFalse(pci_migration.peer_runs_plugin(
            _CheckData(), 'vfio_lm_dest'))
        self.assertFalse(pci_migration.peer_runs_plugin(
            _CheckData(vfio_lm_dest='0'), 'vfio_lm_dest'))
        self.assertFalse(pci_migration.peer_runs_plugin(None, 'vfio_lm_dest'))


def _guest(*addresses):
    hostdevs = ''.join(
        "<hostdev mode='subsystem' type='pci' managed='no'><source>"
        "<address domain='0x0000' bus='0x%s' slot='0x%s' function='0x%s'/>"
        "</source></hostdev>" % tuple(a.replace('.', ':').split(':')[1:])
        for a in addresses)
    return etree.fromstring('<domain><devices>%s</devices></domain>'
                            % hostdevs)


def _addresses(doc):
    return [pci_migration._address_of(a)
            for a in doc.findall("./devices/hostdev/source/address")]


class MapHostdevsAtOnceTest(testtools.TestCase):

    def test_swapped_addresses_each_device_on_its_own_vf(self):
        doc = _guest('0000:81:00.1', '0000:81:00.2')
        pci_migration.map_hostdevs_at_once(
            doc, {'0000:81:00.1': '0000:81:00.2',
                  '0000:81:00.2': '0000:81:00.1'})
        self.assertEqual(['0000:81:00.2', '0000:81:00.1'], _addresses(doc))

    def test_chain_of_overlaps(self):
        doc = _guest('0000:81:00.1', '0000:81:00.2', '0000:81:00.3')
        pci_migration.map_hostdevs_at_once(
            doc, {'0000:81:00.1': '0000:81:00.2',
                  '0000:81:00.2': '0000:81:00.3',
                  '0000:81:00.3': '0000:82:00.1'})
        self.assertEqual(['0000:81:00.2', '0000:81:00.3', '0000:82:00.1'],
                         _addresses(doc))

    def test_unmapped_devices_untouched(self):
        doc = _guest('0000:81:00.1', '0000:03:00.0')
        pci_migration.map_hostdevs_at_once(doc, {'0000:81:00.1':
                                                 '0000:81:00.4'})
        self.assertEqual(['0000:81:00.4', '0000:03:00.0'], _addresses(doc))

    def test_entry_without_device_names_it(self):
        doc = _guest('0000:81:00.1')
        exc = self.assertRaises(
            pci_migration.MappingError, pci_migration.map_hostdevs_at_once,
            doc, {'0000:81:00.1': '0000:81:00.2',
                  '0000:81:00.5': '0000:81:00.3'})
        self.assertIn('0000:81:00.5', str(exc))
        self.assertEqual(['0000:81:00.1'], _addresses(doc))


class _Device:
    def __init__(self, address, request_id=None, extra_info=None):
        self.address = address
        self.request_id = request_id
        self.vendor_id = '15b3'
        self.product_id = '101e'
        self.extra_info = extra_info or {}


class MappingBetweenReleasesTest(testtools.TestCase):
    """Nova 2025.1's map and the plugin's mapping describe the same pairs."""

    def test_native_map_in_the_plugin_format_and_back(self):
        source_to_dest = {'0000:81:00.1': '0000:81:00.2',
                          '0000:81:00.2': '0000:81:00.1'}
        source = [_Device('0000:81:00.1', 'r1'),
                  _Device('0000:81:00.2', 'r2')]
        claimed = [_Device('0000:81:00.1', 'r2',
                           {'live_migratable': 'true', 'managed': 'false'}),
                   _Device('0000:81:00.2', 'r1',
                           {'live_migratable': 'true', 'managed': 'false'})]

        mapping = pci_migration.mapping_from_native(source_to_dest, source,
                                                    claimed)

        self.assertEqual([
            ('0000:81:00.1', '0000:81:00.2', 'r1', 'true', 'false'),
            ('0000:81:00.2', '0000:81:00.1', 'r2', 'true', 'false')],
            [(e['source_address'], e['dest_address'], e['request_id'],
              e['live_migratable'], e['managed']) for e in mapping])
        self.assertEqual(source_to_dest, pci_migration.native_map(mapping))

    def test_a_pair_whose_vf_is_not_claimed_here_is_left_out(self):
        mapping = pci_migration.mapping_from_native(
            {'0000:81:00.1': '0000:81:00.3'}, [_Device('0000:81:00.1', 'r')],
            [])
        self.assertEqual([], mapping)


class UnmappedHostdevsTest(testtools.TestCase):

    XML = """<domain><devices>
      <hostdev mode='subsystem' type='pci'><source>
        <address domain='0x0000' bus='0x81' slot='0x00' function='0x1'/>
      </source></hostdev>
      <hostdev mode='subsystem' type='pci'><source>
        <address domain='0x0000' bus='0x82' slot='0x00' function='0x1'/>
      </source></hostdev>
    </devices></domain>"""

    def test_migratable_hostdev_without_destination_is_named(self):
        doc = etree.fromstring(self.XML)
        self.assertEqual(['0000:81:00.1'], pci_migration.unmapped_hostdevs(
            doc, {}, {'0000:81:00.1'}))

    def test_mapped_or_not_migratable_hostdevs_are_fine(self):
        doc = etree.fromstring(self.XML)
        self.assertEqual([], pci_migration.unmapped_hostdevs(
            doc, {'0000:81:00.1': '0000:81:00.3'}, {'0000:81:00.1'}))


class PortDeviceMovesTest(testtools.TestCase):
    """Only a ``direct`` port's tagged VF moves with its state."""

    def _device(self, dev_type, live_migratable='true'):
        from nova import objects
        objects.register_all()
        extra_info = ({} if live_migratable is None else
                      {'live_migratable': live_migratable})
        return objects.PciDevice(dev_type=dev_type, extra_info=extra_info)

    def test_a_direct_port_on_a_tagged_vf_moves(self):
        self.assertTrue(pci_migration.port_device_moves(
            'direct', self._device('type-VF')))

    def test_no_other_kind_moves_whatever_its_device_says(self):
        for vnic_type, dev_type in (
                ('direct-physical', 'type-PF'), ('macvtap', 'type-VF'),
                ('vdpa', 'vdpa'), ('remote-managed', 'type-VF'),
                ('virtio-forwarder', 'type-VF'), ('normal', 'type-VF'),
                (None, 'type-VF'), ('direct', 'type-PF'),
                ('direct', 'type-PCI')):
            self.assertFalse(pci_migration.port_device_moves(
                vnic_type, self._device(dev_type)), (vnic_type, dev_type))

    def test_an_untagged_vf_does_not_move(self):
        for tag in ('false', None):
            self.assertFalse(pci_migration.port_device_moves(
                'direct', self._device('type-VF', live_migratable=tag)))
