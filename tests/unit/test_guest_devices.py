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

"""Which PCI devices a host's running guests use, from their XML."""

from lxml import etree
import testtools

from nova_vfio_lm import guest_devices

XML = """<domain>
  <devices>
    <hostdev mode='subsystem' type='pci' managed='no'>
      <source><address domain='0x0000' bus='0x81' slot='0x00'
                       function='0x2'/></source>
    </hostdev>
    <interface type='hostdev' managed='no'>
      <source><address type='pci' domain='0x0000' bus='0x81' slot='0x00'
                       function='0x5'/></source>
    </interface>
    <interface type='vdpa'><source dev='/dev/vhost-vdpa-0'/></interface>
    <hostdev mode='subsystem' type='mdev' model='vfio-pci'>
      <source><address uuid='c2177883-f1bb-47f0-914d-32a22e3a8804'/></source>
    </hostdev>
  </devices>
</domain>"""


class _Guest:
    def __init__(self, uuid, xml, running=True):
        self.uuid = uuid
        self._xml = xml
        self.running = running

    def is_active(self):
        return self.running

    def get_xml_desc(self):
        return self._xml


class _NodeDevice:
    def __init__(self, xml):
        self._xml = xml

    def XMLDesc(self, flags):
        return self._xml


#: the vDPA device whose character device the XML's vDPA interface names
VDPA_NODEDEV = """<device>
  <name>vdpa_vdpa0</name>
  <parent>pci_0000_81_00_6</parent>
  <capability type='vdpa'><chardev>/dev/vhost-vdpa-0</chardev></capability>
</device>"""


class _Host:
    def __init__(self, guests=(), error=None, devices=(VDPA_NODEDEV,)):
        self.guests = guests
        self.error = error
        self.devices = devices

    def list_guests(self, only_running=True):
        if self.error:
            raise self.error
        return [guest for guest in self.guests
                if guest.running or not only_running]

    def list_all_devices(self, flags=0):
        return [_NodeDevice(xml) for xml in self.devices]


class _Driver:
    def __init__(self, host):
        self._host = host


class GuestDevicesTest(testtools.TestCase):

    def test_hostdevs_and_hostdev_interfaces_not_vdpa_or_mdev(self):
        self.assertEqual(['0000:81:00.2', '0000:81:00.5'],
                         guest_devices.guest_pci_addresses(
                             etree.fromstring(XML)))

    def test_user_asked_once_per_block(self):
        host = _Host([_Guest('g1', XML)])
        driver = _Driver(host)
        with guest_devices.hypervisor_checked():
            self.assertTrue(guest_devices.checking())
            self.assertEqual('g1', guest_devices.user_of(
                driver, '0000:81:00.5'))
            host.guests = ()  # not asked again inside the block
            self.assertEqual('g1', guest_devices.user_of(
                driver, '0000:81:00.2'))
            # the VF of the vDPA device the guest's interface names
            self.assertEqual('g1', guest_devices.user_of(
                driver, '0000:81:00.6'))
            self.assertIsNone(guest_devices.user_of(driver, '0000:81:00.3'))
        self.assertFalse(guest_devices.checking())

    def test_a_shut_off_guest_keeps_only_its_own_servers_devices(self):
        driver = _Driver(_Host([_Guest('g1', XML, running=False)]))
        with guest_devices.hypervisor_checked():
            self.assertIsNone(guest_devices.user_of(driver, '0000:81:00.2'))
            self.assertTrue(guest_devices.named_by_own_stopped_guest(
                driver, '0000:81:00.2', 'g1'))
            self.assertFalse(guest_devices.named_by_own_stopped_guest(
                driver, '0000:81:00.2', 'g2'))
            self.assertFalse(guest_devices.named_by_own_stopped_guest(
                driver, '0000:81:00.3', 'g1'))
            self.assertFalse(guest_devices.named_by_own_stopped_guest(
                None, '0000:81:00.2', 'g1'))

    def test_a_hypervisor_that_cannot_be_asked_keeps_everything(self):
        driver = _Driver(_Host(error=RuntimeError('libvirtd down')))
        with guest_devices.hypervisor_checked():
            self.assertEqual(guest_devices.UNKNOWN, guest_devices.user_of(
                driver, '0000:81:00.2'))
            self.assertTrue(guest_devices.named_by_own_stopped_guest(
                driver, '0000:81:00.2', 'g1'))

    def test_a_driver_that_cannot_tell_keeps_nothing(self):
        with guest_devices.hypervisor_checked():
            self.assertIsNone(guest_devices.user_of(object(), '0000:81:00.2'))
            self.assertIsNone(guest_devices.user_of(None, '0000:81:00.2'))
