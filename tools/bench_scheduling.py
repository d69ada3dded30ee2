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

"""Scheduling cost of the plugin's PCI filtering against Nova's own.

Builds the PCI stats the scheduler keeps per host (from PCI pools, as
HostState does) for 1,000 and 10,000 hosts with 8 and 64 pools each, and
times ``PciDeviceStats.support_requests`` for a live-migratable flavor
request on every host, once with Nova's own pool filtering and once with
the plugin's, interleaved in the same run. Prints microseconds per host and
the ratio (plugin / Nova). A measurement, not a test: nothing here fails on
a number.

Run with ``tox -e bench`` (nova 2024.2) or
``python tools/bench_scheduling.py [--hosts 1000 10000] [--pools 8 64]``.
"""

import argparse
import time

import nova_vfio_lm
from nova_vfio_lm.changes import base


def _build_host_stats(n_pools):
    from nova import objects
    from nova.pci import stats as pci_stats

    pools = []
    for i in range(n_pools):
        tags = {'dev_type': 'type-VF'}
        # a quarter of the pools are live-migratable, a quarter not, the
        # rest untagged; only one in four product ids matches the request
        if i % 4 == 0:
            tags['live_migratable'] = 'true'
        elif i % 4 == 1:
            tags['live_migratable'] = 'false'
        pools.append(objects.PciDevicePool(
            product_id='%04x' % (0x1000 + i % 4), vendor_id='15b3',
            numa_node=i % 2, count=4, tags=tags))
    return pci_stats.PciDeviceStats(
        None, stats=objects.PciDevicePoolList(objects=pools))


def _request():
    from nova import objects
    return objects.InstancePCIRequest(
        count=1, alias_name='lm-vf', request_id=None,
        spec=[{'vendor_id': '15b3', 'product_id': '1000',
               'dev_type': 'type-VF', 'live_migratable': 'true'}])


def _time_all(hosts, requests):
    start = time.perf_counter()
    passed = 0
    for stats in hosts:
        passed += stats.support_requests(requests, provider_mapping={})
    return time.perf_counter() - start, passed


def measure(n_hosts, n_pools, rounds):
    from nova.pci import stats as pci_stats

    cls = pci_stats.PciDeviceStats
    plugin = cls._filter_pools
    nova_own = base.stock(plugin)
    hosts = [_build_host_stats(n_pools) for _ in range(n_hosts)]
    requests = [_request()]
    best = {'nova': float('inf'), 'plugin': float('inf')}
    passed = {}
    try:
        for _ in range(rounds):
            for name, func in (('nova', nova_own), ('plugin', plugin)):
                cls._filter_pools = func
                seconds, passed[name] = _time_all(hosts, requests)
                best[name] = min(best[name], seconds)
    finally:
        cls._filter_pools = plugin
    return best, passed


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--hosts', type=int, nargs='+', default=[1000, 10000])
    parser.add_argument('--pools', type=int, nargs='+', default=[8, 64])
    parser.add_argument('--rounds', type=int, default=3)
    args = parser.parse_args(argv)

    statuses = nova_vfio_lm.activate()
    from nova import objects
    objects.register_all()
    from nova_vfio_lm import series
    nova_series = series.detect()
    print('nova %s (%s, %s); plugin changes applied: %d' % (
        nova_series.version, nova_series.name, nova_series.mode,
        sum(s.state == 'applied' for s in statuses)))
    if nova_series.native:
        print('native Nova filters pools itself; both columns run the same '
              'code here')
    print('%7s %6s %14s %14s %7s %9s' % (
        'hosts', 'pools', 'nova us/host', 'plugin us/host', 'ratio',
        'passed'))
    for n_hosts in args.hosts:
        for n_pools in args.pools:
            best, passed = measure(n_hosts, n_pools, args.rounds)
            print('%7d %6d %14.2f %14.2f %7.3f %4d/%-4d' % (
                n_hosts, n_pools, best['nova'] / n_hosts * 1e6,
                best['plugin'] / n_hosts * 1e6,
                best['plugin'] / best['nova'],
                passed['plugin'], passed['nova']))
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
