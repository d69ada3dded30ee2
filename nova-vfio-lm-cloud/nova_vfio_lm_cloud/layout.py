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

"""What the local cloud's computes have: their cards, PFs and VFs.

Two NVIDIA card models stand in for what a real cloud mixes: a ConnectX-7
whose VFs are bound to ``mlx5_vfio_pci`` and can be live-migrated, and a
ConnectX-6 Dx whose VFs cannot. Both have VF product id ``101e``, as the
real cards do, so ``device_spec`` tells them apart by address. The first
two computes (by default) have both cards; any further compute has only
the older card, a destination without live-migratable VFs.

Each card's VFs are on a physical network of their own, as an operator
wires a cloud whose ports must know what they get: a ``direct`` port on
``physnet1`` gets a ConnectX-7 VF, which moves with its state, one on
``physnet2`` a ConnectX-6 Dx VF, which Nova unplugs and plugs again.

Each card also has the PSID and running firmware its PF reports to
``devlink dev info``: a compute reads them from recordings
(:func:`devlink_dev_info`, ``[vfio_lm] recorded_commands_dir``), since the
PCI devices are a stand-in. Both ConnectX-7 cards are the same model with
the same firmware, so live migrations between them pass the plugin's card
check; a scenario rewrites one recording to test a refusal.

Every compute also has a lone PF: a ConnectX-7 port with no VFs enabled,
whose whole function a ``direct-physical`` port hands to a guest. Its
``device_spec`` entry names it by address with ``physical_network``
``physnet3`` and ``managed=no`` (the operator binds it to ``vfio-pci`` in
advance); not ``live_migratable``: the state of a whole PF never moves,
Nova unplugs it before a live migration and plugs the destination's after.
Like a real PF it has a netdev and a MAC address of its own, different on
each host, which the port bound to it gets.
"""

import json

from nova_vfio_lm.hostcheck import runner

VENDOR_ID = '15b3'
VF_PRODUCT_ID = '101e'

#: Card models: PF product id, VFs per PF, whether VFs are migratable,
#: the PSID and running firmware devlink reports for the PF, the physical
#: network of its VFs.
CARDS = {
    'cx7': {'pf_product_id': '1021', 'vfs': 4, 'live_migratable': True,
            'psid': 'MT_0000000894', 'firmware': '28.41.1000',
            'physnet': 'physnet1'},
    'cx6dx': {'pf_product_id': '101d', 'vfs': 2, 'live_migratable': False,
              'psid': 'MT_0000000359', 'firmware': '22.41.1000',
              'physnet': 'physnet2'},
    # a lone PF: the card's port with sriov_numvfs = 0, for direct-physical
    'cx7-pf': {'pf_product_id': '1021', 'vfs': 0, 'live_migratable': False,
               'psid': 'MT_0000000894', 'firmware': '28.41.1000',
               'physnet': 'physnet3', 'lone_pf': True},
}
PHYSNETS = sorted({card['physnet'] for card in CARDS.values()})
#: Bandwidth each PF offers each way to QoS ports (kbit/s): 10 Gbit/s.
PF_KBPS = 10000000
#: The PCI bus of every compute's lone PF (``0000:83:00.0``).
LONE_PF_BUS = 0x83

#: The aliases every API and compute of the cloud knows.
ALIASES = [
    {'name': 'lm-vf', 'vendor_id': VENDOR_ID, 'product_id': VF_PRODUCT_ID,
     'device_type': 'type-VF', 'live_migratable': 'yes'},
    {'name': 'plain-vf', 'vendor_id': VENDOR_ID,
     'product_id': VF_PRODUCT_ID, 'device_type': 'type-VF',
     'live_migratable': 'no'},
]

#: Flavors the cloud creates: name -> (alias, count).
PCI_FLAVORS = {
    'lm.vf1': ('lm-vf', 1),
    'lm.vf3': ('lm-vf', 3),
    'plain.vf1': ('plain-vf', 1),
}


def compute_names(count):
    return ['compute%d' % (i + 1) for i in range(count)]


def default_layout(computes=3, lm_computes=2):
    """``{host: [card, ...]}``; each card a dict with its PCI bus.

    :param lm_computes: how many computes (the first ones) also have the
        ConnectX-7 card with live-migratable VFs.
    """
    layout = {}
    for index, host in enumerate(compute_names(computes)):
        models = ['cx7', 'cx6dx'] if index < lm_computes else ['cx6dx']
        layout[host] = [dict(CARDS[model], model=model, bus=0x81 + n)
                        for n, model in enumerate(models)]
        layout[host].append(dict(CARDS['cx7-pf'], model='cx7-pf',
                                 bus=LONE_PF_BUS, mac=lone_pf_mac(index)))
    return layout


def is_lone_pf(card):
    """Whether ``card`` is a lone PF (no VFs; ``direct-physical`` ports)."""
    return bool(card.get('lone_pf'))


def sriov_cards(cards):
    """The cards whose VFs the SR-IOV agent manages (not lone PFs)."""
    return [card for card in cards if not is_lone_pf(card)]


def lone_pfs(cards):
    """The lone PFs among a compute's cards."""
    return [card for card in cards if is_lone_pf(card)]


def lone_pf_mac(index):
    """The MAC address of compute number ``index``'s (from 0) lone PF."""
    return '0c:42:a1:%02x:83:00' % (index + 1)


def pf_address(card):
    return '0000:%02x:00.0' % card['bus']


def vf_addresses(card):
    return ['0000:%02x:00.%d' % (card['bus'], n + 1)
            for n in range(card['vfs'])]


def pf_netdev(card):
    """The PF's network device name, as systemd names a PCIe NIC port."""
    return 'enp%ds0f0np0' % card['bus']


def physical_device_mappings(cards):
    """``physnet:netdev,...`` of the SR-IOV agent of a compute's cards.

    Lone PFs are not mapped: neutron binds a ``direct-physical`` port
    without asking any agent, and the agent manages only VFs.
    """
    return ','.join('%s:%s' % (card['physnet'], pf_netdev(card))
                    for card in sriov_cards(cards))


def resource_provider_bandwidths(cards):
    """``netdev:egress:ingress,...`` (kbit/s) of the agent's PFs."""
    return ','.join('%s:%d:%d' % (pf_netdev(card), PF_KBPS, PF_KBPS)
                    for card in sriov_cards(cards))


def devlink_command(card):
    """``devlink -j dev info pci/<PF>`` of a card."""
    return ('devlink', '-j', 'dev', 'info', 'pci/%s' % pf_address(card))


def devlink_recording_name(card):
    """The file its answer is recorded in (``devlink-dev-info-pci-...``)."""
    return runner.recording_name(devlink_command(card))


def devlink_dev_info(card, firmware=None):
    """What ``devlink -j dev info`` answers for a card's PF, as mlx5 does.

    :param firmware: the running (and stored) firmware instead of the
        card's own, as after a firmware update and reset.
    """
    model = CARDS[card['model']]
    firmware = firmware or card.get('firmware', model['firmware'])
    versions = {'fw.version': firmware, 'fw': firmware}
    return {'info': {'pci/%s' % pf_address(card): {
        'driver': 'mlx5_core',
        'versions': {'fixed': {'fw.psid': card.get('psid', model['psid'])},
                     'running': dict(versions),
                     'stored': dict(versions)}}}}


def device_specs(cards):
    """The ``[pci]device_spec`` entries (JSON strings) of one compute."""
    specs = []
    for card in cards:
        if is_lone_pf(card):
            # the PF itself, by address; bound to vfio-pci by the operator
            specs.append(json.dumps({
                'address': pf_address(card), 'vendor_id': VENDOR_ID,
                'product_id': card['pf_product_id'],
                'physical_network': card['physnet'], 'managed': 'no'},
                sort_keys=True))
            continue
        spec = {'address': '0000:%02x:*.*' % card['bus'],
                'vendor_id': VENDOR_ID, 'product_id': VF_PRODUCT_ID,
                'physical_network': card['physnet'],
                'live_migratable': 'yes' if card['live_migratable'] else 'no'}
        if card['live_migratable']:
            # bound to its variant driver by the operator, not by libvirt
            spec['managed'] = 'no'
        specs.append(json.dumps(spec, sort_keys=True))
    return specs


def alias_options():
    return [json.dumps(alias, sort_keys=True) for alias in ALIASES]
