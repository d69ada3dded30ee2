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

"""Run Nova's own functional tests without and with the plugin; compare.

``tox -e nova-suite2024.1`` (and the other ``nova-suite*`` envs) runs this
with the Python of a release's nova env: the same tests of the installed
Nova twice, through stestr (``tests/nova_suite`` loads them), first stock,
then with the plugin activated as a service activates it. Every test whose
result differs is printed. The run fails on a difference that
``tests/nova_suite/expected-differences.yaml`` does not list for this Nova,
and on a test that fails without the plugin (Nova's own tests must pass
natively in the env, or no comparison means anything).

``--stock differing`` runs the stock pass only over the tests that did not
succeed with the plugin (half the time; a test that fails stock but passes
with the plugin is then not seen): the CI lanes use it, the full compare is
the default.

Run: ``python tools/nova_suite.py [--set ci|full] [--stock all|differing]
[--work DIR] [TEST ...]`` from the source tree, with the env's Python.
"""

import argparse
import io
import os
import signal
import subprocess
import sys
import time

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
TREE = os.path.dirname(HERE)
EXPECTED = os.path.join(TREE, 'tests', 'nova_suite',
                        'expected-differences.yaml')

#: The PCI, SR-IOV and PCI-in-placement suites: every path the plugin's
#: PCI changes touch (boot, cold and live migration, resize, evacuate,
#: shelve of servers with flavor and port devices).
CI = (
    'nova.tests.functional.libvirt.test_pci_sriov_servers',
    'nova.tests.functional.libvirt.test_pci_in_placement',
)
#: Also NUMA, evacuation and Nova's live-migration, cold-migration, resize
#: and shelve suites.
FULL = CI + (
    'nova.tests.functional.libvirt.test_numa_servers',
    'nova.tests.functional.libvirt.test_numa_live_migration',
    'nova.tests.functional.libvirt.test_evacuate',
    'nova.tests.functional.libvirt.test_live_migration',
    'nova.tests.functional.libvirt.test_vgpu',
    'nova.tests.functional.libvirt.test_device_bus_migration',
    'nova.tests.functional.compute.test_live_migration',
    'nova.tests.functional.test_cold_migrate',
    'nova.tests.functional.test_servers.ServerMovingTests',
    'nova.tests.functional.test_servers.PollUnconfirmedResizesTest',
    'nova.tests.functional.test_servers.ServerLiveMigrateForceAndAbort',
    'nova.tests.functional.test_servers.PortBindingShelvedServerTest',
    'nova.tests.functional.test_servers_resource_request.'
    'ServerMoveWithPortResourceRequestTest',
    'nova.tests.functional.test_servers_resource_request.'
    'LiveMigrateAbortWithPortResourceRequestTest',
)
SETS = {'ci': CI, 'full': FULL}
#: A bound on one stestr pass (seconds).
TIMEOUT = 3600

MODULES_ENV = 'NOVA_VFIO_LM_NOVA_SUITE'
PLUGIN_ENV = 'NOVA_VFIO_LM_NOVA_SUITE_PLUGIN'


def nova_major():
    from importlib import metadata
    return int(metadata.version('nova').split('.')[0])


def run_pass(name, tests, work, concurrency):
    """One stestr pass; returns ``{test id: status}`` and its seconds."""
    repo = os.path.join(work, name)
    os.makedirs(repo, exist_ok=True)
    stestr = [sys.executable, '-m', 'stestr', '--test-path',
              os.path.join('.', 'tests', 'nova_suite'), '--top-dir', '.',
              '--repo-url', repo]
    env = dict(os.environ)
    env[MODULES_ENV] = ' '.join(tests)
    env[PLUGIN_ENV] = '1' if name == 'plugin' else '0'
    log = os.path.join(work, name + '.log')
    started = time.monotonic()
    with open(log, 'wb') as out:
        subprocess.run(stestr + ['init'], cwd=TREE, env=env, stdout=out,
                       stderr=subprocess.STDOUT, check=False, timeout=60)
        run_bounded(stestr + ['run', '--concurrency', str(concurrency)],
                    env, out)
    seconds = time.monotonic() - started
    stream = subprocess.run(stestr + ['last', '--subunit'], cwd=TREE,
                            env=env, capture_output=True, check=False,
                            timeout=300).stdout
    return read_subunit(stream), seconds, log


def run_bounded(argv, env, out):
    """Run stestr in a session of its own; past TIMEOUT stop all of it.

    stestr's workers are its children: on a timeout, TERM then KILL goes
    to the session's process group (the id of the process started here),
    so no worker outlives the pass.
    """
    child = subprocess.Popen(argv, cwd=TREE, env=env, stdout=out,
                             stderr=subprocess.STDOUT,
                             stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        return child.wait(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        out.write(b'\nstopped after %d s\n' % TIMEOUT)
        return stop_group(child)
    except BaseException:  # SIGINT, or SIGTERM through main()'s handler
        stop_group(child)
        raise


def stop_group(child):
    """TERM, then KILL, the process group of ``child``; its exit code."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(child.pid, sig)
        except ProcessLookupError:
            break
        try:
            return child.wait(timeout=30)
        except subprocess.TimeoutExpired:
            continue
    return child.poll()


def read_subunit(data):
    """``{test id: status}`` from a subunit v2 stream."""
    import subunit
    import testtools

    results = {}

    def on_test(test):
        results[test['id']] = test['status']

    case = testtools.StreamToDict(on_test)
    case.startTestRun()
    subunit.ByteStreamToStreamResult(
        io.BytesIO(data), non_subunit_name='stdout').run(case)
    case.stopTestRun()
    return results


def load_expected(path, major):
    """The listed differences that apply to this Nova: ``{id: entry}``."""
    with open(path) as f:
        entries = yaml.safe_load(f) or []
    found = {}
    for entry in entries:
        majors = entry.get('nova', [])
        if majors and major not in majors:
            continue
        found[entry['test']] = entry
    return found


def differences(stock, plugin):
    """``[(id, stock status, plugin status)]`` for every test that differs.

    A test the stock pass did not run (``--stock differing``) counts as
    having succeeded there.
    """
    found = []
    for test in sorted(set(stock) | set(plugin)):
        before = stock.get(test, 'success')
        after = plugin.get(test, 'absent')
        if before != after:
            found.append((test, before, after))
    return found


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--set', choices=sorted(SETS), default='full',
                        help="which of Nova's suites (default: full)")
    parser.add_argument('--stock', choices=('all', 'differing'),
                        default='all',
                        help='run the stock pass over all tests (default) '
                             'or only those the plugin pass did not pass')
    parser.add_argument('--work', default=os.path.join(TREE, '.nova-suite'),
                        help='folder for the stestr repositories and logs')
    parser.add_argument('--concurrency', type=int, default=os.cpu_count(),
                        help='stestr workers (default: one per core)')
    parser.add_argument('--expected', default=EXPECTED,
                        help='the expected differences (YAML)')
    parser.add_argument('tests', nargs='*',
                        help="Nova test modules, classes or tests instead "
                             "of the set")
    args = parser.parse_args(argv)
    # a TERM (tox, CI) ends the run like a SIGINT: each pass stops its group
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    if args.concurrency < 1:
        parser.error('--concurrency must be 1 or more, not %d'
                     % args.concurrency)
    tests = args.tests or list(SETS[args.set])
    major = nova_major()
    expected = load_expected(args.expected, major)

    plugin, plugin_s, plugin_log = run_pass(
        'plugin', tests, args.work, args.concurrency)
    if not plugin:
        print('no test ran with the plugin; see %s' % plugin_log)
        return 1
    if args.stock == 'all':
        stock_tests = tests
    else:
        stock_tests = sorted(t for t, s in plugin.items() if s != 'success')
    stock, stock_s, stock_log = ({}, 0.0, None)
    if stock_tests:
        stock, stock_s, stock_log = run_pass(
            'stock', stock_tests, args.work, args.concurrency)
        if not stock:
            print('no test ran without the plugin; see %s' % stock_log)
            return 1

    print('nova %d: %d tests; with the plugin %.0f s, stock (%s, %d tests) '
          '%.0f s' % (major, len(plugin), plugin_s, args.stock,
                      len(stock), stock_s))
    unexpected = set()
    broken = sorted(t for t, s in stock.items() if s == 'fail')
    for test in broken:
        print('FAILS WITHOUT THE PLUGIN: %s (see %s)' % (test, stock_log))
    for test, before, after in differences(stock, plugin):
        entry = expected.get(test)
        if entry and entry.get('stock') == before and (
                entry.get('plugin') == after):
            print('expected: %s: %s -> %s (%s)' % (
                test, before, after, entry['reason'].strip()))
            continue
        print('DIFFERS: %s: %s without the plugin, %s with it (see %s)' % (
            test, before, after, plugin_log))
        unexpected.add(test)
    ran = set(plugin)
    for test in sorted(set(expected) - ran):
        if any(test.startswith(name) for name in tests):
            print('listed but not run: %s' % test)
    # one check per test: the same result both ways, or a listed difference
    bad = len(set(broken) | unexpected)
    print(' - Passed: %d' % (len(plugin) - bad))
    print(' - Failed: %d' % bad)
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
