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

"""Nova: the compute API under uwsgi, conductor, scheduler and computes.

Every Nova service runs with the plugin on, as an operator runs it: the
compute API through the project's WSGI entry, the other services through
``nova-vfio-lm-run``. Cells v2 are set up with ``nova-manage`` as the
install guide says. Each compute has its own config file (host name,
``[pci]device_spec``, instances folder) on top of the shared one, its
own fake hypervisor (:mod:`.fakelibvirt_binding`) and its own recorded
``devlink dev info`` answers for its cards' PFs (``[vfio_lm]
recorded_commands_dir``), which the plugin reads for each live-migratable
VF's card when nova-compute starts (Nova reads a host's PCI devices only
then; its resource audits keep them).
"""

import json
import os
import shutil
import sysconfig

from nova_vfio_lm_cloud import layout
from nova_vfio_lm_cloud import runfolder
from nova_vfio_lm_cloud import service
from nova_vfio_lm_cloud import stand_in_gate

#: What the harness's hypervisor reports: the versions Nova 2025.1+
#: requires for ``live_migratable`` devices.
LIBVIRT_VERSION = '10.0.0'
QEMU_VERSION = '8.2.2'
#: Seconds between a compute's resource audits (Nova's default is 60).
AUDIT_INTERVAL = 10
#: Seconds a compute may wait after its start before its first periodic
#: task, audits included (Nova's default is up to 60).
PERIODIC_FUZZY_DELAY = 0

ENABLED_FILTERS = [
    'ComputeFilter', 'ComputeCapabilitiesFilter', 'ImagePropertiesFilter',
    'ServerGroupAntiAffinityFilter', 'ServerGroupAffinityFilter',
    'NUMATopologyFilter', 'PciPassthroughFilter', 'LiveMigratablePciFilter']
FILTER_PATH = ('nova_vfio_lm.scheduler.live_migratable_pci_filter.'
               'LiveMigratablePciFilter')


def binding_dir():
    """The folder whose ``libvirt`` module is the fake binding."""
    return stand_in_gate.BINDING_DIR


class Nova(service.Service):
    """The Nova control plane and its computes.

    :param computes: ``{host: [card, ...]}`` (:mod:`.layout`).
    """

    name = 'nova'

    def __init__(self, run, sup, db, keystone, rabbit, neutron,
                 computes, bindir=None):
        super().__init__(run, sup, bindir)
        self.db = db
        self.keystone = keystone
        self.rabbit = rabbit
        self.neutron = neutron
        self.computes = computes
        #: ``{host: bin folder}`` of computes not run from :attr:`bindir`
        #: (a rolling upgrade, :mod:`.upgrade`).
        self.compute_bindirs = {}
        #: computes started as plain ``nova-compute``, without the plugin
        self.plugin_off = set()

    def compute_bin(self, host, command):
        """``command`` of the environment compute ``host`` runs from."""
        return os.path.join(self.compute_bindirs.get(host, self.bindir),
                            command)

    # -- config ---------------------------------------------------------

    @property
    def conf(self):
        return os.path.join(self.config_dir(), 'nova.conf')

    def compute_conf(self, host):
        return os.path.join(self.config_dir(), '%s.conf' % host)

    def paste_ini(self, refresh=False):
        """A copy of Nova's api-paste.ini next to nova.conf.

        :param refresh: copy it again (the API's release changed).
        """
        path = os.path.join(self.config_dir(), 'api-paste.ini')
        if refresh or not os.path.exists(path):
            shutil.copy(os.path.join(
                sysconfig.get_paths(
                    vars={'base': os.path.dirname(self.bindir)})['data'],
                'etc', 'nova', 'api-paste.ini'), path)
        return path

    def db_url(self, name):
        return self.db.create_database(name)

    def configure(self):
        transport = self.rabbit.transport_url()
        sections = {
            'DEFAULT': {
                'transport_url': transport,
                'my_ip': runfolder.HOST,
                'state_path': self.run.sub('nova', 'state'),
                'debug': True,
                'use_stderr': True,
                'osapi_compute_listen': runfolder.HOST,
                'metadata_listen': runfolder.HOST,
                'enabled_apis': 'osapi_compute',
            },
            'api_database': {'connection': self.db_url('nova_api')},
            'database': {'connection': self.db_url('nova_cell1')},
            'api': {'auth_strategy': 'keystone'},
            'wsgi': {'api_paste_config': self.paste_ini()},
            'keystone_authtoken': self.keystone.authtoken_options('nova'),
            'placement': dict(self.keystone.auth_options('nova'),
                              region_name='RegionOne'),
            'service_user': dict(self.keystone.auth_options('nova'),
                                 send_service_user_token=True),
            'neutron': self.neutron.nova_options(),
            'glance': {'region_name': 'RegionOne'},
            'oslo_concurrency': {'lock_path': self.run.sub('nova', 'lock')},
            'pci': {'alias': layout.alias_options()},
            'scheduler': {'discover_hosts_in_cells_interval': -1,
                          'workers': 1},
            'conductor': {'workers': 1},
            # computes of two releases during a rolling upgrade: speak the
            # oldest one's RPC version, as Nova's upgrade guide says
            'upgrade_levels': {'compute': 'auto'},
            'filter_scheduler': {
                'available_filters': ['nova.scheduler.filters.all_filters',
                                      FILTER_PATH],
                'enabled_filters': ','.join(ENABLED_FILTERS)},
            'vnc': {'enabled': False},
            'spice': {'enabled': False},
            'serial_console': {'enabled': False},
            'os_vif_ovs': {},
            'nova_sys_admin': {'helper_command': '%s --config-file %s' % (
                self.bin('privsep-helper'), os.path.join(
                    self.config_dir(), 'nova.conf'))},
        }
        runfolder.write_ini(self.conf, sections)
        for host in self.computes:
            self.configure_compute(host)

    def configure_compute(self, host):
        """Write compute ``host``'s config (again, after an upgrade)."""
        cards = self.computes[host]
        instances = self.run.instances()
        runfolder.write_ini(self.compute_conf(host), {
            'DEFAULT': {
                'host': host,
                'compute_driver': 'libvirt.LibvirtDriver',
                'instances_path': instances,
                # its node identity (compute_id) is kept here
                'state_path': self.run.sub('compute', host, 'state'),
                'update_resources_interval': AUDIT_INTERVAL,
                # a restarted compute audits as soon as the others do
                'periodic_fuzzy_delay': PERIODIC_FUZZY_DELAY,
                'initial_cpu_allocation_ratio': 16.0,
                'initial_ram_allocation_ratio': 1.0,
                'initial_disk_allocation_ratio': 1.0,
                'heal_instance_info_cache_interval': -1,
                'sync_power_state_interval': 30,
            },
            'libvirt': {'virt_type': 'kvm', 'sysinfo_serial': 'none',
                        'cpu_mode': 'none'},
            'pci': {'device_spec': layout.device_specs(cards)},
            'vfio_lm': {'recorded_commands_dir': self.devlink_dir(host)},
            'nova_sys_admin': {'helper_command': '%s --config-file %s '
                               '--config-file %s' % (
                                   self.compute_bin(host, 'privsep-helper'),
                                   self.conf, self.compute_conf(host))},
        })
        self.record_devlink(host)
        hypervisor_dir = self.run.sub('hypervisor')
        with open(self.host_file(host), 'w') as f:
            json.dump({'hostname': host, 'cards': cards,
                       'hypervisor_dir': hypervisor_dir,
                       'libvirt_version': LIBVIRT_VERSION,
                       'qemu_version': QEMU_VERSION,
                       'cpus': 4, 'memory_mb': 16384}, f, indent=1)

    def devlink_dir(self, host):
        """Compute ``host``'s recorded devlink answers (made if missing)."""
        return self.run.sub('compute', host, 'devlink')

    def record_devlink(self, host, firmware=None):
        """Record ``devlink -j dev info`` of each PF of ``host``'s cards.

        :param firmware: ``{card model: version}`` running instead of the
            layout's (a firmware update); the others are the layout's.
            The compute reads them at its next start.
        """
        firmware = firmware or {}
        folder = self.devlink_dir(host)
        for card in self.computes[host]:
            path = os.path.join(folder, layout.devlink_recording_name(card))
            # whole or not at all: the compute may read it at any moment
            with open(path + '.new', 'w') as f:
                json.dump(layout.devlink_dev_info(
                    card, firmware.get(card['model'])), f, indent=1)
            os.replace(path + '.new', path)

    def host_file(self, host):
        return self.run.file('hypervisor', host, 'host.json')

    # -- set-up ---------------------------------------------------------

    def manage(self, *args, timeout=300, extra_conf=None):
        """``nova-manage`` with the cloud's config; its output."""
        argv = [self.bin('nova-manage'), '--config-file', self.conf]
        if extra_conf:
            argv += ['--config-file', extra_conf]
        return self.execute(argv + list(args), timeout=timeout,
                            log_name='nova-manage')

    def init(self):
        self.manage('api_db', 'sync')
        # URLs hold passwords: they come from (private) config files, never
        # the command line the log records. map_cell0 names
        # [database]connection's database with "_cell0" appended.
        self.db_url('nova_cell0')  # created
        cell0 = runfolder.write_ini(
            os.path.join(self.config_dir(), 'cell0-mapping.conf'),
            {'database': {'connection': self.db.url('nova')}})
        self.manage('cell_v2', 'map_cell0', extra_conf=cell0)
        # [database]connection (cell1) and transport_url of nova.conf
        self.manage('cell_v2', 'create_cell', '--name', 'cell1')
        self.manage('db', 'sync')
        self.keystone.register_service(
            'compute', 'nova', self.run.url('nova-api', '/v2.1'))

    def discover_hosts(self):
        self.manage('cell_v2', 'discover_hosts', '--verbose')

    # -- processes ------------------------------------------------------

    def process_names(self):
        return (['nova-api', 'nova-conductor', 'nova-scheduler']
                + ['nova-compute-%s' % host for host in self.computes])

    def _run_argv(self, command, *conf_files, host=None):
        """``command`` through the launcher (plugin on) with config files.

        :param host: a compute: from its environment, and without the
            launcher if it runs with the plugin off.
        """
        if host is None:
            argv = [self.bin('nova-vfio-lm-run'), command]
        elif host in self.plugin_off:
            argv = [self.compute_bin(host, command)]
        else:
            argv = [self.compute_bin(host, 'nova-vfio-lm-run'), command]
        for conf in conf_files or (self.conf,):
            argv += ['--config-file', conf]
        return argv

    def start_api(self):
        # Nova's WSGI app reads api-paste.ini and nova.conf from this dir
        env = {'OS_NOVA_CONFIG_DIR': self.config_dir()}
        # One thread per worker: with eventlet, an RPC reply waiter lives
        # in the hub of the uwsgi thread that first made a call, and a call
        # from another thread of the same worker times out waiting for it.
        argv = self.uwsgi_argv(self.run.port('nova-api'),
                               module='nova_vfio_lm.wsgi.osapi_compute'
                                      ':application', processes=2,
                               threads=1)
        self.sup.start('nova-api', argv, env=env)

    def start_conductor(self):
        self.sup.start('nova-conductor', self._run_argv('nova-conductor'))

    def start_scheduler(self):
        self.sup.start('nova-scheduler', self._run_argv('nova-scheduler'))

    def compute_env(self, host):
        path = os.environ.get('PYTHONPATH')
        return dict(stand_in_gate.env(self.run),
                    PYTHONPATH=binding_dir() + (os.pathsep + path
                                                if path else ''),
                    NOVA_VFIO_LM_FAKE_HOST=self.host_file(host))

    def start_compute(self, host):
        self.sup.start('nova-compute-%s' % host, self._run_argv(
            'nova-compute', self.conf, self.compute_conf(host), host=host),
            env=self.compute_env(host))

    def wait_for_api(self, timeout=120):
        self.sup.wait_ready('nova-api', lambda: service.http_answers(
            self.run.url('nova-api', '/')), timeout=timeout)

    def start(self):
        self.start_api()
        self.start_conductor()
        self.start_scheduler()
        for host in self.computes:
            self.start_compute(host)
        self.wait_for_api()
