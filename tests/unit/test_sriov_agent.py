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

"""What the local cloud's SR-IOV agent stand-in reads as a host's VFs."""

import fixtures
import testtools

from nova_vfio_lm_cloud import hypervisor
from nova_vfio_lm_cloud import layout
from nova_vfio_lm_cloud import sriov_agent

GUEST = """<domain><uuid>u1</uuid><devices>
  <interface type='hostdev' managed='no'>
    <mac address='FA:16:3E:00:00:01'/>
    <source><address type='pci' domain='0x0000' bus='0x81' slot='0x00'
      function='0x3'/></source>
  </interface>
  <interface type='bridge'><mac address='fa:16:3e:00:00:02'/></interface>
  <hostdev mode='subsystem' type='pci'><source><address domain='0x0000'
    bus='0x81' slot='0x00' function='0x1'/></source></hostdev>
</devices></domain>"""


class AssignedDevicesTest(testtools.TestCase):

    def test_running_guests_port_vfs_with_their_macs(self):
        store = hypervisor.Hypervisor(
            self.useFixture(fixtures.TempDir()).path).host('compute1')
        store.save('u1', GUEST, running=True)
        store.save('u2', GUEST.replace('0x3', '0x4'), running=False)

        # the flavor's <hostdev> has no MAC: no port of neutron's
        self.assertEqual({('fa:16:3e:00:00:01', '0000:81:00.3')},
                         sriov_agent.assigned_devices(store))


class DeviceMappingsTest(testtools.TestCase):

    def test_mappings_of_a_compute_with_both_cards(self):
        cards = layout.default_layout()['compute1']
        entries = layout.physical_device_mappings(cards).split(',')

        self.assertEqual({'physnet1': ['enp129s0f0np0'],
                          'physnet2': ['enp130s0f0np0']},
                         sriov_agent.device_mappings(entries))

    def test_bandwidths_of_each_pf_both_ways(self):
        cards = layout.default_layout()['compute1']
        entries = layout.resource_provider_bandwidths(cards).split(',')

        self.assertEqual(
            {'enp129s0f0np0': {'egress': layout.PF_KBPS,
                               'ingress': layout.PF_KBPS},
             'enp130s0f0np0': {'egress': layout.PF_KBPS,
                               'ingress': layout.PF_KBPS}},
            sriov_agent.bandwidths(entries))

    def test_a_bad_entry_is_refused_naming_option_and_entry(self):
        for parse, option, entry in (
                (sriov_agent.device_mappings, 'physical_device_mappings',
                 'physnet1'),
                (sriov_agent.bandwidths, 'resource_provider_bandwidths',
                 'enp129s0f0np0:1000')):
            error = str(self.assertRaises(ValueError, parse, [entry]))
            self.assertIn(option, error)
            self.assertIn(repr(entry), error)
