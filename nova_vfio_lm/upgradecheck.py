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

"""``nova-vfio-lm upgrade check``: is this cloud ready for the plugin?

Built on oslo.upgradecheck, like ``nova-status upgrade check``: each check
returns Success, Warning or Failure with the action to take in its details,
and the command exits with the worst code (0, 1 or 2; 255 if the checks
could not run or one crashed). It reads the nova.conf given with
``--config-file`` (by default ``/etc/nova/nova.conf``), Nova's API and cell
databases and placement, so run it where ``nova-status`` runs, with the same
configuration.
"""

import argparse
import os
import sys

from oslo_config import cfg
import oslo_messaging as messaging
from oslo_serialization import jsonutils
from oslo_upgradecheck import upgradecheck
from oslo_utils import strutils

from nova_vfio_lm.hostcheck import findings as hostcheck
from nova_vfio_lm import pci_pools
from nova_vfio_lm import pci_tags
from nova_vfio_lm import peer_release
from nova_vfio_lm import placement_traits
from nova_vfio_lm import series as series_mod

#: At most this many server uuids or hosts are named in a result.
MAX_LISTED = 20
#: The exit code when the checks could not run at all (oslo.upgradecheck's
#: code for a crashed check, so never confused with a check's result).
EXIT_NOT_RUN = 255
#: Servers read from a cell database per query.
_PAGE = 500

#: The name of the check of the ``[vfio_lm]`` options.
OPTIONS_CHECK = 'The [vfio_lm] options are valid'
#: The name of the check of this host's live-migratable VFs.
HOST_DEVICES_CHECK = 'Live-migratable VFs of this host have a usable driver'

_DOC_ENABLING = ('"Enabling the plugin in Nova" in the plugin\'s '
                 'documentation')
#: The fix the computes log too (:mod:`nova_vfio_lm.placement_traits`):
#: placement syncs the standard traits of its own os-traits into its
#: database as its process starts; ``placement-manage db sync`` does not.
_PLACEMENT_TRAIT_FIX = ('To fix it, install os-traits 3.3.0 or newer where '
                        'placement runs and restart placement.')
_ONLY_THIS_HOST = ('This check reads only the devices of the host it runs '
                   'on: run "nova-vfio-lm check-host --config-file '
                   '/etc/nova/nova.conf" on each nova-compute.')


def _listed(items):
    """``"a, b, c"``: at most :data:`MAX_LISTED`, the rest counted."""
    items = sorted(items)
    text = ', '.join(items[:MAX_LISTED])
    if len(items) > MAX_LISTED:
        text += ' and %d more' % (len(items) - MAX_LISTED)
    return text


def live_migratable_aliases(alias_entries):
    """Names of the ``[pci]alias`` aliases that ask for live-migratable VFs.

    An alias counts when every entry of that name says
    ``live_migratable=yes`` (in any boolean word Nova accepts): only then
    does a PCI request built from it ask for live-migratable devices only.
    Entries that do not parse are left to Nova, which refuses them.
    """
    values = {}
    for entry in alias_entries:
        try:
            parsed = jsonutils.loads(entry)
        except ValueError:
            continue
        for spec in parsed if isinstance(parsed, list) else [parsed]:
            if not isinstance(spec, dict) or not spec.get('name'):
                continue
            value = spec.get(pci_tags.LIVE_MIGRATABLE)
            try:
                value = (None if value is None else
                         pci_tags.normalise(pci_tags.LIVE_MIGRATABLE, value))
            except pci_tags.InvalidTagValue:
                value = None
            values.setdefault(spec['name'], set()).add(value)
    return {name for name, seen in values.items() if seen == {pci_tags.TRUE}}


def stale_requests(instance_pci_requests, aliases):
    """The flavor PCI requests built before their alias became migratable.

    :param instance_pci_requests: an ``InstancePCIRequests`` (or ``None``).
    :param aliases: names of the aliases that now say
        ``live_migratable=yes`` (:func:`live_migratable_aliases`).
    """
    if not instance_pci_requests or not instance_pci_requests.requests:
        return []
    return [r for r in instance_pci_requests.requests
            if r.source == r.FLAVOR_ALIAS and r.alias_name in aliases and
            not pci_pools.is_live_migratable_request(r)]


def pool_says_live_migratable(value):
    """Whether a pool's ``live_migratable`` tag says yes, in any word.

    A compute without the plugin keeps the operator's word (``yes``, ...)
    in its pools; with the plugin, or on Nova 2025.1+, it is ``true``.
    """
    return value is not None and strutils.bool_from_string(value)


def runs_without_plugin(pools, devices):
    """Whether a 2024.x compute's records show it ran without the plugin.

    :param pools: the compute node's PCI pools (their tags).
    :param devices: its PCI device records.
    :returns: ``None`` when it runs the plugin or has no live-migratable
        device, else why it does not.
    """
    tags = [pool.tags.get(pci_tags.LIVE_MIGRATABLE) for pool in pools]
    if not any(pool_says_live_migratable(tag) for tag in tags):
        return None
    raw = sorted({tag for tag in tags
                  if tag is not None and tag not in (pci_tags.TRUE,
                                                     pci_tags.FALSE)})
    if raw:
        return 'its PCI pools carry live_migratable=%s as written in ' \
            '[pci]device_spec, not normalised to true/false' % '/'.join(raw)
    if not any(pci_tags.LIVE_MIGRATABLE in (device.extra_info or {})
               for device in devices):
        return ('its PCI pools carry live_migratable=true but no PCI device '
                'record of it does')
    return None


class UpgradeCommands(upgradecheck.UpgradeCommands):
    """The plugin's checks; each returns an ``upgradecheck.Result``."""

    display_title = 'nova-vfio-lm Upgrade Check Results'

    def __init__(self, host_root='/', host_runner=None):
        """The checks; the host devices check reads ``host_root``.

        :param host_root: the host root the host devices check reads
            (``/``: this host; a fixture tree in tests).
        :param host_runner: runs that check's tools, a
            :class:`nova_vfio_lm.hostcheck.runner.CommandRunner` (default:
            the live tools of this host).
        """
        super().__init__()
        self.host_root = host_root
        self.host_runner = host_runner

    # -- reading Nova ------------------------------------------------------

    @staticmethod
    def _cells(context):
        """The cell mappings holding servers and computes (not cell0)."""
        from nova import objects

        return [cell for cell in objects.CellMappingList.get_all(context)
                if not cell.is_cell0()]

    def _each_cell(self, read):
        """``read(cell context)`` in each cell; the results in a list."""
        from nova import context as nova_context

        context = nova_context.get_admin_context()
        results = []
        for cell in self._cells(context):
            with nova_context.target_cell(context, cell) as cell_context:
                results.append(read(cell_context))
        return results

    @staticmethod
    def _database_failure(exc):
        return upgradecheck.Result(
            upgradecheck.Code.FAILURE,
            'Cannot read the Nova databases (%s: %s). Run this command with '
            'the nova.conf of nova-api or nova-conductor, whose [database] '
            'and [api_database] connections reach the cell and API '
            'databases, as for nova-status.' % (type(exc).__name__, exc))

    # -- the checks --------------------------------------------------------

    def _check_pci_requests_predate_alias(self):
        """Servers whose PCI request predates ``live_migratable=yes``."""
        import nova.conf
        from nova import objects

        aliases = live_migratable_aliases(nova.conf.CONF.pci.alias)
        if not aliases:
            return upgradecheck.Result(
                upgradecheck.Code.SUCCESS,
                'No [pci]alias says live_migratable=yes in this nova.conf.')

        def read(cell_context):
            stale, marker = {}, None
            while True:  # ends at the first page shorter than _PAGE
                page = objects.InstanceList.get_by_filters(
                    cell_context, {'deleted': False}, sort_key='uuid',
                    sort_dir='asc', limit=_PAGE, marker=marker,
                    expected_attrs=['pci_requests'])
                for instance in page:
                    requests = stale_requests(instance.pci_requests, aliases)
                    if requests:
                        stale[instance.uuid] = {
                            r.alias_name for r in requests}
                if len(page) < _PAGE:
                    return stale
                marker = page[-1].uuid

        try:
            stale = {}
            for found in self._each_cell(read):
                stale.update(found)
        except Exception as exc:
            return self._database_failure(exc)
        if not stale:
            return upgradecheck.Result(
                upgradecheck.Code.SUCCESS,
                'Every server using alias(es) %s asks for live-migratable '
                'VFs.' % _listed(aliases))
        named = sorted(set().union(*stale.values()))
        return upgradecheck.Result(
            upgradecheck.Code.WARNING,
            '%d server(s) were created before alias(es) %s said '
            'live_migratable=yes: their stored PCI request does not ask for '
            'live-migratable VFs, so they cannot be live-migrated: %s. '
            'A resize rebuilds it, and the copy the scheduler uses, from the '
            'flavor and the current [pci]alias (a cold migration rebuilds '
            'only the server\'s own). '
            'Once [pci]alias says live_migratable=yes on nova-api and every '
            'nova-compute, resize each to a flavor with the same '
            'pci_passthrough:alias (Nova refuses a resize to the same '
            'flavor; a copy of it will do): "openstack server resize '
            '--flavor OTHER_FLAVOR SERVER", then "openstack server resize '
            'confirm SERVER".' % (
                len(stale), ', '.join(named), _listed(stale)))

    def _check_computes_run_plugin(self):
        """2024.x computes with live-migratable VFs but without the plugin.

        With the plugin, nova-compute on Nova 2024.1/2024.2 records
        ``live_migratable`` in each PCI device's ``extra_info`` and
        normalises it to ``true``/``false`` in its pools; stock Nova keeps
        the operator's word, and only in the pools. Nova 2025.1+ computes
        record it themselves; a 2025.1+ control plane still checks the
        2024.x computes of a cloud being upgraded (service version below
        :data:`~nova_vfio_lm.peer_release.NATIVE_SERVICE_VERSION`).
        """
        from nova import objects

        nova_series = series_mod.detect()

        def older(cell_context):
            return {s.host for s in objects.ServiceList.get_by_binary(
                cell_context, 'nova-compute')
                if s.version < peer_release.NATIVE_SERVICE_VERSION}

        def read(cell_context):
            found = {}
            hosts = older(cell_context) if nova_series.native else None
            for node in objects.ComputeNodeList.get_all(cell_context):
                if hosts is not None and node.host not in hosts:
                    continue  # records live_migratable itself
                pools = getattr(node, 'pci_device_pools', None)
                pools = list(pools) if pools else []
                if not any(pool_says_live_migratable(
                        pool.tags.get(pci_tags.LIVE_MIGRATABLE))
                        for pool in pools):
                    continue
                devices = objects.PciDeviceList.get_by_compute_node(
                    cell_context, node.id)
                why = runs_without_plugin(pools, devices)
                if why:
                    found['%s (node %s)' % (
                        node.host, node.hypervisor_hostname)] = why
            return found

        try:
            found = {}
            for cell_found in self._each_cell(read):
                found.update(cell_found)
        except Exception as exc:
            return self._database_failure(exc)
        if not found:
            return upgradecheck.Result(
                upgradecheck.Code.SUCCESS,
                'Every nova-compute with live-migratable PCI devices runs '
                'the plugin%s.' % (' or Nova 2025.1+' if nova_series.native
                                   else ''))
        hosts = sorted(found)
        reasons = '; '.join('%s: %s' % (host, found[host])
                            for host in hosts[:MAX_LISTED])
        return upgradecheck.Result(
            upgradecheck.Code.FAILURE,
            '%d nova-compute(s) have live-migratable PCI devices but run '
            'without the plugin, so their VFs are neither given to '
            'live-migratable flavors correctly nor moved by live migration: '
            '%s. Run nova-compute through the launcher, "nova-vfio-lm-run '
            'nova-compute --config-file /etc/nova/nova.conf" (see %s), and '
            'restart it; it records the tags as it starts. (%s)' % (
                len(hosts), _listed(hosts), _DOC_ENABLING, reasons))

    def _check_placement_trait(self):
        """Whether placement knows ``HW_PCI_LIVE_MIGRATABLE``."""
        from nova.scheduler.client import report

        trait = placement_traits.TRAIT
        try:
            response = report.SchedulerReportClient().get(
                '/traits/%s' % trait,
                version=placement_traits._MICROVERSION)
            status = response.status_code
        except Exception as exc:
            return upgradecheck.Result(
                upgradecheck.Code.WARNING,
                'Could not ask placement whether it knows the %s trait '
                '(%s: %s); "nova-status upgrade check" shows whether '
                'placement works with this nova.conf.' % (
                    trait, type(exc).__name__, exc))
        if status == 204:
            return upgradecheck.Result(
                upgradecheck.Code.SUCCESS,
                'Placement knows the %s trait.' % trait)
        if status == 404:
            return upgradecheck.Result(
                upgradecheck.Code.WARNING,
                'Placement does not know the %s trait, so the computes do '
                'not report it on live-migratable PCI devices and placement '
                'cannot pre-filter them (everything else is reported as '
                'usual). %s' % (trait, _PLACEMENT_TRAIT_FIX))
        return upgradecheck.Result(
            upgradecheck.Code.WARNING,
            'Placement answered HTTP %s when asked about the %s trait; '
            '"nova-status upgrade check" shows whether placement works '
            'with this nova.conf.' % (status, trait))

    def _check_options(self):
        """Every ``[vfio_lm]`` value valid; devlink not replaced by files.

        A wrong value stops nova-compute (and the scheduler) at start:
        say so before the upgrade. ``recorded_commands_dir`` is valid but
        meant for containers and stand-in hosts: on a compute that can run
        devlink it hides the running firmware from the card check.
        """
        import nova.conf

        from nova_vfio_lm import conf as conf_mod

        conf = nova.conf.CONF
        try:
            conf_mod.check(conf, compute=False)
        except conf_mod.InvalidOption as exc:
            return upgradecheck.Result(
                upgradecheck.Code.FAILURE,
                '%s. nova-compute and nova-scheduler refuse to start with '
                'it: correct it in nova.conf.' % exc)
        recorded = conf.vfio_lm.recorded_commands_dir
        if recorded:
            missing = ('' if os.path.isdir(recorded) else
                       ' (not a directory on this host: nova-compute '
                       'refuses to start where it is missing)')
            return upgradecheck.Result(
                upgradecheck.Code.WARNING,
                '[vfio_lm] recorded_commands_dir = %s%s: nova-compute reads '
                'the answers of devlink from files there instead of '
                'running it, so the card check compares what was recorded, '
                'not the firmware the cards run now. It is meant for a '
                'nova-compute that cannot run devlink (a container whose '
                'host records the answers) and for stand-in hosts; unset '
                'it where nova-compute can run devlink.' % (recorded,
                                                            missing))
        return upgradecheck.Result(
            upgradecheck.Code.SUCCESS,
            'The [vfio_lm] options of this nova.conf are valid.')

    def _check_host_devices(self):
        """Live-migratable VFs of this host that their driver blocks.

        The VFs a ``live_migratable=yes`` entry holds, with check-host's
        own rules (:mod:`nova_vfio_lm.hostcheck.findings`)
        on the devices of the host the command runs on only: the other
        computes' devices are not visible from here.
        """
        import nova.conf

        report = hostcheck.check_host(nova.conf.CONF.pci.device_spec,
                                      self.host_root, self.host_runner)
        host = report.hostname
        spec_blocking = report.blocking_findings(hostcheck.DEVICE_SPEC)
        if spec_blocking:
            return upgradecheck.Result(
                upgradecheck.Code.FAILURE,
                '[pci]device_spec of this nova.conf is %s; nova-compute '
                'refuses to start with it. Correct [pci]device_spec in '
                'nova.conf.' % spec_blocking[0].detail)
        if not report.vfs:
            if report.status == hostcheck.OK:
                said = ('No [pci]device_spec entry of this nova.conf says '
                        'live_migratable=yes, so host %s has no VF to '
                        'check.' % host)
            else:
                said = ('No VF that a live_migratable=yes [pci]device_spec '
                        'entry matches is visible on host %s (a controller '
                        'has none).' % host)
            return upgradecheck.Result(
                upgradecheck.Code.SUCCESS, '%s %s' % (said, _ONLY_THIS_HOST))
        blocked = report.blocking_findings(hostcheck.DRIVER)
        others = len(report.blocking_findings()) - len(blocked)
        also = ('' if not others else
                ' check-host also finds %d other blocking problem(s) on this '
                'host (eswitch mode, devlink migratable, firmware, kernel, '
                'libvirt, QEMU...): "nova-vfio-lm check-host" lists them '
                'with their fixes.' % others)
        if not blocked:
            return upgradecheck.Result(
                upgradecheck.Code.SUCCESS,
                'The %d VF(s) of host %s that live_migratable=yes entries '
                'hold are bound as their managed tag needs. %s%s' % (
                    len(report.vfs), host, _ONLY_THIS_HOST, also))
        listed = '; '.join('%s: %s' % (f.device, f.detail)
                           for f in blocked[:MAX_LISTED])
        if len(blocked) > MAX_LISTED:
            listed += '; and %d more' % (len(blocked) - MAX_LISTED)
        return upgradecheck.Result(
            upgradecheck.Code.FAILURE,
            '%d of the %d VF(s) of host %s that live_migratable=yes entries '
            'hold cannot be live-migrated because of their driver, so a '
            'live migration of a server holding one fails: %s. Run '
            '"nova-vfio-lm check-host --config-file /etc/nova/nova.conf" '
            'on this host for the commands that fix each. Only this '
            'host\'s devices are checked.%s' % (
                len(blocked), len(report.vfs), host, listed, also))

    # Each check is (name, method); the summary shows them in this order.
    # New checks go at the end of this tuple.
    _upgrade_checks = (
        ('Servers whose PCI request predates live_migratable',
         _check_pci_requests_predate_alias),
        ('Computes with live-migratable devices run the plugin',
         _check_computes_run_plugin),
        ('Placement knows %s' % placement_traits.TRAIT,
         _check_placement_trait),
        (OPTIONS_CHECK, _check_options),
        (HOST_DEVICES_CHECK, _check_host_devices),
    )


#: What oslo.upgradecheck's ``upgrade`` subcommand parses itself.
_SUBCOMMAND_TOKENS = ('check', '--json', '-h', '--help')


def _global_options_first(argv):
    """``argv`` with oslo.config's own options before ``upgrade``.

    oslo.config reads ``--config-file`` and the like only before the
    subcommand, while operators write ``upgrade check --config-file F``
    (the ``upgrade`` subcommand knows only ``check``, ``--json`` and
    ``--help``); a file literally named ``check`` must be given as
    ``./check``.
    """
    if not argv or argv[0] != 'upgrade':
        return argv
    subcommand, others, seen = ['upgrade'], [], set()
    for token in argv[1:]:
        if token in _SUBCOMMAND_TOKENS and token not in seen:
            seen.add(token)
            subcommand.append(token)
        else:
            others.append(token)
    return others + subcommand


def main(argv=None):
    """``nova-vfio-lm upgrade check [--json] [--config-file FILE ...]``.

    :param argv: the arguments after ``nova-vfio-lm``, ``upgrade`` first;
        parsed by oslo.config with Nova's own options.
    """
    import nova.conf
    from nova import config
    from nova import objects

    argv = _global_options_first(
        list(sys.argv[1:] if argv is None else argv))
    conf = nova.conf.CONF
    commands = UpgradeCommands()
    upgradecheck.register_cli_options(conf, commands)
    # Nova's own configuration, database and RPC setup, as nova-status
    # does. The checks send no RPC, but reading a cell mapping needs
    # [DEFAULT]transport_url, which oslo.messaging registers as Nova's RPC
    # starts; its transports connect only when used.
    try:
        config.parse_args(['nova-vfio-lm'] + argv)
    except cfg.Error as exc:  # a missing or unreadable configuration file
        print('nova-vfio-lm upgrade check: %s' % exc, file=sys.stderr)
        return EXIT_NOT_RUN
    except messaging.InvalidTransportURL as exc:
        print('nova-vfio-lm upgrade check: invalid [DEFAULT]transport_url: '
              '%s' % exc, file=sys.stderr)
        return EXIT_NOT_RUN
    objects.register_all()
    # upgradecheck.main() keeps the parsed configuration there; check()
    # reads --json from it
    upgradecheck.CONF = conf
    return upgradecheck.run(conf)


def add_parser(subparsers):
    """The ``upgrade`` command of ``nova-vfio-lm``.

    Everything after ``upgrade``, options included, goes to oslo.config,
    which parses it with Nova's options and oslo.upgradecheck's subcommand
    (:func:`main`).
    """
    parser = subparsers.add_parser(
        'upgrade', add_help=False, prefix_chars='\0',
        help='upgrade check: is this cloud ready for the plugin '
             '(oslo.upgradecheck; "upgrade check --help")')
    parser.add_argument('args', nargs=argparse.REMAINDER,
                        help='"check" and its options (--json, '
                             '--config-file)')
    parser.set_defaults(func=lambda args: main(['upgrade'] + args.args))
