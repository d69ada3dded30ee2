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

"""Start and stop the whole local cloud, in devstack's order.

``up`` cleans what an earlier run left, checks the Debian packages, then
configures, initialises and starts each service in turn; if anything
fails on the way, everything started so far is stopped before the error
is raised. ``down`` stops every recorded process, newest first.
"""

import functools
import os
import time

from nova_vfio_lm_cloud import client as client_mod
from nova_vfio_lm_cloud import glance as glance_mod
from nova_vfio_lm_cloud import keystone as keystone_mod
from nova_vfio_lm_cloud import layout as layout_mod
from nova_vfio_lm_cloud import mariadb as mariadb_mod
from nova_vfio_lm_cloud import neutron as neutron_mod
from nova_vfio_lm_cloud import nova as nova_mod
from nova_vfio_lm_cloud import packages
from nova_vfio_lm_cloud import placement as placement_mod
from nova_vfio_lm_cloud import rabbitmq as rabbitmq_mod
from nova_vfio_lm_cloud import runfolder
from nova_vfio_lm_cloud import supervisor as supervisor_mod
from nova_vfio_lm_cloud import upgrade as upgrade_mod

#: Memory of each flavor the cloud creates (MiB); one vCPU, 1 GB disk.
FLAVOR_RAM = 256
#: What nova-compute logs at the end of each resource audit.
AUDIT_LOGGED = 'Final resource view'
#: What it logs (debug) as an audit begins, and as it ends: its records
#: (PCI devices included) saved, after ``AUDIT_LOGGED``, or the audit
#: failed (placement down, say).
AUDIT_BEGUN = 'Auditing locally available compute resources for'
AUDIT_ENDED = ('Compute_service record updated for',
               'Error updating resources for node')
#: The shared networks the cloud creates: name -> (physnet, VLAN, CIDR).
NETWORKS = {
    'lm-net': ('physnet1', 101, '10.1.0.0/24'),
    'legacy-net': ('physnet2', 102, '10.2.0.0/24'),
    # the lone PFs' network: direct-physical ports
    'pf-net': ('physnet3', 103, '10.3.0.0/24'),
}


class LocalCloud:
    """One cloud, its services and its run folder.

    :param computes: how many computes (see :mod:`.layout`); taken from
        the run folder's saved layout when ``None`` and one exists.
    :param lm_computes: how many of them have live-migratable VFs.
    """

    def __init__(self, run=None, computes=None, lm_computes=2):
        self.run = run or runfolder.RunFolder()
        self.sup = supervisor_mod.Supervisor(self.run)
        saved = self.run.load('layout') if computes is None else None
        self.layout = saved or layout_mod.default_layout(computes or 3,
                                                         lm_computes)
        run, sup = self.run, self.sup
        self.db = mariadb_mod.MariaDB(run, sup)
        self.rabbit = rabbitmq_mod.RabbitMQ(run, sup)
        self.keystone = keystone_mod.Keystone(run, sup, self.db)
        self.placement = placement_mod.Placement(run, sup, self.db,
                                                 self.keystone)
        self.glance = glance_mod.Glance(run, sup, self.db, self.keystone)
        self.neutron = neutron_mod.Neutron(run, sup, self.db, self.keystone,
                                           self.rabbit, self.layout)
        self.nova = nova_mod.Nova(run, sup, self.db, self.keystone,
                                  self.rabbit, self.neutron, self.layout)
        upgrade_mod.apply(self, upgrade_mod.load(self.run))

    @property
    def clouds_yaml(self):
        return os.path.join(self.run.path, 'clouds.yaml')

    def client(self, cloud=client_mod.ADMIN):
        return client_mod.OpenStack(self.clouds_yaml, cloud)

    def services(self):
        return [self.db, self.rabbit, self.keystone, self.placement,
                self.glance, self.neutron, self.nova]

    # -- up and down ----------------------------------------------------

    def clean_stale(self):
        """Stop what an earlier run left running and remove its folder."""
        if self.run.exists():
            self.down()
            self.run.remove()

    def up(self, log=print):
        started = time.monotonic()

        def step(text):
            log('[%5.1fs] %s' % (time.monotonic() - started, text),
                flush=True)

        self.run.check_owned()  # before anything in it is stopped or removed
        self.clean_stale()
        self.run.check_ports_free()
        packages.ensure_debian_packages()
        self.run.create()
        self.run.save('layout', self.layout)
        # a new cloud runs every service from this environment
        upgrade_mod.apply(self, upgrade_mod.load(self.run))
        try:
            step('MariaDB and RabbitMQ')
            for svc in (self.db, self.rabbit):
                svc.configure()
                svc.init()
            self.db.start()
            self.rabbit.start()
            step('Keystone')
            self.keystone.configure()
            self.keystone.init()
            self.keystone.start()
            self.keystone.create_accounts()
            self.keystone.write_clouds_yaml(self.clouds_yaml)
            for svc in (self.placement, self.glance, self.neutron,
                        self.nova):
                step(svc.name)
                svc.configure()
                svc.init()
                svc.start()
            step('computes and cells')
            self.wait_for_computes(progress=step)
            self.nova.discover_hosts()
            step('flavors, networks and image')
            self.create_flavors()
            self.create_networks()
            self.glance.upload_tiny_image()
            step('up')
        except BaseException:
            self.down()
            raise
        return self.clouds_yaml

    def down(self, log=None):
        """Stop every service; ``log(line)`` tells what it stops."""
        self.sup.stop_all(last=self.rabbit.process_names()
                          + self.db.process_names(), progress=log)

    # -- after the services ---------------------------------------------

    def wait_for_computes(self, timeout=180, fresh=None, progress=None):
        """Until every compute's service is up and reported to placement.

        And its SR-IOV agent alive in Neutron.

        Polled through the REST API: each ``openstack`` call costs about
        two seconds of start-up.

        :param fresh: ``{host: log offset}`` of computes just restarted:
            also wait until each has logged its first resource audit after
            that offset (its service may still look up from before).
        :param progress: ``progress(line)`` is told what is still awaited
            each time that changes.
        """
        rest = client_mod.Rest(self.clouds_yaml)
        hosts = set(self.layout)
        seen = {'up': set(), 'providers': set(), 'agents': set()}
        said = []

        def ready():
            audited = {host for host, offset in (fresh or {}).items()
                       if AUDIT_LOGGED in supervisor_mod.read_from(
                           self.sup.log_path('nova-compute-%s' % host),
                           offset)}
            if audited != set(fresh or {}):
                return False
            services = rest.compute('/os-services',
                                    binary='nova-compute')['services']
            up = seen['up'] = {s['host'] for s in services
                               if s['state'] == 'up'}
            providers = seen['providers'] = {p['name'] for p in rest.placement(
                '/resource_providers')['resource_providers']}
            agents = seen['agents'] = {a['host'] for a in rest.network(
                '/agents', agent_type='NIC Switch agent')['agents']
                if a['alive']}
            if hosts <= up and hosts <= providers and hosts <= agents:
                return True
            awaited = '; '.join('%s: %s' % (what, ', '.join(sorted(missing)))
                                for what, missing in (
                                    ('compute services up', hosts - up),
                                    ('resource providers', hosts - providers),
                                    ('SR-IOV agents alive', hosts - agents))
                                if missing)
            if progress and awaited not in said[-1:]:
                progress('waiting for %s' % awaited)
                said.append(awaited)
            for name in (['nova-compute-%s' % host for host in hosts - up]
                         + [neutron_mod.AGENT % host
                            for host in hosts - agents]):
                if not self.sup.pid(name):
                    raise supervisor_mod.ServiceFailed(
                        '%s exited; its log:\n%s' % (name, supervisor_mod.tail(
                            self.sup.log_path(name))))
            return False

        if not supervisor_mod.poll(ready, timeout, 1):
            raise supervisor_mod.ServiceFailed(
                'computes %s did not come up within %d s; services up: %s, '
                'resource providers: %s, SR-IOV agents alive: %s' % (
                    ', '.join(sorted(hosts)), timeout, sorted(seen['up']),
                    sorted(seen['providers']), sorted(seen['agents'])))

    def create_flavors(self):
        """The PCI flavors of :mod:`.layout` and ``plain`` (openstacksdk)."""
        compute = client_mod.Rest(self.clouds_yaml).conn.compute
        flavors = dict(layout_mod.PCI_FLAVORS, plain=None)
        for name, pci in sorted(flavors.items()):
            flavor = compute.create_flavor(name=name, ram=FLAVOR_RAM,
                                           vcpus=1, disk=1)
            if pci:
                compute.create_flavor_extra_specs(flavor, {
                    'pci_passthrough:alias': '%s:%d' % pci})

    def create_networks(self):
        """:data:`NETWORKS`, shared, on the VFs' physnets (openstacksdk)."""
        network = client_mod.Rest(self.clouds_yaml).conn.network
        for name, (physnet, vlan, cidr) in sorted(NETWORKS.items()):
            net = network.create_network(
                name=name, shared=True, provider_network_type='vlan',
                provider_physical_network=physnet,
                provider_segmentation_id=vlan)
            # no DHCP agent: the guest's address comes with its port
            network.create_subnet(network_id=net.id, name=name + '-v4',
                                  ip_version=4, cidr=cidr,
                                  enable_dhcp=False)

    def _starters(self):
        starters = {'nova-api': self.nova.start_api,
                    'nova-conductor': self.nova.start_conductor,
                    'nova-scheduler': self.nova.start_scheduler,
                    'rabbitmq': self.rabbit.start,
                    'mariadb': self.db.start,
                    'placement': self.placement.start}
        for host in self.layout:
            starters['nova-compute-%s' % host] = functools.partial(
                self.nova.start_compute, host)
            starters[neutron_mod.AGENT % host] = functools.partial(
                self.neutron.start_agent, host)
        return starters

    def service_names(self):
        """Services that can be started again after ``kill``."""
        return sorted(self._starters())

    def start_service(self, name):
        """Start one service again (a crashed compute, a broker)."""
        self._starters()[name]()

    def describe(self):
        """Run folder, clouds.yaml, computes, each process's PID or None."""
        return {'run_folder': self.run.path,
                'clouds_yaml': self.clouds_yaml,
                'computes': sorted(self.layout),
                'processes': {n: self.sup.pid(n) for n in self.sup.names()}}
