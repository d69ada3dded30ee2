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

"""Control-plane time of a live migration in the local cloud, by VF count.

Against a running local cloud (``nova-vfio-lm-cloud up``), boots one
server without VFs, one with 1 and one with 4 live-migratable VFs (on
``compute1``), then live-migrates each between ``compute1`` and
``compute2`` in turn, ``--runs`` times, timing each from the API call
to the migration's ``completed`` (the hypervisor completes at once, so
this is Nova's and the plugin's own work: checks, claims, RPC, XML,
placement). Prints the median of each and its ratio to the server
without VFs. A measurement, not a test: nothing fails on a number.

Run: ``OS_CLIENT_CONFIG_FILE=<run folder>/clouds.yaml python
tools/bench_cloud_migration.py [--runs 5]``.
"""

import argparse
import os
import statistics
import time

from nova_vfio_lm_cloud import client as client_mod

FLAVORS = (('none', 'plain', 0), ('1 VF', 'lm.vf1', 1),
           ('4 VFs', 'lm.vf4', 4))


def _wait(what, check, timeout=300):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.2)
    raise RuntimeError('%s: not within %d s' % (what, timeout))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--runs', type=int, default=5)
    args = parser.parse_args()
    clouds_yaml = os.environ['OS_CLIENT_CONFIG_FILE']
    cli = client_mod.OpenStack(clouds_yaml)
    rest = client_mod.Rest(clouds_yaml)
    flavors = {f['Name'] for f in cli.json('flavor', 'list')}
    if 'lm.vf4' not in flavors:
        cli.run('flavor', 'create', '--vcpus', 1, '--ram', 256, '--disk', 1,
                '--property', 'pci_passthrough:alias=lm-vf:4', 'lm.vf4')
    times = {}
    for label, flavor, _count in FLAVORS:
        # one server at a time: compute1 has only four live-migratable VFs
        server = cli.json(
            'server', 'create', '--flavor', flavor, '--image', 'tiny',
            '--nic', 'none', '--availability-zone', 'nova:compute1',
            'bench-%s' % flavor)['id']
        try:
            status = _wait('%s built' % server,
                           lambda: _built_status(rest, server))
            if status != 'ACTIVE':
                raise RuntimeError('server %s is %s' % (server, status))
            times[label] = _migrate_back_and_forth(cli, rest, server,
                                                   args.runs)
        finally:
            cli.run('server', 'delete', server)
            _wait('%s deleted' % server,
                  lambda: not rest.exists('/servers/%s' % server))
    base = statistics.median(times['none'])
    print('%-6s %5s %9s %7s' % ('VFs', 'runs', 'median s', 'ratio'))
    for label, _flavor, _count in FLAVORS:
        median = statistics.median(times[label])
        print('%-6s %5d %9.2f %7.3f' % (
            label, len(times[label]), median, median / base))


def _built_status(rest, server):
    """The server's status once it is no longer building, else None."""
    status = rest.compute('/servers/%s' % server)['server']['status']
    return None if status == 'BUILD' else status


def _migrate_back_and_forth(cli, rest, server, runs):
    """Seconds from each API call to its migration's ``completed``."""
    found = []
    host = 'compute1'
    for _run in range(runs):
        host = 'compute2' if host == 'compute1' else 'compute1'
        before = {m['id'] for m in rest.compute(
            '/os-migrations', instance_uuid=server)['migrations']}
        start = time.monotonic()
        cli.run('server', 'migrate', '--live-migration', '--host', host,
                server)

        def done():
            for m in rest.compute('/os-migrations',
                                  instance_uuid=server)['migrations']:
                if m['id'] not in before and m['status'] in (
                        'completed', 'error', 'failed'):
                    return m
        migration = _wait('migration of %s' % server, done)
        if migration['status'] != 'completed':
            events = cli.json('server', 'event', 'list', server)
            raise RuntimeError('migration %s to %s %s; events: %s' % (
                migration['id'], host, migration['status'], events))
        found.append(time.monotonic() - start)
        _wait('%s without task' % server, lambda: rest.compute(
            '/servers/%s' % server)['server']['OS-EXT-STS:task_state']
            is None)
    return found


if __name__ == '__main__':
    main()
