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

"""Give Nova's fake libvirt the network devices of SR-IOV NICs.

A real host's VF of a NIC has a netdev, and Nova records the netdev name
of its PF as the VF's ``parent_ifname``. That name is how Nova ties a
port's bandwidth allocation (on the SR-IOV agent's provider named
``<host>:NIC Switch agent:<PF netdev>``) to the VFs it may claim for the
port. Nova's fake libvirt lists no network devices, so its VFs have no
``parent_ifname`` and ports with a QoS resource request cannot be tested
on them. This fixture lists a netdev for every VF of the named PFs and
answers Nova's sysfs lookup of the PF netdev name.

Fake libvirt puts each PF at function 0 and its VFs on the same slot
after it, so a VF's PF is found from the VF's address alone.
"""

import fixtures

_NETDEV_XML = """<device>
  <name>net_%(ifname)s_%(mac)s</name>
  <parent>%(parent)s</parent>
  <capability type='net'>
    <interface>%(ifname)s</interface>
    <address>%(mac_colons)s</address>
    <link state='up'/>
    <feature name='rx'/>
    <feature name='tx'/>
    <capability type='80203'/>
  </capability>
</device>"""


def netdev_xml(ifname, mac, parent):
    """libvirt's node device XML of a netdev ``ifname`` on PCI ``parent``."""
    return _NETDEV_XML % {'ifname': ifname, 'mac': mac.replace(':', '_'),
                          'mac_colons': mac, 'parent': parent}


def pf_address(vf_address):
    """The PCI address of a fake VF's PF: same slot, function 0."""
    return vf_address.rsplit('.', 1)[0] + '.0'


class PfNetdevFixture(fixtures.Fixture):
    """VFs of the given PFs are NIC VFs with these PF netdev names.

    :param pf_names: ``{PF PCI address: netdev name}``, the same on every
        fake host (hosts differ by which PF their SR-IOV agent gives
        bandwidth to).
    """

    def __init__(self, pf_names):
        super().__init__()
        self.pf_names = dict(pf_names)

    def ifname(self, pci_address, pf_interface=False):
        """What Nova's sysfs lookup would find for a VF of these PFs."""
        from nova import exception

        name = self.pf_names.get(pf_address(pci_address))
        if name is None:
            raise exception.PciDeviceNotFoundById(id=pci_address)
        if pf_interface:
            return name
        return '%sv%s' % (name, pci_address.rsplit('.', 1)[1])

    def _netdevs(self, connection):
        from nova.tests.fixtures import libvirt as fakelibvirt

        found = []
        for name, device in connection.pci_info.devices.items():
            if device.dev_type != 'VF':
                continue
            address = '%04x:%02x:%02x.%x' % (
                0, device.bus, device.slot, device.function)
            if pf_address(address) not in self.pf_names:
                continue
            mac = '52:54:00:%02x:%02x:%02x' % (
                device.bus, device.slot, device.function)
            ifname = self.ifname(address)
            found.append(fakelibvirt.NodeDevice(
                connection, xml=netdev_xml(ifname, mac, name)))
        return found

    def _setUp(self):
        from nova.tests.fixtures import libvirt as fakelibvirt

        original = fakelibvirt.Connection.listAllDevices
        fixture = self

        def listAllDevices(connection, flags):
            devices = original(connection, flags)
            if flags & fakelibvirt.VIR_CONNECT_LIST_NODE_DEVICES_CAP_NET:
                devices.extend(fixture._netdevs(connection))
            return devices

        self.useFixture(fixtures.MonkeyPatch(
            'nova.tests.fixtures.libvirt.Connection.listAllDevices',
            listAllDevices))
        self.useFixture(fixtures.MonkeyPatch(
            'nova.pci.utils.get_ifname_by_pci_address', self.ifname))
