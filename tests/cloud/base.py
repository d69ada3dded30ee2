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

"""What every real-cloud scenario uses.

Scenarios drive the cloud that ``nova-vfio-lm-cloud test`` started, only
through what an operator has: the ``openstack`` client (admin and
member), ``nova-manage``, Nova's PCI device table read with SQL (Nova has
no API for it), and the fake hypervisor's own view of which guest runs
where on which VF (what ``virsh dumpxml`` shows on a real host). No Nova
module is imported.
"""

import json
import os
import re
import signal
import time
import uuid

import testtools

from nova_vfio_lm import card_match
from nova_vfio_lm_cloud import client as client_mod
from nova_vfio_lm_cloud import cloud as cloud_mod
from nova_vfio_lm_cloud import hypervisor as hypervisor_mod
from nova_vfio_lm_cloud import layout
from nova_vfio_lm_cloud import runfolder
from nova_vfio_lm_cloud import service as service_mod
from nova_vfio_lm_cloud import supervisor as supervisor_mod

#: Bound of every wait in a scenario (seconds).
TIMEOUT = 240
FINAL_MIGRATION_STATES = ('completed', 'error', 'failed', 'cancelled')
#: Seconds a stopping nova-compute gets before SIGKILL (a unit's stop
#: timeout; a nova 2026.2 compute never ends its own graceful shutdown).
COMPUTE_STOP_TIMEOUT = 5
MIGRATABLE_BUSES = {'%02x' % card['bus'] for cards in
                    layout.default_layout().values() for card in cards
                    if card['live_migratable']}


def wait_for(what, check, timeout=TIMEOUT, interval=1.0):
    """Poll ``check()`` until it returns something true; return that."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError('%s: not within %d s' % (what, timeout))
        time.sleep(interval)


def whole_audit(log):
    """Whether ``log`` holds an audit, from its beginning to its end."""
    begun = log.find(cloud_mod.AUDIT_BEGUN)
    return begun >= 0 and any(log.find(ended, begun) >= 0
                              for ended in cloud_mod.AUDIT_ENDED)


#: Nova's RPC queues (topic and per-host), by name.
NOVA_QUEUES = ('compute', 'conductor', 'scheduler')


class CloudScenario(testtools.TestCase):
    """A scenario on the running local cloud."""

    def setUp(self):
        super().setUp()
        clouds_yaml = os.environ.get('OS_CLIENT_CONFIG_FILE')
        if not clouds_yaml or not os.environ.get(runfolder.PATH_ENV):
            self.fail('run the cloud scenarios with `nova-vfio-lm-cloud '
                      'test` (or tox -e cloud2024.2), which starts the '
                      'cloud and sets OS_CLIENT_CONFIG_FILE and %s'
                      % runfolder.PATH_ENV)
        self.cloud = cloud_mod.LocalCloud()
        self.admin = client_mod.OpenStack(clouds_yaml, client_mod.ADMIN)
        self.member = self.admin.as_cloud(client_mod.MEMBER)
        self.rest = client_mod.Rest(clouds_yaml, client_mod.ADMIN)
        self.hypervisor = hypervisor_mod.Hypervisor(
            self.cloud.run.sub('hypervisor'))
        self.hypervisor.set_mode('complete')
        self.addCleanup(self.hypervisor.set_mode, 'complete')

    # -- servers --------------------------------------------------------

    def boot(self, flavor, host=None, client=None, ports=()):
        """A server of ``flavor`` (on ``host``), ACTIVE; deleted after.

        Not ``--wait``: the client polls every five seconds, the scenario
        polls Nova's API twice a second.

        :param ports: IDs of the neutron ports it gets (else none).
        """
        client = client or self.admin
        args = ['server', 'create', '--flavor', flavor, '--image', 'tiny']
        for port in ports:
            args += ['--nic', 'port-id=%s' % port]
        if not ports:
            args += ['--nic', 'none']
        if host:
            args += ['--availability-zone', 'nova:%s' % host]
        server = client.json(*(args + ['vm-%s' % uuid.uuid4().hex[:8]]))
        self.addCleanup(self.delete, server['id'], client)

        def built():
            found = self.show(server['id'])
            return found if found['status'] != 'BUILD' else None
        server = wait_for('%s built' % server['id'], built, interval=0.5)
        self.assertEqual('ACTIVE', server['status'], server)
        return server['id']

    def delete(self, server_id, client=None):
        if not self.rest.exists('/servers/%s' % server_id):
            return  # the scenario deleted it
        # The API deletes the record of a server whose compute it thinks
        # down without that compute: the guest keeps running there, and so
        # keeps its VFs (until Nova reaps it). After a broker restart a
        # compute's state reports may lag; delete through the compute.
        host = self.host_of(server_id)
        if host:
            wait_for('%s up' % host, lambda: self.compute_up(host))
        (client or self.admin).run('server', 'delete', server_id)
        wait_for('%s deleted' % server_id,
                 lambda: not self.rest.exists('/servers/%s' % server_id),
                 interval=0.5)
        try:
            wait_for('PCI devices of %s released' % server_id,
                     lambda: not self.pci_rows(instance=server_id),
                     interval=0.5)
        except AssertionError as e:
            raise AssertionError('%s; rows %s; guests %s' % (
                e, self.pci_rows(instance=server_id), {
                    h: sorted(self.hypervisor.host(h).all())
                    for h in self.cloud.layout}))

    def show(self, server_id):
        return self.rest.compute('/servers/%s' % server_id)['server']

    def host_of(self, server_id):
        return self.show(server_id)['OS-EXT-SRV-ATTR:host']

    # -- ports ------------------------------------------------------------

    def create_port(self, network, vnic_type='direct', qos_policy=None):
        """A ``direct`` port on ``network`` (deleted after the test)."""
        args = ['port', 'create', '--network', network, '--vnic-type',
                vnic_type]
        if qos_policy:
            args += ['--qos-policy', qos_policy]
        port = self.admin.json(*(args + ['port-%s' % uuid.uuid4().hex[:8]]))
        self.addCleanup(self.admin.run, 'port', 'delete', port['id'])
        return port['id']

    def create_min_bandwidth_policy(self, kbps):
        """A QoS policy guaranteeing ``kbps`` egress; its ID."""
        policy = self.admin.json('network', 'qos', 'policy', 'create',
                                 'min-bw-%s' % uuid.uuid4().hex[:8])
        self.addCleanup(self.admin.run, 'network', 'qos', 'policy',
                        'delete', policy['id'])
        self.admin.run('network', 'qos', 'rule', 'create', '--type',
                       'minimum-bandwidth', '--min-kbps', kbps, '--egress',
                       policy['id'])
        return policy['id']

    def provider_uuid(self, name):
        return self.rest.placement('/resource_providers', name=name)[
            'resource_providers'][0]['uuid']

    def port(self, port_id):
        return self.rest.network('/ports/%s' % port_id)['port']

    def port_bindings(self, port_id):
        """``[(host, status, VF)]`` of every binding neutron keeps."""
        return sorted(
            (b['host'], b['status'], b['profile'].get('pci_slot'))
            for b in self.rest.network(
                '/ports/%s/bindings' % port_id)['bindings'])

    def assert_port_on(self, port_id, host, vf):
        """One binding, active on ``host`` with ``vf``; the port ACTIVE.

        ACTIVE once ``host``'s SR-IOV agent has seen the VF in a guest.
        """
        self.assertEqual([(host, 'ACTIVE', vf)],
                         self.port_bindings(port_id))
        port = wait_for('port %s ACTIVE' % port_id, lambda: (
            lambda p: p if p['status'] == 'ACTIVE' else None)(
                self.port(port_id)))
        self.assertEqual((host, vf), (port['binding:host_id'],
                                      port['binding:profile']['pci_slot']))

    def guest_port_vfs(self, host, server_id):
        """``{MAC: VF}`` of the guest's port interfaces on ``host``."""
        domain = self.hypervisor.host(host).get(server_id)
        return dict(hypervisor_mod.hostdev_interfaces(domain['xml']))

    def plugs(self, server_id):
        """Devices hot-plugged into or out of the server, on any host."""
        return [(host, entry['action'], entry['vfs'])
                for host in sorted(self.cloud.layout)
                for entry in self.hypervisor.host(host).plugs(server_id)]

    # -- live migrations ------------------------------------------------

    def start_live_migration(self, server_id, host=None, client=None,
                             computes_up=True):
        """``openstack server migrate --live-migration``.

        :param computes_up: first wait until Nova sees the source and the
            destination up. Nova refuses a move from or to a compute it
            thinks is down; after a broker restart a compute's state
            reports may lag for a while. ``False`` when the conductor,
            which records those reports, is stopped.
        """
        if computes_up:
            for compute in {self.host_of(server_id), host} - {None}:
                wait_for('%s up' % compute,
                         lambda c=compute: self.compute_up(c))
        args = ['server', 'migrate', '--live-migration']
        if host:
            args += ['--host', host]
        (client or self.admin).run(*(args + [server_id]))

    def migrations(self, server_id):
        """The server's live migrations, newest first."""
        found = self.rest.compute(
            '/os-migrations', instance_uuid=server_id,
            migration_type='live-migration')['migrations']
        return sorted(found, key=lambda m: m['id'], reverse=True)

    def wait_for_migration(self, server_id, states=FINAL_MIGRATION_STATES):
        """Until the newest live migration is in one of ``states``."""
        def newest():
            found = self.migrations(server_id)
            if found and found[0]['status'] in states:
                return found[0]
        migration = wait_for('live migration of %s in %s' % (
            server_id, states), newest, interval=0.5)
        if migration['status'] in FINAL_MIGRATION_STATES:
            # the server's task ends just after the migration record
            wait_for('%s without task' % server_id, lambda: self.show(
                server_id)['OS-EXT-STS:task_state'] is None, interval=0.5)
        return migration

    def live_migrate(self, server_id, host=None):
        self.start_live_migration(server_id, host)
        return self.wait_for_migration(server_id)

    def held_migration(self, flavor='lm.vf1'):
        """A server on compute1 whose move to compute2 is held."""
        server = self.boot(flavor, 'compute1')
        self.hypervisor.set_mode('hold')
        self.start_live_migration(server, 'compute2')
        self.wait_until_held(server)
        # claimed there (an audit of compute2 may count them allocated)
        self.assertTrue(self.pci_rows('compute2', server))
        return server

    def complete_held_job(self, server_id, host='compute2'):
        """Release a held job; until the guest runs on ``host`` only.

        With libvirt's flags the source guest stops and is undefined as
        the job completes, whatever the source's nova-compute does next.
        """
        self.hypervisor.decide(server_id, 'release')
        wait_for('the job of %s completed at the hypervisor' % server_id,
                 lambda: self.domain_states(server_id) == {host: True},
                 interval=0.2)

    def pause_monitor(self, server_id):
        """Hold the source's migration monitor after a running look.

        Set before the migration starts, it holds the first look, right
        before the monitor's first progress save.
        """
        self.hypervisor.pause_monitor(server_id)
        self.addCleanup(self.hypervisor.resume_monitor, server_id)

    def migration_with_monitor_paused(self):
        """A server on compute1 whose move to compute2 is held, running.

        The source's monitor is paused at its first look at the running
        job, right before its first progress save.
        """
        server = self.boot('lm.vf1', 'compute1')
        self.hypervisor.set_mode('hold')
        self.pause_monitor(server)
        self.start_live_migration(server, 'compute2')
        self.wait_until_held(server)
        self.wait_until_monitor_paused(server)
        return server

    def reset_state_active(self, server_id):
        """``openstack server set --state active``, the documented action."""
        args = ['server', 'set', '--state', 'active']
        if '--auto-approve' in self.admin.run('server', 'set', '--help'):
            args.append('--auto-approve')  # newer clients ask first
        self.admin.run(*(args + [server_id]))

    def delete_migration_allocation(self, *migration_uuids):
        """What the operator does after a failed post-migration (nova 2026.2).

        Nova's post-migration then may not delete the source allocation
        the migration held (Nova's own behaviour, logged by Nova):
        ``nova-manage placement audit --delete`` finds and deletes it. It
        must be those migrations' and nothing else (other releases leave
        none).
        """
        try:
            output = self.cloud.nova.manage('placement', 'audit',
                                            '--verbose', '--delete')
        except service_mod.CommandFailed as exc:  # 4: it deleted some
            # the end of nova-manage's log: this run's output comes last
            output = str(exc).rsplit('audit --verbose --delete', 1)[-1]
        deleted = set(re.findall(
            r'Deleted allocations for consumer UUID (\S+)', output))
        self.assertLessEqual(deleted, set(migration_uuids), output)

    def start_if_stopped(self, name):
        if not self.cloud.sup.pid(name):
            self.cloud.start_service(name)

    def wait_until_monitor_paused(self, server_id):
        wait_for('the migration monitor of %s paused' % server_id,
                 lambda: self.hypervisor.monitor_paused(server_id),
                 interval=0.2)

    def wait_until_held(self, server_id):
        wait_for('migration of %s held at the hypervisor' % server_id,
                 lambda: server_id in self.hypervisor.held())
        # a test that stops early must not leave it held for ten minutes
        self.addCleanup(self.fail_if_held, server_id)
        return self.wait_for_migration(server_id, ('running',))

    def fail_if_held(self, server_id):
        if server_id in self.hypervisor.held():
            self.hypervisor.decide(server_id, 'fail')
            self.wait_for_migration(server_id)

    def action_events(self, server_id, action='live-migration'):
        """Events of the server's newest ``action``, as ``server event show``.

        Each with its result and, for an admin, its details.
        """
        actions = [a for a in self.admin.json(
            'server', 'event', 'list', server_id) if a['Action'] == action]
        newest = max(actions, key=lambda a: a['Start Time'])
        return self.admin.json('server', 'event', 'show', server_id,
                               newest['Request ID'])['events']

    # -- what each host holds --------------------------------------------

    def pci_rows(self, host=None, instance=None):
        """Nova's PCI devices (address, status, instance, host)."""
        sql = ('SELECT d.address, d.status, d.instance_uuid, '
               'n.hypervisor_hostname AS host FROM pci_devices d JOIN '
               'compute_nodes n ON d.compute_node_id = n.id WHERE '
               "d.deleted = 0 AND n.deleted = 0 AND d.dev_type = 'type-VF'")
        args = []
        if host:
            sql += ' AND n.hypervisor_hostname = %s'
            args.append(host)
        if instance:
            sql += ' AND d.instance_uuid = %s'
            args.append(instance)
        return self.cloud.db.query('nova_cell1', sql, args)

    def pci_device_rows(self, host=None, instance=None, dev_type=None):
        """Nova's PCI devices of any type (address, type, status, ...).

        As :meth:`pci_rows`, also PFs (``type-PF``): a ``direct-physical``
        port's.
        """
        sql = ('SELECT d.address, d.dev_type, d.status, d.instance_uuid, '
               'n.hypervisor_hostname AS host FROM pci_devices d JOIN '
               'compute_nodes n ON d.compute_node_id = n.id WHERE '
               'd.deleted = 0 AND n.deleted = 0')
        args = []
        for column, value in (('n.hypervisor_hostname', host),
                              ('d.instance_uuid', instance),
                              ('d.dev_type', dev_type)):
            if value:
                sql += ' AND %s = %%s' % column
                args.append(value)
        return self.cloud.db.query('nova_cell1', sql, args)

    def cards(self, host):
        """``{(PSID, firmware)}`` of ``host``'s live-migratable VFs' cards.

        As the compute recorded them in each VF's ``extra_info`` in Nova's
        PCI device table when it last started.
        """
        rows = self.cloud.db.query(
            'nova_cell1',
            'SELECT d.extra_info FROM pci_devices d JOIN compute_nodes n ON '
            'd.compute_node_id = n.id WHERE d.deleted = 0 AND n.deleted = 0 '
            "AND d.dev_type = 'type-VF' AND n.hypervisor_hostname = %s",
            [host])
        found = set()
        for row in rows:
            info = json.loads(row['extra_info'] or '{}')
            if card_match.FIRMWARE_KEY in info:
                found.add((info.get(card_match.PSID_KEY),
                           info[card_match.FIRMWARE_KEY]))
        return found

    def server_vfs(self, server_id, host, status='allocated'):
        return sorted(row['address'] for row in self.pci_rows(
            host, server_id) if row['status'] == status)

    def guest_vfs(self, host, server_id):
        """VFs in the guest's XML on ``host``'s hypervisor (or None)."""
        domain = self.hypervisor.host(host).get(server_id)
        if domain is None:
            return None
        return sorted(hypervisor_mod.hostdev_addresses(domain['xml']))

    def domain_states(self, server_id):
        """``{host: running}`` of every hypervisor keeping the guest."""
        found = {}
        for host in sorted(self.cloud.layout):
            domain = self.hypervisor.host(host).get(server_id)
            if domain is not None:
                found[host] = domain['running']
        return found

    def guest_pci_hostdevs(self, host, server_id):
        """``[(PCI address, managed)]`` of the guest's plain ``<hostdev>``.

        A flavor's VF or a ``direct-physical`` port's PF; None if ``host``
        has no such guest.
        """
        domain = self.hypervisor.host(host).get(server_id)
        if domain is None:
            return None
        return sorted(hypervisor_mod.pci_hostdevs(domain['xml']))

    def pci_plugs(self, server_id):
        """``[(host, action, element, PCI addresses)]`` hot-plugged, any host.

        As :meth:`plugs`, for any PCI device, also a PF ``<hostdev>``.
        """
        return [(host, entry['action'], entry['device'],
                 entry.get('pci', entry['vfs']))
                for host in sorted(self.cloud.layout)
                for entry in self.hypervisor.host(host).plugs(server_id)]

    def allocations(self, server_id):
        """``{provider name: resources}`` of the server in placement."""
        names = {p['uuid']: p['name'] for p in self.rest.placement(
            '/resource_providers')['resource_providers']}
        found = self.rest.placement('/allocations/%s' % server_id)
        return {names[uuid]: data['resources']
                for uuid, data in found['allocations'].items()}

    # -- assertions --------------------------------------------------------

    def assert_runs_on(self, server_id, host, vf_count):
        """ACTIVE on ``host`` with ``vf_count`` VFs, nothing elsewhere.

        The VFs are live-migratable, allocated to the server there and the
        ones its guest uses; no other host has its guest, VFs or
        allocations.
        """
        server = self.show(server_id)
        self.assertEqual(('ACTIVE', host), (
            server['status'], server['OS-EXT-SRV-ATTR:host']))
        vfs = self.server_vfs(server_id, host)
        self.assertEqual(vf_count, len(vfs), self.pci_rows(
            instance=server_id))
        self.assertEqual(vfs, self.guest_vfs(host, server_id))
        self.assertTrue(all(vf.split(':')[1] in MIGRATABLE_BUSES
                            for vf in vfs), vfs)
        # a destination frees its claims when the rollback reaches it,
        # just after the source ends the migration
        wait_for('VFs of %s released on other hosts' % server_id,
                 lambda: not self.claims_elsewhere(server_id, host),
                 interval=0.5)
        for other in self.cloud.layout:
            if other != host:
                self.assertIsNone(self.guest_vfs(other, server_id), other)
        self.assertEqual([host], list(self.allocations(server_id)))
        return vfs

    def claims_elsewhere(self, server_id, host):
        return [row for row in self.pci_rows(instance=server_id)
                if row['host'] != host]

    def assert_nothing_claimed(self, host):
        """No VF of ``host`` is claimed (held for a move that ended)."""
        self.assertEqual([], [row for row in self.pci_rows(host)
                              if row['status'] == 'claimed'])

    def wait_for_audits(self, hosts=None):
        """Until every running compute has run a whole audit begun from now.

        A claim left by a move that ended is what an audit would keep: an
        audit that began after the move and saved its records, it is a
        leak, not a race. (An audit's end is what nova-compute logs after
        it saved its records, or when the audit failed.)

        :param hosts: only these computes' (one stopped audits nothing).
        """
        logs = {}
        for host in hosts or self.cloud.layout:
            name = 'nova-compute-%s' % host
            if self.cloud.sup.pid(name):
                path = self.cloud.sup.log_path(name)
                logs[host] = (path, os.path.getsize(path))
        wait_for('a whole resource audit of %s' % ', '.join(sorted(logs)),
                 lambda: all(whole_audit(supervisor_mod.read_from(
                     path, offset)) for path, offset in logs.values()),
                 interval=0.5)

    def placed_servers(self):
        """``{server id: host or None}`` of every server in the cloud."""
        servers = self.rest.compute('/servers/detail',
                                    all_tenants=1)['servers']
        return {s['id']: s['OS-EXT-SRV-ATTR:host'] for s in servers}

    def assert_cloud_consistent(self):
        """The whole cloud agrees with its hypervisors, after an audit.

        Every scenario may call it at its end, the fault cases after each
        case. On every host: each domain the hypervisor keeps belongs to a
        server Nova places on that host and names exactly the PCI devices
        (VFs and PFs) Nova allocates to that server there (a stopped
        server keeps them); no device Nova allocates there lacks its
        domain; no device is in two running domains; nothing stays
        claimed. And Nova's own placement audit finds nothing to fix.
        (``macvtap`` ports, which name a VF's netdev, not its address, are
        not used by the scenarios.)
        """
        self.wait_for_audits()
        placed = self.placed_servers()
        problems = []
        for host in sorted(self.cloud.layout):
            rows = self.pci_device_rows(host)
            allocated = {}
            for row in rows:
                if row['status'] == 'allocated':
                    allocated.setdefault(row['instance_uuid'], []).append(
                        row['address'])
                elif row['status'] == 'claimed':
                    problems.append('%s: %s claimed for %s' % (
                        host, row['address'], row['instance_uuid']))
            holders = {}
            for server, domain in self.hypervisor.host(host).all().items():
                if placed.get(server) != host:
                    problems.append('%s: domain %s (%s), Nova places that '
                                    'server on %s' % (
                                        host, server, 'running' if
                                        domain['running'] else 'defined',
                                        placed.get(server) or 'no host'))
                devices = sorted(hypervisor_mod.hostdev_addresses(
                    domain['xml']))
                wanted = sorted(allocated.pop(server, []))
                if devices != wanted:
                    problems.append('%s: the domain of %s names %s, Nova '
                                    'allocates it %s' % (
                                        host, server, devices, wanted))
                if domain['running']:
                    for address in devices:
                        holders.setdefault(address, []).append(server)
            problems += ['%s: %s allocated to %s, which has no domain '
                         'there' % (host, addresses, uuid)
                         for uuid, addresses in sorted(allocated.items())]
            problems += ['%s: %s in the running domains of %s' % (
                host, address, uuids) for address, uuids in
                sorted(holders.items()) if len(uuids) > 1]
        self.assertEqual([], problems)
        try:  # exits 3 when it finds allocations to delete (nova 2026.2)
            output = self.cloud.nova.manage('placement', 'audit',
                                            '--verbose')
        except service_mod.CommandFailed as exc:
            self.fail('placement audit: %s' % exc)
        self.assertNotIn('orphan', output.lower())

    # -- services -------------------------------------------------------

    def log_from_now(self, name):
        """A function returning what service ``name`` logs from now on."""
        path = self.cloud.sup.log_path(name)
        start = os.path.getsize(path)

        def since():
            with open(path, 'rb') as log:
                log.seek(start)
                return log.read().decode('utf-8', 'replace')
        return since

    def compute_up(self, host):
        services = self.rest.compute('/os-services', binary='nova-compute',
                                     host=host)['services']
        return services and services[0]['state'] == 'up'

    def consumed_queues(self):
        """Names of the broker's queues that have a consumer."""
        found = set()
        for line in self.cloud.rabbit.ctl(
                ['list_queues', 'name', 'consumers', '--silent']).splitlines():
            fields = line.split()
            if len(fields) == 2 and fields[1].isdigit() and int(fields[1]):
                found.add(fields[0])
        return found

    def nova_queues(self):
        """Nova's RPC queues (topic and per-host) that have a consumer."""
        return {name for name in self.consumed_queues()
                if name.startswith(NOVA_QUEUES)}

    def wait_for_consumers(self, queues):
        """Until each of ``queues`` has a consumer again.

        Nova's queues do not outlive a broker restart: a cast sent before
        a service declared its queue again is dropped, so a case goes on
        once every service consumes again, as an operator would check
        with ``rabbitmqctl list_queues``.
        """
        wait_for('consumers of %s again' % sorted(queues),
                 lambda: queues <= self.consumed_queues())

    def stop_service(self, name):
        """SIGSTOP ``name``; SIGCONT at the latest when the test ends."""
        self.cloud.sup.signal(name, signal.SIGSTOP)
        self.addCleanup(self.cloud.sup.signal, name, signal.SIGCONT)

    def continue_service(self, name):
        self.cloud.sup.signal(name, signal.SIGCONT)

    def restart_compute(self, host):
        """Stop compute ``host`` as its unit would, then start it again.

        SIGTERM, then SIGKILL after :data:`COMPUTE_STOP_TIMEOUT` (a nova
        2026.2 compute never ends its own graceful shutdown); started to
        read its config again.
        """
        name = 'nova-compute-%s' % host
        self.cloud.sup.stop(name, timeout=COMPUTE_STOP_TIMEOUT)
        self.restart_service(name)

    def restart_service(self, name):
        """Start a service that was killed, as its unit would.

        A compute is back once the new process ended its first resource
        audit (it has run its start-up clean-up by then) and Nova sees it
        up: its service record may still look up from before the kill.
        """
        offset = None
        if name.startswith('nova-compute-'):
            offset = os.path.getsize(self.cloud.sup.log_path(name))
        self.cloud.start_service(name)
        if offset is not None:
            host = name[len('nova-compute-'):]
            self.cloud.wait_for_computes(fresh={host: offset})
