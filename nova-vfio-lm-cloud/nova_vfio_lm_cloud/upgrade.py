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

"""A rolling upgrade of the local cloud, in Nova's documented order.

The cloud starts on one release (the environment running the harness).
:func:`upgrade_control` moves Keystone, placement, Glance and the Nova
control plane (API, conductor, scheduler) to another environment's
release: stop them, sync each database with the new release's manage
command, start them again (conductor first, API last), then run
``nova-status upgrade check`` and the plugin's ``nova-vfio-lm upgrade
check``. :func:`upgrade_compute` moves one compute (``plugin=False``
starts it as plain ``nova-compute``, without the launcher).
:func:`online_data_migrations` finishes the upgrade. Neutron and its
agents keep their release: Neutron is upgraded on its own schedule, and
an agent newer than its server is not supported.

Which environment each service runs from is kept in the run folder
(``releases``), so a later ``cloud start`` or a scenario's restart of a
service uses the same one.
"""

import os
import subprocess

import tenacity

from nova_vfio_lm_cloud import service

STATE = 'releases'
#: Nova services stopped for the control plane's upgrade, in stop order.
NOVA_CONTROL = ('nova-api', 'nova-scheduler', 'nova-conductor')


class UpgradeError(RuntimeError):
    """A step of the upgrade failed; the message says which."""


def load(run):
    """Which environment each service runs from, as saved.

    ``{'control': bindir, 'computes': {host: bindir}, 'plugin_off':
    [host]}``, empty values if the cloud was never upgraded.
    """
    state = run.load(STATE) or {}
    return {'control': state.get('control'),
            'computes': dict(state.get('computes') or {}),
            'plugin_off': list(state.get('plugin_off') or [])}


def apply(cloud, state):
    """Point the cloud's services at the environments ``state`` names."""
    for svc in (cloud.keystone, cloud.placement, cloud.glance, cloud.nova):
        svc.bindir = state['control'] or service.default_bindir()
    cloud.nova.compute_bindirs = dict(state['computes'])
    cloud.nova.plugin_off = set(state['plugin_off'])


def _save(cloud, state):
    cloud.run.save(STATE, state)
    apply(cloud, state)


def bindir_of(venv):
    """The ``bin`` folder of a virtual environment (or of its ``bin``)."""
    path = os.path.abspath(venv)
    if os.path.basename(path) != 'bin':
        path = os.path.join(path, 'bin')
    if not os.path.exists(os.path.join(path, 'nova-vfio-lm-run')):
        raise UpgradeError('%s has no nova-vfio-lm-run: not an environment '
                           'with Nova and nova-vfio-lm installed' % path)
    return path


def check_command(cloud, argv):
    """Run an upgrade check; ``(exit code, output)``, logged."""
    log_path = cloud.run.file('logs', 'upgrade-checks.log')
    try:
        result = subprocess.run(argv, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT,
                                cwd=cloud.run.path, timeout=300)
    except subprocess.TimeoutExpired:
        raise UpgradeError('%s did not finish within 300 s' % argv[0])
    output = result.stdout.decode(errors='replace')
    with open(log_path, 'a') as log:
        log.write('$ %s\n%s(exit %d)\n' % (' '.join(argv), output,
                                           result.returncode))
    return result.returncode, output


def upgrade_control(cloud, bindir, log=print):
    """Move the control plane to the environment of ``bindir``.

    :returns: ``{'nova-status': (code, output), 'nova-vfio-lm': (code,
        output)}``, the two upgrade checks run afterwards (0 success,
        1 warning, 2 failure).
    """
    state = load(cloud.run)
    for name in NOVA_CONTROL:
        cloud.sup.stop(name)
    for svc in (cloud.glance, cloud.placement, cloud.keystone):
        svc.stop()
    state['control'] = bindir
    _save(cloud, state)
    log('control plane stopped; syncing databases with %s' % bindir)
    cloud.keystone.manage('db_sync')
    cloud.keystone.start()
    cloud.placement.execute([cloud.placement.bin('placement-manage'),
                             '--config-file', cloud.placement.conf_path(),
                             'db', 'sync'])
    cloud.placement.start()
    cloud.glance.execute([cloud.glance.bin('glance-manage'),
                          '--config-file', cloud.glance.conf_path(),
                          'db_sync'])
    cloud.glance.start()
    cloud.nova.paste_ini(refresh=True)
    cloud.nova.manage('api_db', 'sync')
    cloud.nova.manage('db', 'sync')
    cloud.nova.start_conductor()
    cloud.nova.start_scheduler()
    cloud.nova.start_api()
    cloud.nova.wait_for_api()
    log('control plane started from %s' % bindir)
    conf = ['--config-file', cloud.nova.conf]
    return {
        'nova-status': check_command(cloud, [
            os.path.join(bindir, 'nova-status')] + conf + [
            'upgrade', 'check']),
        'nova-vfio-lm': check_command(cloud, [
            os.path.join(bindir, 'nova-vfio-lm'), 'upgrade', 'check']
            + conf),
    }


def upgrade_compute(cloud, host, bindir, plugin=True, timeout=180):
    """Restart compute ``host`` from ``bindir``'s environment.

    :param plugin: ``False`` starts plain ``nova-compute`` (an operator
        who forgot the launcher).
    """
    state = load(cloud.run)
    name = 'nova-compute-%s' % host
    cloud.sup.stop(name)
    state['computes'][host] = bindir
    off = set(state['plugin_off'])
    (off.discard if plugin else off.add)(host)
    state['plugin_off'] = sorted(off)
    _save(cloud, state)
    cloud.nova.configure_compute(host)
    log = cloud.sup.log_path(name)
    start = os.path.getsize(log) if os.path.exists(log) else 0
    cloud.nova.start_compute(host)
    cloud.wait_for_computes(timeout=timeout, fresh={host: start})


def online_data_migrations(cloud, attempts=10):
    """``nova-manage db online_data_migrations`` until it has no more.

    It exits 1 while migrations remain, 0 when done (Nova's guide).
    """
    argv = [cloud.nova.bin('nova-manage'), '--config-file', cloud.nova.conf,
            'db', 'online_data_migrations']
    code, output = tenacity.Retrying(
        stop=tenacity.stop_after_attempt(attempts),
        wait=tenacity.wait_fixed(1),
        retry=tenacity.retry_if_result(lambda result: result[0] == 1),
        retry_error_callback=lambda state: state.outcome.result())(
            check_command, cloud, argv)
    if code == 1:
        raise UpgradeError('online_data_migrations still had work after '
                           '%d runs' % attempts)
    if code:
        raise UpgradeError('online_data_migrations exited %d:\n%s'
                           % (code, output))
    return output


def describe(cloud):
    """Which environment each Nova service runs from."""
    state = load(cloud.run)
    default = cloud.nova.bindir
    found = {'control': state['control'] or default}
    for host in cloud.layout:
        found[host] = '%s%s' % (
            state['computes'].get(host, default),
            ' (plugin off)' if host in state['plugin_off'] else '')
    return found
