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

"""A whole Nova cloud in one process, with SR-IOV computes and the plugin.

Built on Nova's own functional framework: the real API, conductor and
scheduler services, the placement fixture, and libvirt computes backed by
Nova's fake libvirt. Tests subclass :class:`VfioCloudTestCase`; the demo
drives the same class outside a test runner.
"""

# Nova's test packages patch eventlet on import; that must come first.
import nova.tests.functional  # noqa: F401,I100 isort:skip

import os
import threading
import time
import urllib.parse

import fixtures
from lxml import etree
from oslo_utils import versionutils

from nova import context as nova_context
from nova import objects
from nova.tests.fixtures import libvirt as fakelibvirt
from nova.tests.functional.libvirt import base as libvirt_base

import nova_vfio_lm
from nova_vfio_lm import series as series_mod
from nova_vfio_lm_cloud.inprocess import fakelibvirt_hostdevs
from nova_vfio_lm_cloud.inprocess import fakelibvirt_jobs
from nova_vfio_lm_cloud.inprocess import fakelibvirt_netdevs
from nova_vfio_lm_cloud.inprocess import paste

#: Set to 1 to run the cloud with the plugin inactive, e.g. to check that a
#: behaviour test fails without it. Changes applied earlier in the same
#: process stay applied, so use it for a whole test run.
INACTIVE_ENV = 'NOVA_VFIO_LM_TEST_INACTIVE'
#: Set (``tox -e drift*``): the plugin activates on a Nova it was not
#: verified on (:func:`allow_unverified_nova`).
ALLOW_UNVERIFIED_ENV = 'NOVA_VFIO_LM_TEST_ALLOW_UNVERIFIED'

NOVA_SERIES = series_mod.detect()

#: fake libvirt's SR-IOV ids: PF 8086:1528, VF 8086:1515, at 0000:81:00.x
VENDOR_ID = fakelibvirt.PCI_VEND_ID
PF_PRODUCT_ID = fakelibvirt.PF_PROD_ID
VF_PRODUCT_ID = fakelibvirt.VF_PROD_ID


#: What a host that can migrate VFIO variant-driver devices runs: the
#: versions Nova 2025.1+ requires for ``live_migratable`` devices.
LIBVIRT_VERSION = (10, 0, 0)
QEMU_VERSION = (8, 2, 2)


class _OsTraitsWithout:
    """os-traits as an older placement sees it: some standard traits gone."""

    def __init__(self, missing):
        import os_traits
        self._os_traits = os_traits
        self._missing = set(missing)

    def __getattr__(self, name):
        return getattr(self._os_traits, name)

    def get_traits(self, *args, **kwargs):
        return [trait for trait in self._os_traits.get_traits(*args, **kwargs)
                if trait not in self._missing]


def plugin_active_in_tests():
    return not os.environ.get(INACTIVE_ENV)


def allow_unverified_nova():
    """Let the plugin activate on a Nova it was not verified on.

    For ``tox -e drift*`` only, which runs the suite on the newest point
    release to see whether the plugin still works there.
    """
    import nova.conf

    from nova_vfio_lm import conf

    conf.register_opts(nova.conf.CONF)
    nova.conf.CONF.set_override('allow_unverified_nova', True,
                                group='vfio_lm')


def vf_address(function, bus=0x81, slot=0):
    """The PCI address fake libvirt gives VF number ``function``."""
    return '0000:%02x:%02x.%x' % (bus, slot, function)


#: fake libvirt puts its SR-IOV devices on bus 0x81; lone PFs go here
LONE_PF_BUS = 0x82


def lone_pf_address(slot=0):
    """The PCI address of lone PF ``slot`` (``start_sriov_compute``)."""
    return vf_address(0, bus=LONE_PF_BUS, slot=slot)


def device_spec(address=None, **tags):
    """One ``[pci]device_spec`` entry as nova.conf holds it (JSON)."""
    from oslo_serialization import jsonutils
    spec = {'vendor_id': VENDOR_ID, 'product_id': VF_PRODUCT_ID}
    if address:
        spec['address'] = address
    spec.update(tags)
    return jsonutils.dumps(spec)


def split_device_specs(migratable, others):
    """``[pci]device_spec`` making some VFs migratable and the rest not.

    :param migratable: VF numbers tagged ``live_migratable=yes`` and
        ``managed=no`` (bound to their variant driver).
    :param others: VF numbers tagged ``live_migratable=no``.
    """
    return ([device_spec(vf_address(vf), live_migratable='yes', managed='no')
             for vf in migratable] +
            [device_spec(vf_address(vf), live_migratable='no')
             for vf in others])


def _source_address(element):
    """The host PCI address in a hostdev's or interface's ``<source>``."""
    address = element.find('./source/address')
    return '%04x:%02x:%02x.%x' % tuple(
        int(address.get(k), 16)
        for k in ('domain', 'bus', 'slot', 'function'))


def alias(name, **keys):
    """One ``[pci]alias`` entry for fake libvirt's VFs (JSON)."""
    from oslo_serialization import jsonutils
    entry = {'name': name, 'vendor_id': VENDOR_ID,
             'product_id': VF_PRODUCT_ID, 'device_type': 'type-VF'}
    entry.update(keys)
    return jsonutils.dumps(entry)


class VfioCloudTestCase(libvirt_base.ServersTestBase):
    """Nova's libvirt functional base with SR-IOV and the plugin active.

    Subclasses set ``PCI_DEVICE_SPEC`` and ``PCI_ALIAS`` (lists of JSON
    strings) and start computes with :meth:`start_sriov_compute`.
    """

    ADDITIONAL_FILTERS = ['NUMATopologyFilter', 'PciPassthroughFilter']
    ADMIN_API = True
    microversion = 'latest'
    PCI_DEVICE_SPEC = []
    PCI_ALIAS = []
    #: Standard traits the placement service of this cloud does not know,
    #: as when placement runs an older os-traits than Nova.
    PLACEMENT_LACKS_TRAITS = ()
    #: ``{PF address: netdev name}``: the VFs of these PFs are NIC VFs
    #: whose ``parent_ifname`` is that name (needed for QoS ports).
    PF_NETDEVS = {}

    def setUp(self):
        if os.environ.get(ALLOW_UNVERIFIED_ENV):
            allow_unverified_nova()
        if plugin_active_in_tests():
            nova_vfio_lm.activate()
        else:
            # the scheduler filter activates the plugin when it is built
            self.useFixture(fixtures.MonkeyPatch(
                'nova_vfio_lm.activate', lambda: []))
        self.flags(api_paste_config=paste.nova_api_paste_ini(), group='wsgi')
        self.flags(device_spec=self.PCI_DEVICE_SPEC, alias=self.PCI_ALIAS,
                   group='pci')
        # The fake hosts have no sysfs; fake libvirt puts every PF at
        # function 0 and its VFs after it. Services parse device_spec as
        # they start, so this stands in before they do.
        self.useFixture(fixtures.MockPatch(
            'nova.pci.utils.is_physical_function',
            side_effect=lambda domain, bus, slot, function:
                int(function, 16) == 0))
        if self.PLACEMENT_LACKS_TRAITS:
            self._use_placement_traits(
                _OsTraitsWithout(self.PLACEMENT_LACKS_TRAITS))
        super().setUp()
        self.useFixture(fakelibvirt_hostdevs.PciHostdevFixture(
            drivers=lambda: [c.driver for c in self.computes.values()]))
        if self.PF_NETDEVS:
            self.useFixture(
                fakelibvirt_netdevs.PfNetdevFixture(self.PF_NETDEVS))
        self.ctxt = nova_context.get_admin_context()

    # -- building the cloud -------------------------------------------------

    def start_sriov_compute(self, hostname, num_pfs=1, num_vfs=4,
                            libvirt_version=LIBVIRT_VERSION,
                            qemu_version=QEMU_VERSION, device_specs=None,
                            vf_product_ids=None, lone_pfs=0, **kw):
        """Start a fake-libvirt compute with SR-IOV PFs and VFs.

        :param device_specs: this host's own ``[pci]device_spec`` (each
            compute has its own nova.conf); by default the class's.
        :param vf_product_ids: ``{VF number: product id}`` for VFs of
            another card model than fake libvirt's one.
        :param lone_pfs: PFs without VFs to add, at ``0000:82:0N.0``
            (:func:`lone_pf_address`), as a ``direct-physical`` port takes.
        """
        if device_specs is not None:
            self.flags(device_spec=device_specs, group='pci')
        pci_info = fakelibvirt.HostPCIDevicesInfo(
            num_pci=0, num_pfs=num_pfs, num_vfs=num_vfs)
        for function, product_id in (vf_product_ids or {}).items():
            device = pci_info.get_device_by_name(
                'pci_' + vf_address(function).replace(':', '_').replace(
                    '.', '_'))
            device.prod_id = product_id
            device.generate_xml()
        for slot in range(lone_pfs):
            pci_info.add_device(
                dev_type='PF', bus=LONE_PF_BUS, slot=slot, function=0,
                iommu_group=42 + slot, numa_node=0, vf_ratio=0,
                mac_address='b4:96:91:34:f4:%02x' % slot)
        return self.start_compute(
            hostname=hostname, pci_info=pci_info,
            libvirt_version=versionutils.convert_version_to_int(
                libvirt_version),
            qemu_version=versionutils.convert_version_to_int(qemu_version),
            **kw)

    def _use_placement_traits(self, traits_module):
        # placement syncs standard traits into its database once per process
        self.useFixture(fixtures.MonkeyPatch(
            'placement.objects.trait.os_traits', traits_module))
        self.useFixture(fixtures.MonkeyPatch(
            'placement.objects.trait._TRAITS_SYNCED', False))

    def upgrade_placement_traits(self):
        """Placement gets the current os-traits and is restarted."""
        import os_traits
        from placement import db_api
        from placement.objects import trait

        self._use_placement_traits(os_traits)
        # what placement does with its traits when it boots
        trait.ensure_sync(db_api.DbContext())

    def use_neutron(self):
        """Nova's libvirt neutron fixture, with physnet4 for SR-IOV ports.

        :attr:`plugged` records each hot-plug and hot-unplug of a port
        (``('attach_interface' | 'detach_interface', port id)``) before
        Nova does it.
        """
        from nova.virt.libvirt import driver

        self.neutron = self.useFixture(
            libvirt_base.LibvirtNeutronFixture(self))
        self.plugged = []
        for method in ('attach_interface', 'detach_interface'):
            original = getattr(driver.LibvirtDriver, method)

            def spy(driver_self, context, instance, *args,
                    _method=method, _original=original):
                self.plugged.append((_method, args[-1]['id']))
                return _original(driver_self, context, instance, *args)

            self.useFixture(fixtures.MonkeyPatch(
                'nova.virt.libvirt.driver.LibvirtDriver.' + method, spy))

    def use_live_migration_hypervisor(self, fail=False, hold=False):
        """Fake libvirt's migrateToURI3 carries the guest to the destination.

        The destination host defines the domain from the XML the source
        sent and the source's guest stops and is undefined, as libvirt
        does; :attr:`destination_xmls` keeps each one.
        With ``fail=True`` the hypervisor fails the migration instead. With
        ``hold=True`` each migration waits, running, until
        :meth:`release_live_migrations` lets it finish or the API aborts it
        (libvirt's ``abortJob``).
        """
        import threading  # green once Nova's test package patched it

        self.destination_xmls = []
        self.migration_flags = []
        self.held_migrations = []
        self._release = threading.Event()
        if hold:
            # a failed test must not leave a migration running for ever
            self.addCleanup(self._release.set)
        else:
            self._release.set()

        def migrateToURI3(domain, dconnuri, params, flags):
            self.migration_flags.append(flags)
            if fail:
                domain.fail_job()
                raise fakelibvirt.make_libvirtError(
                    fakelibvirt.libvirtError, 'migration failed',
                    error_code=fakelibvirt.VIR_ERR_OPERATION_FAILED)
            domain._job_type = fakelibvirt.VIR_DOMAIN_JOB_UNBOUNDED
            domain.vfio_lm_aborted = threading.Event()
            self.held_migrations.append(domain)
            for _ in range(600):  # a bound: a forgotten hold fails
                if self._release.is_set() or domain.vfio_lm_aborted.is_set():
                    break
                time.sleep(0.05)
            else:
                domain.vfio_lm_aborted.set()
            if domain.vfio_lm_aborted.is_set():
                domain._job_type = fakelibvirt.VIR_DOMAIN_JOB_CANCELLED
                raise fakelibvirt.make_libvirtError(
                    fakelibvirt.libvirtError,
                    'operation aborted: migration out job: canceled by '
                    'client', error_code=fakelibvirt.VIR_ERR_OPERATION_FAILED)
            host = urllib.parse.urlparse(dconnuri).hostname
            self.destination_xmls.append(params['destination_xml'])
            dest = self.computes[host].driver._host.get_connection()
            dest.createXML(params['destination_xml'], 0)
            domain.complete_job()
            fakelibvirt_jobs.leave_source(fakelibvirt, domain, flags)

        def abortJob(domain):
            aborted = getattr(domain, 'vfio_lm_aborted', None)
            if aborted is not None:
                aborted.set()

        self.useFixture(fixtures.MonkeyPatch(
            'nova.tests.fixtures.libvirt.Domain.migrateToURI3',
            migrateToURI3))
        self.useFixture(fixtures.MonkeyPatch(
            'nova.tests.fixtures.libvirt.Domain.jobStats',
            fakelibvirt_jobs.job_stats_reporting_end_once(fakelibvirt)))
        self.useFixture(fixtures.MonkeyPatch(
            'nova.tests.fixtures.libvirt.Domain.abortJob', abortJob))

    def wait_until_held(self, server):
        """Wait until the server's migration runs in the held hypervisor.

        :returns: that migration (``hold=True`` in
            :meth:`use_live_migration_hypervisor`).
        """
        server, migration = self.wait_for_live_migration(
            server, statuses=('running',))
        self.assertEqual('running', migration['status'])
        self.wait_until(lambda: self.held_migrations, attempts=100)
        self.assertEqual(1, len(self.held_migrations))
        return migration

    def wait_until(self, condition, attempts=300):
        """Poll ``condition`` each tenth of a second, ``attempts`` times.

        A hold point (the services reached a state), not a timing check.

        :returns: whether the condition held.
        """
        for _ in range(attempts):
            if condition():
                return True
            time.sleep(0.1)
        return False

    def wait_for_log(self, text, attempts=600):
        """Wait until the captured log holds ``text``, else fail."""
        if not self.wait_until(lambda: text in self.stdlog.logger.output,
                               attempts):
            self.fail('the log never said %r' % text)

    def database_down(self, *names, when=None):
        """``nova.db.main.api`` functions fail as with the database gone.

        :param names: the functions that fail.
        :param when: an event; if given, they fail only once it is set.
        :returns: the event that brings the database back.
        """
        from oslo_db import exception as db_exc

        import nova.db.main.api

        back = threading.Event()
        for name in names:
            def call(*args, _real=getattr(nova.db.main.api, name), **kwargs):
                if not back.is_set() and (when is None or when.is_set()):
                    raise db_exc.DBConnectionError('database gone')
                return _real(*args, **kwargs)

            self.useFixture(fixtures.MonkeyPatch(
                'nova.db.main.api.' + name, call))
        return back

    def database_down_as_called(self, rpc_method, *names):
        """The database goes down as ``ComputeAPI.rpc_method`` is called.

        As a failover while that call waits in its queue: the ``names``
        of ``nova.db.main.api`` fail from then on (:meth:`database_down`).

        :returns: the event that brings the database back.
        """
        from nova.compute import rpcapi

        down = threading.Event()
        back = self.database_down(*names, when=down)
        real_call = getattr(rpcapi.ComputeAPI, rpc_method)

        def call(*args, **kwargs):
            down.set()
            return real_call(*args, **kwargs)

        self.useFixture(fixtures.MonkeyPatch(
            'nova.compute.rpcapi.ComputeAPI.' + rpc_method, call))
        return back

    def quick_backend_wait(self):
        """The plugin's wait for the database and neutron polls each 0.1 s."""
        self.useFixture(fixtures.MonkeyPatch(
            'nova_vfio_lm.backend_wait.POLL', 0.1))

    def use_stock_nova(self, cls, method):
        """Run ``cls.method`` as Nova does without the plugin.

        For the tests of a peer compute that does not run the plugin: both
        computes of this cloud share one process.
        """
        from nova_vfio_lm.changes import base

        self.useFixture(fixtures.MonkeyPatch(
            '%s.%s.%s' % (cls.__module__, cls.__name__, method),
            base.stock(getattr(cls, method))))

    def release_live_migrations(self):
        """Let held migrations (``hold=True``) complete."""
        self._release.set()

    def live_migrate(self, server, host=None):
        """``os-migrateLive`` and wait for the migration to end.

        :returns: the server and its newest live migration (or ``None``);
            the API's error text is in :attr:`api_error` (Nova's functional
            framework runs the conductor within the API request, so a
            refused migration comes back as an API error here; a real
            nova-api answers 202).
        """
        self.start_live_migration(server, host)
        return self.wait_for_live_migration(server)

    def start_live_migration(self, server, host=None):
        """``os-migrateLive``; returns once the conductor handed it over."""
        from nova.tests.functional.api import client

        self.api_error = None
        try:
            self.api.post_server_action(server['id'], {'os-migrateLive': {
                'host': host, 'block_migration': 'auto'}})
        except client.OpenStackApiException as exc:
            self.api_error = exc.response.text

    def wait_for_live_migration(self, server, statuses=(
            'completed', 'error', 'failed', 'cancelled')):
        """Wait for the server's newest live migration to reach a status.

        :returns: the server and that migration (or ``None``).
        """
        migrations = []
        for _ in range(100):  # a bound, not a timing assertion
            migrations = self.live_migrations(server['id'])
            if migrations and migrations[0]['status'] in statuses:
                break
            time.sleep(0.1)
        server = self.api.get_server(server['id'])
        for _ in range(100):
            if server['status'] != 'MIGRATING' or 'running' in statuses:
                break
            time.sleep(0.1)
            server = self.api.get_server(server['id'])
        return server, migrations[0] if migrations else None

    def live_migration_phases(self, server_id):
        """``[(event, seconds)]`` of the server's last live migration.

        From its instance action events; only the phases that ended.
        """
        from oslo_utils import timeutils

        actions = self.api.api_get('/servers/%s/os-instance-actions' % (
            server_id)).body['instanceActions']
        actions = [a for a in actions if a['action'] == 'live-migration']
        if not actions:
            return []
        events = self.api.api_get('/servers/%s/os-instance-actions/%s' % (
            server_id, actions[0]['request_id'])).body[
                'instanceAction']['events']
        phases = []
        for event in sorted(events, key=lambda e: e['start_time']):
            if event.get('finish_time'):
                seconds = (timeutils.parse_isotime(event['finish_time']) -
                           timeutils.parse_isotime(event['start_time']))
                phases.append((event['event'], seconds.total_seconds()))
        return phases

    def abort_live_migration(self, server, migration):
        """``DELETE /servers/{id}/migrations/{id}``, as an admin does."""
        self.api.api_delete('/servers/%s/migrations/%s' % (
            server['id'], migration['id']))

    def wait_for_claims_released(self, hostname, statuses=('claimed',)):
        """Wait for the (asynchronous) release of the host's PCI claims.

        :param statuses: the device statuses to wait for the end of; add
            ``allocated`` after deleting the host's servers.
        :returns: the addresses still in those statuses when the wait gave
            up.
        """
        def held():
            return [d.address for d in self.pci_devices(hostname)
                    if d.status in statuses]

        self.wait_until(lambda: not held(), attempts=100)
        return held()

    def live_migrations(self, server_id):
        """The server's live migrations, newest first."""
        return self.api.api_get(
            '/os-migrations?instance_uuid=%s&migration_type=live-migration'
            % server_id).body['migrations']

    def no_disk_copy(self):
        """Resize and cold migration without copying disk files.

        The fake hosts have no disks to copy between them; everything else
        in the move runs for real.
        """
        return fixtures.MockPatch(
            'nova.virt.libvirt.driver.LibvirtDriver'
            '.migrate_disk_and_power_off', return_value='{}')

    def create_plain_flavor(self):
        """A flavor without PCI devices, for a server that must have none.

        Nova's ``_build_server`` without a flavor takes the first of the
        API's list, sorted by id: a PCI flavor whose UUID sorts before the
        default flavors' ids would be taken.
        """
        return self._create_flavor(memory_mb=512, vcpu=1, disk=1,
                                   ephemeral=0)

    def create_pci_flavor(self, alias_name, count=1, name=None):
        extra_spec = {'pci_passthrough:alias': '%s:%d' % (alias_name, count)}
        return self._create_flavor(name=name, extra_spec=extra_spec)

    def boot(self, flavor_id, name='vm', **kw):
        """Create a server and wait until it is ACTIVE or ERROR."""
        server = self._build_server(name=name, flavor_id=flavor_id,
                                    networks='none', **kw)
        server = self.api.post_server({'server': server})
        for _ in range(100):  # a bound, not a timing assertion
            server = self.api.get_server(server['id'])
            if server['status'] != 'BUILD':
                break
            time.sleep(0.1)
        return server

    def add_sriov_agent_providers(self, hostname, bandwidth, traits):
        """The providers neutron's SR-IOV agent reports for a host.

        Neutron names each PF's provider ``<host>:NIC Switch agent:<PF
        netdev>``; Nova reads the netdev name from it to pick a VF of the
        PF that holds a port's bandwidth allocation.

        :param bandwidth: ``{PF netdev name: kbit/s each way}``; 0 gives
            that PF a provider without bandwidth inventory.
        :param traits: each PF provider's traits (physnet, vnic type).
        :returns: ``{PF netdev name: provider uuid}``.
        """
        import os_resource_classes as orc

        agent = self._add_provider('%s:NIC Switch agent' % hostname,
                                   self.compute_rp_uuids[hostname])
        for trait in traits:
            self._create_trait(trait)
        providers = {}
        for ifname, kbps in bandwidth.items():
            rp_uuid = self._add_provider(
                '%s:NIC Switch agent:%s' % (hostname, ifname), agent)
            if kbps:
                self._update_inventory(rp_uuid, {
                    'resource_provider_generation': self.placement.get(
                        '/resource_providers/%s' % rp_uuid).body[
                            'generation'],
                    'inventories': {
                        orc.NET_BW_IGR_KILOBIT_PER_SEC: {'total': kbps},
                        orc.NET_BW_EGR_KILOBIT_PER_SEC: {'total': kbps}}})
            self._set_provider_traits(rp_uuid, traits)
            providers[ifname] = rp_uuid
        return providers

    def _add_provider(self, name, parent):
        from oslo_utils import uuidutils

        rp_uuid = uuidutils.generate_uuid()
        self.placement.post('/resource_providers', version='1.20', body={
            'name': name, 'uuid': rp_uuid, 'parent_provider_uuid': parent})
        return rp_uuid

    def enable_pci_in_placement(self):
        """Report PCI devices to placement and schedule them there."""
        self.flags(report_in_placement=True, group='pci')
        self.flags(pci_in_placement=True, group='filter_scheduler')

    # -- looking at it ------------------------------------------------------

    def pci_providers(self, hostname):
        """The PCI resource providers below a compute's root provider."""
        root = self.compute_rp_uuids[hostname]
        return [rp for rp in self._get_all_rps_in_a_tree(root)
                if rp['uuid'] != root]

    def pci_usages(self, hostname):
        """``{provider name: usages}`` of a host's PCI providers."""
        return {rp['name']: self._get_provider_usages(rp['uuid'])
                for rp in self.pci_providers(hostname)}

    def provider_traits(self, rp_uuid):
        return set(self._get_provider_traits(rp_uuid))

    def assert_nothing_claimed(self, hostname):
        """No PCI device of the host is in use, in Nova or in placement."""
        devices = self.pci_devices(hostname)
        self.assertEqual(
            [], [(d.address, d.status) for d in devices
                 if not d.is_available()])
        for name, usages in self.pci_usages(hostname).items():
            self.assertEqual({}, {rc: used for rc, used in usages.items()
                                  if used}, name)

    def pci_devices(self, hostname):
        node = objects.ComputeNode.get_by_nodename(self.ctxt, hostname)
        return objects.PciDeviceList.get_by_compute_node(self.ctxt, node.id)

    def pci_counts(self, hostname):
        """``(total, free)`` PCI devices of a host, from the database."""
        devices = self.pci_devices(hostname)
        return len(devices), len([d for d in devices if d.is_available()])

    def pci_pools(self, hostname):
        """The scheduler-facing PCI pools the compute reported."""
        node = objects.ComputeNode.get_by_nodename(self.ctxt, hostname)
        return [pool.to_dict() if hasattr(pool, 'to_dict') else dict(pool)
                for pool in node.pci_device_pools or []]

    def server_pci_devices(self, server_id):
        instance = objects.Instance.get_by_uuid(
            self.ctxt, server_id, expected_attrs=['pci_devices'])
        return list(instance.pci_devices)

    def server_pci_requests(self, server_id):
        return objects.InstancePCIRequests.get_by_instance_uuid(
            self.ctxt, server_id).requests

    def domain_xml(self, hostname, server_id):
        conn = self.computes[hostname].driver._host.get_connection()
        return conn.lookupByUUIDString(server_id).XMLDesc(0)

    def guest_hostdevs(self, hostname, server_id):
        """``[(source address, managed)]`` of the guest's PCI hostdevs."""
        return [(_source_address(hostdev), hostdev.get('managed'))
                for hostdev in fakelibvirt_hostdevs.pci_hostdevs_of(
                    self.domain_xml(hostname, server_id))]

    @staticmethod
    def hostdev_interfaces(xml):
        """``{MAC: (VF address, managed)}`` of a guest XML's SR-IOV ports.

        These are the ``<interface type='hostdev'>`` of neutron ports.
        """
        found = etree.fromstring(xml).findall(
            "./devices/interface[@type='hostdev']")
        return {iface.find('./mac').get('address'):
                (_source_address(iface), iface.get('managed'))
                for iface in found}

    @staticmethod
    def xml_text(element):
        return etree.tostring(element, encoding='unicode')
