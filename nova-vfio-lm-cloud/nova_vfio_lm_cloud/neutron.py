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

"""Neutron: the networking API Nova asks about every server's ports.

Nova's live migration lists a server's ports through the Neutron API even
when it has none, so the cloud runs a real neutron-server: ML2 with the
``flat`` and ``vlan`` type drivers, only the ``sriovnicswitch``
mechanism driver and the ``qos`` extension, the ``qos`` and ``placement``
service plugins (the agents' PF bandwidth becomes providers in
placement), no L3, DHCP, metadata, OVS or OVN. Each compute has an
SR-IOV NIC agent stand-in (:mod:`.sriov_agent`) that reports to it over
RPC; ``physnet1`` and ``physnet2`` (the VFs') and ``physnet3`` (the lone
PFs', :mod:`.layout`) carry VLAN and flat networks.

It is deployed the way that works from 2024.1 to 2026.2 (which has no
eventlet API server left): the API under uwsgi, and
``neutron-rpc-server`` as a process of its own for the agents' RPC (state
reports, port binding). Both find their config through
``OS_NEUTRON_CONFIG_DIR`` and ``OS_NEUTRON_CONFIG_FILES``; the RPC server
and ``neutron-db-manage`` are also given ``--config-file``.
"""

import glob
import os
import shutil

from nova_vfio_lm_cloud import layout
from nova_vfio_lm_cloud import runfolder
from nova_vfio_lm_cloud import service
from nova_vfio_lm_cloud import stand_in_gate

API = 'neutron-api'
RPC = 'neutron-rpc-server'
PERIODIC = 'neutron-periodic-workers'
AGENT = 'neutron-sriov-agent-%s'
VLAN_RANGE = (100, 200)
#: Seconds between an agent's state reports; neutron-server thinks an
#: agent dead after AGENT_DOWN_TIME without one (the defaults: 30, 75).
REPORT_INTERVAL = 10
AGENT_DOWN_TIME = 40
#: The RPC queues whose consumers prove the RPC server listens.
RPC_QUEUES = ('q-plugin', 'q-reports-plugin')


class Neutron(service.Service):
    """neutron-api under uwsgi on 127.0.0.1:``run.port('neutron')``.

    Order: :meth:`configure` (needs MariaDB), :meth:`init` (needs
    Keystone up with its accounts), :meth:`start`.

    :param db: the :class:`~.mariadb.MariaDB` holding its database.
    :param keystone: the :class:`~.keystone.Keystone` it authenticates
        against and registers with.
    :param rabbit: the :class:`~.rabbitmq.RabbitMQ` of the agents' RPC.
    :param computes: ``{host: [card, ...]}`` (:mod:`.layout`): one agent
        each.
    :param periodic_workers: also run ``neutron-periodic-workers`` where
        the release has it (2024.2 on). With ML2/SR-IOV it only expires
        quota reservations, so it is off to save memory.
    """

    name = 'neutron'

    def __init__(self, run, sup, db, keystone, rabbit, computes=None,
                 bindir=None, periodic_workers=False):
        super().__init__(run, sup, bindir=bindir)
        self.computes = computes or {}
        self.db = db
        self.keystone = keystone
        self.rabbit = rabbit
        self.periodic_workers = periodic_workers

    # -- config ------------------------------------------------------------

    def conf_path(self):
        return os.path.join(self.config_dir(), 'neutron.conf')

    def plugin_conf_path(self):
        return os.path.join(self.config_dir(), 'ml2_conf.ini')

    def config_args(self):
        """``--config-file`` arguments, for the commands that take them."""
        return ['--config-file', self.conf_path(),
                '--config-file', self.plugin_conf_path()]

    def config_env(self):
        """How the uwsgi-loaded API (no command line) finds its config."""
        return {
            'OS_NEUTRON_CONFIG_DIR': self.config_dir(),
            'OS_NEUTRON_CONFIG_FILES': ';'.join(
                os.path.basename(path) for path in (
                    self.conf_path(), self.plugin_conf_path())),
        }

    def _prefix(self):
        return os.path.dirname(self.bindir)

    def release_paste_path(self):
        """The release's own api-paste.ini (installed as a data file)."""
        path = os.path.join(self._prefix(), 'etc', 'neutron', 'api-paste.ini')
        if not os.path.exists(path):
            raise service.CommandFailed(
                '%s is missing: neutron installs it with the package; '
                'reinstall neutron into %s' % (path, self._prefix()))
        return path

    def configure(self):
        # found beside the config files; the api_paste_config option that
        # could point elsewhere is deprecated for removal (2026.x)
        shutil.copyfile(self.release_paste_path(),
                        os.path.join(self.config_dir(), 'api-paste.ini'))
        state = self.run.sub('neutron')
        runfolder.write_ini(self.conf_path(), {
            'DEFAULT': {
                'use_stderr': True,
                'state_path': state,
                'bind_host': runfolder.HOST,
                'bind_port': self.run.port(self.name),
                'auth_strategy': 'keystone',
                'core_plugin': 'ml2',
                # QoS policies, and the agents' PF bandwidth in placement
                'service_plugins': 'qos,placement',
                'transport_url': self.rabbit.transport_url(),
                # one RPC worker also takes the agents' state reports
                'api_workers': 1,
                'rpc_workers': 1,
                'rpc_state_report_workers': 0,
                'agent_down_time': AGENT_DOWN_TIME,
                'dhcp_agent_notification': False,
                'notify_nova_on_port_status_changes': True,
                'notify_nova_on_port_data_changes': True,
            },
            'database': {
                'connection': self.db.create_database('neutron'),
                'max_pool_size': 2,
                'max_overflow': 10,
            },
            'keystone_authtoken': self.keystone.authtoken_options(
                'neutron'),
            # Neutron tells Nova of port events as Nova's own service user
            'nova': self.keystone.auth_options('nova'),
            'placement': self.keystone.auth_options('neutron'),
            'oslo_concurrency': {
                'lock_path': self.run.sub('neutron', 'lock')},
        })
        runfolder.write_ini(self.plugin_conf_path(), {
            'ml2': {
                'type_drivers': 'flat,vlan',
                # 2026.x renamed it; older releases ignore the new name
                'tenant_network_types': 'vlan',
                'project_network_types': 'vlan',
                'mechanism_drivers': 'sriovnicswitch',
                'extension_drivers': 'qos',
            },
            'ml2_type_flat': {'flat_networks': ','.join(layout.PHYSNETS)},
            'ml2_type_vlan': {
                'network_vlan_ranges': ','.join(
                    '%s:%d:%d' % ((physnet,) + VLAN_RANGE)
                    for physnet in layout.PHYSNETS)},
        })
        for host, cards in self.computes.items():
            runfolder.write_ini(self.agent_conf_path(host), {
                'DEFAULT': {'host': host,
                            'transport_url': self.rabbit.transport_url()},
                'sriov_nic': {
                    'physical_device_mappings':
                        layout.physical_device_mappings(cards),
                    'resource_provider_bandwidths':
                        layout.resource_provider_bandwidths(cards)},
                'AGENT': {'report_interval': REPORT_INTERVAL},
                'fake_hypervisor': {'path': self.run.sub('hypervisor')},
            })

    def agent_conf_path(self, host):
        return os.path.join(self.config_dir(), 'sriov_agent-%s.ini' % host)

    def init(self, timeout=600):
        """Create and migrate the database; register ``network``."""
        self.db.create_database('neutron')
        self.execute([self.bin('neutron-db-manage')] + self.config_args()
                     + ['upgrade', 'heads'], timeout=timeout)
        self.keystone.register_service('network', 'neutron',
                                       self.run.url(self.name))

    # -- processes ---------------------------------------------------------

    def _has_wsgi_module(self):
        """Whether the release has ``neutron.wsgi.api`` (2024.2 on).

        Looked up in the files of :attr:`bindir`'s environment, which
        need not be the one running this code.
        """
        return bool(glob.glob(os.path.join(
            self._prefix(), 'lib', 'python3*', '*-packages', 'neutron',
            'wsgi', 'api.py')))

    def api_argv(self):
        """uwsgi serving the API of this release.

        2024.2 has both the pbr ``neutron-api`` script and the
        ``neutron.wsgi.api`` module; the module is preferred as it
        monkey-patches eventlet before anything else is imported. 2024.1
        has only the script, 2026.2 only the module. One thread per
        worker, as the 2024.x apps run on eventlet.
        """
        argv = self.uwsgi_argv(self.run.port(self.name), threads=1)
        if self._has_wsgi_module() or not os.path.exists(self.bin(API)):
            return argv + ['--module', 'neutron.wsgi.api:application']
        return argv + ['--wsgi-file', self.bin(API)]

    def process_names(self):
        names = [API, RPC]
        if self.periodic_workers and os.path.exists(self.bin(PERIODIC)):
            names.append(PERIODIC)
        return names + [AGENT % host for host in self.computes]

    def start_agent(self, host):
        """Start ``host``'s SR-IOV agent stand-in."""
        self.sup.start(AGENT % host, [
            self.bin('python'), '-m', 'nova_vfio_lm_cloud.sriov_agent',
            '--config-file', self.agent_conf_path(host)],
            env=stand_in_gate.env(self.run))

    def start(self, timeout=120):
        env = self.config_env()
        self.sup.start(API, self.api_argv(), env=env)
        for name in self.process_names()[1:]:
            if name in self.agent_names():
                continue
            self.sup.start(name, [self.bin(name)] + self.config_args(),
                           env=env)
        self.sup.wait_ready(API, lambda: service.http_answers(
            self.run.url(self.name, '/'), (200,)), timeout)
        self.sup.wait_ready(API, lambda: service.http_answers(
            self.run.url(self.name, '/v2.0/networks'), (401,)), timeout)
        self.sup.wait_ready(RPC, self._rpc_listens, timeout)
        for host in self.computes:
            self.start_agent(host)

    def agent_names(self):
        return [AGENT % host for host in self.computes]

    def _rpc_listens(self):
        """True once the RPC server consumes the plugin's queues."""
        ctl = getattr(self.rabbit, 'ctl', None)
        if ctl is None:
            return True  # nothing to ask; the process at least runs
        consumers = {}
        for line in ctl(['list_queues', '--silent', 'name',
                         'consumers']).splitlines():
            fields = line.split()
            if len(fields) == 2 and fields[1].isdigit():
                consumers[fields[0]] = int(fields[1])
        return all(consumers.get(queue, 0) > 0 for queue in RPC_QUEUES)

    # -- what Nova needs ----------------------------------------------------

    def nova_options(self):
        """nova.conf's ``[neutron]``: Nova's own service user.

        The endpoint comes from the catalog (type ``network``).
        """
        return self.keystone.auth_options('nova')
