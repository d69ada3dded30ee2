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

"""``nova-vfio-lm``: inspect the plugin (``status``), check a host
(``check-host``), check an upgrade (``upgrade check``). The test clouds have
their own command, ``nova-vfio-lm-cloud``, in their own distribution."""

import argparse
import json
import sys


def _plugin_version():
    from importlib import metadata

    try:
        return metadata.version('nova-vfio-lm')
    except metadata.PackageNotFoundError:
        return 'unknown (not installed)'


def cmd_status(args):
    from nova_vfio_lm import activation
    from nova_vfio_lm.changes import base
    from nova_vfio_lm.cmd import output
    from nova_vfio_lm import libvirt_binding
    from nova_vfio_lm import series as series_mod

    try:
        nova_series = series_mod.detect()
    except series_mod.UnsupportedNovaRelease as exc:
        print('nova-vfio-lm: %s' % exc, file=sys.stderr)
        return 1
    error = None
    try:
        import nova.conf

        from nova_vfio_lm import conf

        # list what differs rather than refuse: status is how one sees it
        conf.register_opts(nova.conf.CONF)
        nova.conf.CONF.set_override('allow_unverified_nova', True,
                                    group='vfio_lm')
        activation.activate()
    except activation.ActivationError as exc:
        error = str(exc)
    unverified = activation.unverified(nova_series)
    statuses = activation.statuses(nova_series)
    error = error or libvirt_binding.fake_error()
    ok = error is None and not unverified and all(
        s.state in (base.APPLIED, base.NOT_NEEDED) for s in statuses)
    if args.format == 'json':
        print(json.dumps({
            'plugin_version': _plugin_version(),
            'nova_version': nova_series.version,
            'verified': not unverified,
            'unverified': unverified,
            'series': nova_series.name,
            'mode': nova_series.mode,
            'changes': [s.__dict__ for s in statuses],
            'error': error,
        }, indent=2))
    else:
        print('plugin:       nova-vfio-lm %s' % _plugin_version())
        print('nova version: %s (%s)' % (
            nova_series.version, 'verified' if not unverified else
            'NOT verified: %s' % '; '.join(unverified)))
        print('series:       %s' % nova_series.name)
        print('mode:         %s' % nova_series.mode)
        print('changes:')
        print(output.table(('CHANGE', 'STATE', 'WHY'),
                           ((s.name, s.state, s.why) for s in statuses)))
        if error:
            print('error: %s' % error)
    return 0 if ok else 1


def parser():
    """``nova-vfio-lm`` and its commands."""
    parser = argparse.ArgumentParser(
        prog='nova-vfio-lm',
        description='Live migration of VFIO variant-driver VFs for Nova.')
    parser.add_argument('--version', action='version',
                        version='nova-vfio-lm %s' % _plugin_version(),
                        help="print the plugin's version and exit")
    sub = parser.add_subparsers(dest='command', required=True)
    status = sub.add_parser(
        'status', help='Nova release, plugin mode and each change to Nova')
    status.add_argument('--format', choices=('table', 'json'),
                        default='table',
                        help='table for people (the default), json for '
                             'tools, as check-host')
    status.add_argument('--json', action='store_const', dest='format',
                        const='json', help='the same as --format json')
    status.set_defaults(func=cmd_status)
    from nova_vfio_lm.hostcheck import cli as hostcheck_cli
    hostcheck_cli.add_parser(sub)
    from nova_vfio_lm import upgradecheck
    upgradecheck.add_parser(sub)
    return parser


def main(argv=None):
    args = parser().parse_args(argv)
    return args.func(args)


if __name__ == '__main__':
    sys.exit(main())
