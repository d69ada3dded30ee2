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

"""The demo: a whole Nova cloud in this process, with the plugin active.

Starts Nova's API, conductor, scheduler and placement, two fake-libvirt
computes with one SR-IOV PF and six VFs each (VF 1-2 live-migratable and
bound to their variant driver, VF 3-4 not, VF 5-6 live-migratable on
``physnet4`` for neutron ports), defines a live-migratable alias and
flavor, boots a server, shows what it got, live-migrates it and shows the
source to destination VF mapping. Then the same for a server with a
neutron ``direct`` port, which moves with its state: no unplug, no plug.
"""

import os
import sys
import time

from nova_vfio_lm_cloud.inprocess import cloud

HOSTS = ('compute1', 'compute2')
NUM_VFS = 6


class DemoCloud(cloud.VfioCloudTestCase):
    PCI_DEVICE_SPEC = cloud.split_device_specs((1, 2), (3, 4)) + [
        cloud.device_spec(cloud.vf_address(vf), physical_network='physnet4',
                          live_migratable='yes', managed='no')
        for vf in (5, 6)]
    PCI_ALIAS = [cloud.alias('lm-vf', live_migratable='yes')]

    def runTest(self):
        """Unused: the demo drives the cloud step by step."""


class Steps:
    def __init__(self, out):
        self.out = out
        self.number = 0
        self.start = time.monotonic()

    def step(self, title):
        self.number += 1
        self.out.write('\n[%d] %s\n' % (self.number, title))
        self.out.flush()
        self._step_start = time.monotonic()

    def say(self, text=''):
        self.out.write('    %s\n' % text)
        self.out.flush()

    def done(self):
        self.say('(%.1f s)' % (time.monotonic() - self._step_start))


def _pool_line(pool):
    return ('pool %s:%s %-7s count=%d live_migratable=%s managed=%s '
            'physical_network=%s' % (
                pool['vendor_id'], pool['product_id'],
                pool.get('dev_type', ''), pool['count'],
                pool.get('live_migratable', '-'), pool.get('managed', '-'),
                pool.get('physical_network', '-')))


def main(verbose=False, out=sys.stdout):
    if not verbose:
        # Nova's test base would otherwise capture what the demo prints.
        for name in ('OS_STDOUT_CAPTURE', 'OS_STDERR_CAPTURE'):
            os.environ.pop(name, None)
    os.environ.setdefault('OS_LOG_CAPTURE', '0' if verbose else '1')

    import nova_vfio_lm
    steps = Steps(out)
    steps.step('Nova and the plugin')
    statuses = nova_vfio_lm.activate()
    nova_series = cloud.NOVA_SERIES
    steps.say('nova %s, series %s, mode %s' % (
        nova_series.version, nova_series.name, nova_series.mode))
    for status in statuses:
        steps.say(str(status))

    steps.step('Start API, conductor, scheduler and placement in-process')
    demo = DemoCloud('runTest')
    demo.setUp()
    try:
        steps.done()
        return _run(demo, steps)
    finally:
        demo.doCleanups()


def _say_counts(demo, steps):
    for name in HOSTS:
        total, free = demo.pci_counts(name)
        steps.say('%s: %d VFs, %d free' % (name, total, free))


def _say_phases(demo, steps, server_id):
    steps.say('phases (instance action events):')
    for event, seconds in demo.live_migration_phases(server_id):
        steps.say('  %-48s %6.2f s' % (event, seconds))


def _run(demo, steps):
    demo.use_neutron()
    demo.use_live_migration_hypervisor()
    steps.step('Start two fake-libvirt computes, 1 PF + %d VFs each'
               % NUM_VFS)
    steps.say('[pci]device_spec:')
    for spec in demo.PCI_DEVICE_SPEC:
        steps.say('  %s' % spec)
    for host in HOSTS:
        demo.start_sriov_compute(host, num_vfs=NUM_VFS)
    steps.done()

    steps.step('PCI pools each compute reports to the scheduler')
    for host in HOSTS:
        total, free = demo.pci_counts(host)
        steps.say('%s: %d VFs, %d free' % (host, total, free))
        for pool in sorted(demo.pci_pools(host),
                           key=lambda p: p.get('live_migratable', '')):
            steps.say('  %s' % _pool_line(pool))

    steps.step('Define a live-migratable alias and a flavor using it')
    steps.say('[pci]alias: %s' % demo.PCI_ALIAS[0])
    flavor_id = demo.create_pci_flavor('lm-vf', name='vf.lm')
    steps.say("flavor vf.lm: pci_passthrough:alias = 'lm-vf:1'")

    steps.step('Boot a server with flavor vf.lm')
    server = demo._create_server(name='demo-vm', flavor_id=flavor_id,
                                 networks='none', host=HOSTS[0])
    host = server['OS-EXT-SRV-ATTR:host']
    steps.say('server %s is %s on %s' % (
        server['id'], server['status'], host))
    [request] = demo.server_pci_requests(server['id'])
    steps.say('stored PCI request spec: %s' % request.spec)
    for device in demo.server_pci_devices(server['id']):
        steps.say('got VF %s (%s:%s) live_migratable=%s managed=%s' % (
            device.address, device.vendor_id, device.product_id,
            device.extra_info.get('live_migratable', '-'),
            device.extra_info.get('managed', '-')))
    for address, managed in demo.guest_hostdevs(host, server['id']):
        steps.say("guest XML: <hostdev type='pci' managed='%s'> source %s"
                  % (managed, address))
    _say_counts(demo, steps)
    steps.done()

    source_vfs = {d.request_id: d.address
                  for d in demo.server_pci_devices(server['id'])}

    steps.step('Live-migrate the server (os-migrateLive, scheduler picks)')
    server, migration = demo.live_migrate(server)
    dest = server['OS-EXT-SRV-ATTR:host']
    steps.say('migration %s: %s; server %s on %s' % (
        migration['id'], migration['status'], server['status'], dest))
    for device in demo.server_pci_devices(server['id']):
        steps.say('VF %s on %s -> %s on %s (%s)' % (
            source_vfs.get(device.request_id, '?'), host, device.address,
            dest, device.status))
    for address, managed in demo.guest_hostdevs(dest, server['id']):
        steps.say("destination guest XML: <hostdev type='pci' "
                  "managed='%s'> source %s" % (managed, address))
    _say_counts(demo, steps)
    _say_phases(demo, steps, server['id'])
    steps.done()

    _run_port(demo, steps)

    steps.say()
    steps.say('Demo finished in %.1f s.' % (time.monotonic() - steps.start))
    return 0


def _say_port(demo, steps, port, host, server_id, where=''):
    binding = demo.neutron.show_port(port['id'])['port']
    profile = binding['binding:profile']
    steps.say('%sport bound on %s to VF %s (%s, %s), MAC %s' % (
        where, binding['binding:host_id'], profile['pci_slot'],
        profile['physical_network'], profile['pci_vendor_info'],
        binding['mac_address']))
    interfaces = demo.hostdev_interfaces(demo.domain_xml(host, server_id))
    for mac, (address, managed) in interfaces.items():
        steps.say("%sguest XML: <interface type='hostdev' managed='%s'> "
                  "MAC %s source %s" % (where, managed, mac, address))


def _run_port(demo, steps):
    steps.step('Boot a server with a neutron direct port on physnet4')
    port = demo.neutron.create_port(
        {'port': demo.neutron.network_4_port_1})['port']
    server = demo._create_server(name='demo-port-vm',
                                 flavor_id=demo._create_flavor(name='std'),
                                 networks=[{'port': port['id']}],
                                 host=HOSTS[0])
    host = server['OS-EXT-SRV-ATTR:host']
    steps.say('server %s is %s on %s' % (
        server['id'], server['status'], host))
    _say_port(demo, steps, port, host, server['id'])
    _say_counts(demo, steps)
    steps.done()

    steps.step('Live-migrate it: the port moves with its VF state')
    demo.plugged.clear()
    server, migration = demo.live_migrate(server)
    dest = server['OS-EXT-SRV-ATTR:host']
    steps.say('migration %s: %s; server %s on %s' % (
        migration['id'], migration['status'], server['status'], dest))
    _say_port(demo, steps, port, dest, server['id'], where='destination ')
    steps.say('port hot-unplug/plug operations during the migration: %d '
              '(Nova alone: one unplug, one plug)' % len(demo.plugged))
    _say_counts(demo, steps)
    _say_phases(demo, steps, server['id'])
    steps.done()
