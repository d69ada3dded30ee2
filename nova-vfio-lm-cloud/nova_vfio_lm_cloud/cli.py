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

"""``nova-vfio-lm-cloud``: the test clouds from the command line.

``up`` starts it and leaves it running (ending with the ``export`` line
for its clouds.yaml), ``down`` stops it, ``test`` starts it, runs the
scenarios under ``tests/cloud`` and stops it whatever happened.
``hypervisor`` holds, fails or releases live migrations at the fake
hypervisor; ``kill`` and ``start`` crash and restart one service.
``demo`` runs the in-process two-compute cloud (no root, no database).
"""

import argparse
import json
import os
import signal
import subprocess
import sys

from nova_vfio_lm.cmd import output
from nova_vfio_lm_cloud import hypervisor as hypervisor_mod
from nova_vfio_lm_cloud import runfolder

SCENARIOS = os.path.join('tests', 'cloud')

#: Scenarios ``cloud test`` skips unless told otherwise (a regex).
EXCLUDE_ENV = 'NOVA_VFIO_LM_CLOUD_EXCLUDE'


class ArgumentError(ValueError):
    """Arguments that do not fit together."""


#: The most computes ``up`` starts: each is a process with its own fake
#: hypervisor on this one machine.
MAX_COMPUTES = 9


def _count(low, high):
    """An argparse type: an integer from ``low`` to ``high``."""
    def parse(text):
        import argparse

        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or not low <= value <= high:
            raise argparse.ArgumentTypeError(
                '%r is not a whole number from %d to %d' % (text, low, high))
        return value
    return parse


def _cloud(args):
    from nova_vfio_lm_cloud import cloud

    if hasattr(args, 'computes'):
        computes = args.computes or 3
        if args.lm_computes > computes:
            raise ArgumentError('--lm-computes %d is more than the %d '
                                'computes' % (args.lm_computes, computes))
        # a new cloud (up, test): never the layout a stale run folder
        # saved, which an older version may have written
        return cloud.LocalCloud(computes=computes,
                                lm_computes=args.lm_computes)
    return cloud.LocalCloud()


def _said_plainly(func):
    """Run a verb; say what went wrong in words, not a traceback.

    A setting or package problem exits 2; a service that failed to start
    or answer (its log's tail is in the message) exits 1, the cloud
    stopped by then (``up`` stops what it started when it fails).
    """
    def run(args):
        from nova_vfio_lm_cloud import client
        from nova_vfio_lm_cloud import packages
        from nova_vfio_lm_cloud import service
        from nova_vfio_lm_cloud import supervisor

        try:
            return func(args)
        except (ArgumentError, runfolder.RunFolderError,
                packages.PackagesMissing) as exc:
            print('nova-vfio-lm-cloud: %s' % exc, file=sys.stderr)
            return 2
        except (supervisor.ServiceFailed, service.CommandFailed,
                client.ClientError) as exc:
            print('nova-vfio-lm-cloud %s failed: %s\nlogs: %s' % (
                args.verb, exc, os.path.join(runfolder.RunFolder().path,
                                             'logs')), file=sys.stderr)
            return 1
    return run


def _exit_on_sigterm():
    """Turn SIGTERM into SystemExit, so ``finally`` stops the cloud."""
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(143))


def cmd_up(args):
    _exit_on_sigterm()
    local = _cloud(args)
    clouds_yaml = local.up()
    print('cloud up; run folder %s; logs in %s' % (
        local.run.path, os.path.join(local.run.path, 'logs')))
    print('stop it with: nova-vfio-lm-cloud down')
    print('export OS_CLIENT_CONFIG_FILE=%s' % clouds_yaml)
    return 0


def cmd_down(args):
    local = _cloud(args)
    local.down(log=lambda line: print(line, flush=True))
    print('cloud down; its files stay in %s' % local.run.path)
    return 0


def cmd_status(args):
    state = _cloud(args).describe()
    if args.format == 'json':
        print(json.dumps(state, indent=2))
        return 0
    print('run folder:  %s' % state['run_folder'])
    print('clouds.yaml: %s' % state['clouds_yaml'])
    print('computes:    %s' % ', '.join(state['computes']))
    print(output.table(('SERVICE', 'PID'), (
        (name, pid or 'stopped')
        for name, pid in sorted(state['processes'].items()))))
    return 0


def cmd_test(args):
    _exit_on_sigterm()
    if not os.path.isdir(args.test_path):
        print('no scenarios at %s (run from the source tree)'
              % args.test_path, file=sys.stderr)
        return 2
    local = _cloud(args)
    try:
        clouds_yaml = local.up()
        env = dict(os.environ, OS_CLIENT_CONFIG_FILE=clouds_yaml)
        env[runfolder.PATH_ENV] = local.run.path
        # results in the run folder: another cloud, or the in-process
        # tests, may be using the source tree's .stestr meanwhile
        stestr = [sys.executable, '-m', 'stestr', '--test-path',
                  args.test_path, '--top-dir', '.', '--repo-url',
                  local.run.sub('stestr')]
        subprocess.call(stestr + ['init'], env=env,
                        stdout=subprocess.DEVNULL)
        argv = stestr + ['run', '--serial']
        if args.exclude:
            argv += ['--exclude-regex', args.exclude]
        argv += args.stestr_args
        returncode = subprocess.call(argv, env=env)
        subprocess.call(stestr + ['slowest'], env=env)
        return returncode
    finally:
        local.down()


def cmd_hypervisor(args):
    hyper = hypervisor_mod.Hypervisor(runfolder.RunFolder().sub(
        'hypervisor'))
    try:
        if args.action == 'mode':
            if args.value:
                hyper.set_mode(args.value)
            print(hyper.mode())
        elif args.action == 'held':
            held = hyper.held()
            if args.format == 'json':
                print(json.dumps(held, indent=2, sort_keys=True))
            else:
                print(output.table(
                    ('SERVER', 'SOURCE', 'DESTINATION', 'STATE'),
                    ((uuid, data['source'], data['destination'],
                      data['state'])
                     for uuid, data in sorted(held.items()))))
        else:
            if not args.value:
                print('%s needs the server UUID' % args.action,
                      file=sys.stderr)
                return 2
            if args.action == 'destroy':
                if not args.host:
                    print('destroy needs --host, the compute whose '
                          'hypervisor runs the guest', file=sys.stderr)
                    return 2
                hyper.destroy(args.host, args.value)
            else:
                hyper.decide(args.value, args.action)
    except hypervisor_mod.HypervisorError as exc:
        print('nova-vfio-lm-cloud hypervisor: %s' % exc, file=sys.stderr)
        return 2
    return 0


def _unknown_service(local, name, verb):
    print('nova-vfio-lm-cloud %s: unknown service %s; known: %s' % (
        verb, name, ', '.join(local.service_names())), file=sys.stderr)
    return 2


def cmd_kill(args):
    local = _cloud(args)
    if args.service not in local.service_names():
        return _unknown_service(local, args.service, 'kill')
    if not local.sup.pid(args.service):
        print('%s is not running' % args.service, file=sys.stderr)
        return 1
    local.sup.kill(args.service)
    return 0


def cmd_start(args):
    local = _cloud(args)
    if args.service not in local.service_names():
        return _unknown_service(local, args.service, 'start')
    local.start_service(args.service)
    return 0


def cmd_upgrade(args):
    from nova_vfio_lm_cloud import upgrade

    local = _cloud(args)
    try:
        if args.part != 'finish' and not args.venv:
            print('upgrade %s needs --venv' % args.part, file=sys.stderr)
            return 2
        if args.part == 'control':
            checks = upgrade.upgrade_control(local, upgrade.bindir_of(
                args.venv))
            for name, (code, said) in sorted(checks.items()):
                print('%s upgrade check (exit %d):\n%s'
                      % (name, code, said))
        elif args.part == 'compute':
            if args.host not in local.layout:
                print('nova-vfio-lm-cloud upgrade: compute needs the host of '
                      'one of the '
                      "cloud's computes (%s), not %r" % (
                          ', '.join(sorted(local.layout)), args.host),
                      file=sys.stderr)
                return 2
            upgrade.upgrade_compute(local, args.host, upgrade.bindir_of(
                args.venv), plugin=not args.plugin_off)
        else:
            print(upgrade.online_data_migrations(local))
    except upgrade.UpgradeError as exc:
        print('nova-vfio-lm-cloud upgrade: %s' % exc, file=sys.stderr)
        return 1
    for name, bindir in sorted(upgrade.describe(local).items()):
        print('%-10s %s' % (name, bindir))
    return 0


def cmd_demo(args):
    import warnings

    if not args.verbose:
        warnings.simplefilter('ignore', DeprecationWarning)
    # The demo runs Nova's functional test framework, which sets Nova's
    # concurrency up as Nova's own tests do; that must come before any
    # other Nova import, the plugin's included (the demo activates it).
    from nova_vfio_lm_cloud.inprocess import demo
    return demo.main(verbose=args.verbose)


def _add_format(verb, what=''):
    verb.add_argument('--format', choices=('table', 'json'),
                      default='table',
                      help='%stable for people (the default), json for '
                           'tools' % what)


def parser():
    """``nova-vfio-lm-cloud`` and its verbs."""
    cloud = argparse.ArgumentParser(
        prog='nova-vfio-lm-cloud',
        description='Test clouds with the nova-vfio-lm plugin: a '
                    'one-machine cloud of separate processes (needs root '
                    'for MariaDB and RabbitMQ) and the in-process demo.')
    verbs = cloud.add_subparsers(dest='verb', required=True)
    demo = verbs.add_parser(
        'demo', help='run the in-process two-compute cloud demo')
    demo.add_argument('--verbose', action='store_true',
                      help="also show Nova's own log")
    demo.set_defaults(func=cmd_demo)
    up = verbs.add_parser('up', help='start the cloud and leave it running')
    up.add_argument('--computes', type=_count(1, MAX_COMPUTES),
                    default=None,
                    help='number of computes, 1 to %d (default 3)'
                    % MAX_COMPUTES)
    up.add_argument('--lm-computes', type=_count(0, MAX_COMPUTES),
                    default=2,
                    help='how many of them have live-migratable VFs '
                         '(default 2)')
    up.set_defaults(func=_said_plainly(cmd_up))
    verbs.add_parser('down', help='stop everything up started').set_defaults(
        func=_said_plainly(cmd_down))
    status = verbs.add_parser('status', help='run folder and processes')
    _add_format(status)
    status.set_defaults(func=_said_plainly(cmd_status))
    test = verbs.add_parser('test', help='up, run the scenarios, down')
    test.add_argument('--test-path', default=SCENARIOS,
                      help='folder of the scenarios (default %s)' % SCENARIOS)
    test.add_argument('--computes', type=_count(1, MAX_COMPUTES),
                      default=None,
                      help='as for up (default 3)')
    test.add_argument('--lm-computes', type=_count(0, MAX_COMPUTES),
                      default=2, help='as for up (default 2)')
    test.add_argument(
        '--exclude', default=os.environ.get(EXCLUDE_ENV) or None,
        help='skip the scenarios whose id matches this regular expression '
             '(default: $%s)' % EXCLUDE_ENV)
    test.add_argument('stestr_args', nargs='*',
                      help='passed to stestr run (e.g. a test filter)')
    test.set_defaults(func=_said_plainly(cmd_test))
    hyper = verbs.add_parser(
        'hypervisor', help='control live migrations at the fake hypervisor')
    hyper.add_argument('action', choices=('mode', 'held', 'release',
                                          'fail', 'destroy'),
                       help='mode: show or set how new migrations end; '
                            'held: list held migrations; release, fail: '
                            'end a held one; destroy: stop a guest')
    hyper.add_argument('value', nargs='?',
                       help='mode: complete, hold or fail; release/fail: '
                            'the server UUID of a held migration; '
                            'destroy: the server UUID of a guest to stop '
                            'and undefine on --host (virsh destroy and '
                            'undefine)')
    hyper.add_argument('--host', help='destroy: the compute whose '
                       'hypervisor runs the guest')
    _add_format(hyper, 'held: ')
    hyper.set_defaults(func=cmd_hypervisor)
    upgrade = verbs.add_parser(
        'upgrade', help='rolling upgrade: move the control plane or one '
                        'compute to another environment\'s release, or '
                        'finish with the online data migrations')
    upgrade.add_argument('part', choices=('control', 'compute', 'finish'),
                         help='control: the API, conductor and scheduler; '
                              'compute: one compute; finish: the online '
                              'data migrations')
    upgrade.add_argument('host', nargs='?', help='compute: its host name')
    upgrade.add_argument('--venv', help='control, compute: the virtual '
                         'environment of the new release')
    upgrade.add_argument('--plugin-off', action='store_true',
                         help='compute: start plain nova-compute, without '
                              'nova-vfio-lm-run')
    upgrade.set_defaults(func=_said_plainly(cmd_upgrade))
    kill = verbs.add_parser('kill', help='SIGKILL one service, as a crash')
    kill.add_argument('service', help='a name status lists, e.g. '
                      'conductor or compute2')
    kill.set_defaults(func=_said_plainly(cmd_kill))
    start = verbs.add_parser('start', help='start one stopped service')
    start.add_argument('service', help='a name status lists')
    start.set_defaults(func=_said_plainly(cmd_start))
    return cloud


def main(argv=None):
    args = parser().parse_args(argv)
    return args.func(args)


if __name__ == '__main__':
    sys.exit(main())
