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

"""``nova-vfio-lm check-host``: the readiness check from the command line.

Exit status 1 when anything blocks live migration, 0 otherwise (warnings
and unknowns included), 2 when nova.conf cannot be read or a folder given
does not exist.
"""

import os
import sys

DEFAULT_CONFIG = '/etc/nova/nova.conf'


def device_spec_from(config_files):
    """``[pci]device_spec`` of the given nova.conf files, as Nova reads it.

    Uses Nova's global config object, as Nova's own commands do: the
    command runs in its own process.
    """
    import nova.conf

    conf = nova.conf.CONF
    conf([], project='nova', default_config_files=config_files)
    return list(conf.pci.device_spec)


def cmd_check_host(args):
    from oslo_config import cfg

    from nova_vfio_lm.hostcheck import findings
    from nova_vfio_lm.hostcheck import report
    from nova_vfio_lm.hostcheck import runner
    from nova_vfio_lm import libvirt_binding

    for option, folder in (('--host-root', args.host_root),
                           ('--recorded-commands', args.recorded_commands)):
        if folder is not None and not os.path.isdir(folder):
            # a mistyped folder would read as a host without any device
            print('nova-vfio-lm check-host: %s %s: not a directory'
                  % (option, folder), file=sys.stderr)
            return 2
    try:
        device_spec = device_spec_from(args.config_file or [DEFAULT_CONFIG])
    except (cfg.Error, OSError) as exc:
        print('nova-vfio-lm check-host: cannot read nova.conf: %s'
              % str(exc).strip(), file=sys.stderr)
        return 2
    commands = (runner.RecordedRunner(args.recorded_commands)
                if args.recorded_commands else runner.CommandRunner())
    result = findings.check_host(device_spec, args.host_root, commands)
    print(report.as_json(result) if args.format == 'json'
          else report.as_table(result))
    fake = libvirt_binding.fake_error()
    if fake:
        print('nova-vfio-lm check-host: error: %s' % fake, file=sys.stderr)
        return 1
    return report.exit_status(result)


def add_parser(sub):
    parser = sub.add_parser(
        'check-host',
        help='is this host ready to live-migrate its live_migratable VFs?',
        description='Check each VF a live_migratable=yes [pci]device_spec '
                    'entry holds: driver, variant driver, eswitch mode, '
                    'devlink migratable, firmware, kernel, libvirt and QEMU;'
                    ' print the fix for each finding. Exit status 1 when '
                    'something blocks live migration.')
    parser.add_argument('--config-file', action='append', metavar='PATH',
                        help='nova.conf to read (repeatable; default %s)'
                        % DEFAULT_CONFIG)
    parser.add_argument('--host-root', default='/', metavar='DIR',
                        help='read sys/, proc/ and lib/modules/ under DIR '
                             '(default /)')
    parser.add_argument('--recorded-commands', metavar='DIR',
                        help='read devlink and virsh outputs recorded in '
                             'DIR instead of running them')
    parser.add_argument('--format', choices=('table', 'json'),
                        default='table',
                        help='table for people (the default), json for '
                             'tools, as status')
    parser.set_defaults(func=cmd_check_host)
    return parser
