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

"""``nova-vfio-lm-run NOVA_COMMAND [ARGS...]``: a Nova service, plugin on.

Runs the named Nova console script (``nova-compute``, ``nova-conductor``,
``nova-scheduler``, ``nova-api-os-compute``, ``nova-manage``, ...) in this
process. The command's module is imported first, so Nova applies its own
eventlet monkey-patching exactly as when started directly; the plugin is
activated as soon as the command has parsed Nova's config, before any
service is built. Use it in systemd units and container entry points in
place of the Nova command.
"""

from importlib import metadata
import sys

USAGE = 'usage: nova-vfio-lm-run NOVA_COMMAND [ARGS...]'


def nova_commands():
    """Nova's console scripts, by name."""
    dist = metadata.distribution('nova')
    return {ep.name: ep for ep in dist.entry_points
            if ep.group == 'console_scripts'}


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ('-h', '--help'):
        print(USAGE, file=sys.stderr if not argv else sys.stdout)
        print('Nova commands: %s' % ', '.join(sorted(nova_commands())))
        return 2 if not argv else 0
    command, args = argv[0], argv[1:]
    commands = nova_commands()
    if command not in commands:
        print('nova-vfio-lm-run: %r is not a Nova command; known commands: '
              '%s' % (command, ', '.join(sorted(commands))), file=sys.stderr)
        return 2
    entry = commands[command]
    func = entry.load()  # imports nova.cmd.*: Nova monkey-patches first
    activate_once_configured()
    if command == 'nova-compute':
        check_host_once_logging_is_set_up()
    sys.argv = [command] + args
    return func()


def activate_once_configured():
    """Activate the plugin right after the Nova command parses its config.

    Nova's managers read the spacing of their periodic tasks (for example
    ``update_resources_interval``) from the config when their module is
    imported. Activation imports them, so activating before the config is
    parsed would freeze Nova's defaults for those options.
    """
    from nova import config

    import nova_vfio_lm

    parse_args = config.parse_args

    def parse_args_then_activate(*args, **kwargs):
        result = parse_args(*args, **kwargs)
        nova_vfio_lm.activate()
        return result

    config.parse_args = parse_args_then_activate


def check_host_once_logging_is_set_up():
    """Log nova-compute's host readiness findings into its own log.

    Nova sets its logging up just after parsing the config; the check runs
    right after that, warns and never stops the service.
    """
    from oslo_log import log

    setup = log.setup

    def setup_then_check(*args, **kwargs):
        log.setup = setup
        result = setup(*args, **kwargs)
        from nova_vfio_lm.hostcheck import startup
        startup.log_findings()
        return result

    log.setup = setup_then_check


if __name__ == '__main__':
    sys.exit(main())
