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

"""The SR-IOV NIC agent of one compute: the cloud's second stand-in.

ML2's ``sriovnicswitch`` driver binds a ``direct`` port to a host only if
a live ``NIC Switch agent`` there maps the port's physical network to a
PF, and a port goes ``ACTIVE`` (Neutron then tells Nova
``network-vif-plugged``) when that agent reports its VF up. The real
``neutron-sriov-nic-agent`` finds which VF carries which MAC address in
the host's sysfs and ``ip link``; this host has no such VFs. This process
reads the same facts from the fake hypervisor instead: the MAC address
and VF of each ``<interface type='hostdev'>`` of a running guest on its
host.

Everything it tells neutron-server goes over RabbitMQ through Neutron's
own agent RPC clients, as the real agent's does: state reports with its
``physical_device_mappings`` and each PF's bandwidth (from which
neutron-server's placement plugin makes the PF's bandwidth provider in
placement) every ``report_interval``, and devices up
(``update_device_list``) and down (``update_device_down``) as their VFs
appear and go. Like the real agent it listens to neutron-server's port
update notifications (a rolled-back migration rebinds the port, which
puts it ``DOWN``) and reports the port's VF again; a VF whose port has no
active binding here yet (a live migration's destination before Nova
activates it) is asked about again until it has one, where the real
agent waits for the binding-activated notification. It sets nothing on
any VF (VLAN, spoof check, rates): there is none.

``direct-physical`` ports (a whole PF in a guest's plain ``<hostdev>``)
are none of its business, as they are none of the real agent's: ML2's
``sriovnicswitch`` binds them without asking any agent and makes them
``ACTIVE`` at once, the real agent sees only the VFs of the PFs it maps
and drops their port-update notifications. This one ignores them alike:
it reads only ``<interface type='hostdev'>`` elements and drops the
notifications of ports whose ``binding:vnic_type`` is
``direct-physical``.

It runs as the release's own agent does: under eventlet where that one
does (2024.x), with native threads where it does not (2026.2).

Run: ``python -m nova_vfio_lm_cloud.sriov_agent --config-file
agent.ini`` (``[DEFAULT] host, transport_url``, ``[sriov_nic]
physical_device_mappings``, ``[agent] report_interval``,
``[fake_hypervisor] path``).
"""

import logging
import sys
import time

from oslo_config import cfg

from nova_vfio_lm_cloud import stand_in_gate

LOG = logging.getLogger('sriov-agent-standin')

OPTS = {
    'DEFAULT': [cfg.StrOpt('host', required=True)],
    'sriov_nic': [
        cfg.ListOpt('physical_device_mappings', default=[]),
        # netdev:egress:ingress (kbit/s), as the real agent's option
        cfg.ListOpt('resource_provider_bandwidths', default=[]),
    ],
    'fake_hypervisor': [cfg.StrOpt('path', required=True)],
}
#: Seconds between two looks at the host's guests.
SCAN_INTERVAL = 1.0
#: ``portbindings.VNIC_DIRECT_PHYSICAL``: a PF port, which no agent handles.
VNIC_DIRECT_PHYSICAL = 'direct-physical'


def device_mappings(entries):
    """``{physnet: [netdev, ...]}`` from ``physnet:netdev`` entries."""
    mappings = {}
    for entry in entries:
        physnet, _, netdev = entry.partition(':')
        if not physnet or not netdev:
            raise ValueError('invalid [sriov_nic] physical_device_mappings '
                             'entry %r: physnet:netdev expected' % entry)
        mappings.setdefault(physnet, []).append(netdev)
    return mappings


def bandwidths(entries):
    """``{netdev: {'egress': kbps, 'ingress': kbps}}`` from the option."""
    found = {}
    for entry in entries:
        fields = entry.split(':')
        if len(fields) != 3 or not all(f.isdigit() for f in fields[1:]):
            raise ValueError('invalid [sriov_nic] resource_provider_bandwidths'
                             ' entry %r: netdev:egress:ingress expected'
                             % entry)
        found[fields[0]] = {'egress': int(fields[1]),
                            'ingress': int(fields[2])}
    return found


def assigned_devices(store):
    """``{(MAC, VF)}`` of the host's running guests' hostdev interfaces."""
    from nova_vfio_lm_cloud import hypervisor

    found = set()
    for data in store.all().values():
        if data.get('running'):
            found.update(hypervisor.hostdev_interfaces(data['xml']))
    return found


def use_eventlet_like_the_release():
    """Monkey-patch as the release's own agent command does, if it does."""
    import importlib.util

    try:
        eventlet_agents = importlib.util.find_spec(
            'neutron.cmd.eventlet.plugins')
    except ImportError:  # 2026.2: no neutron.cmd.eventlet at all
        eventlet_agents = None
    if eventlet_agents:
        import neutron.cmd.eventlet  # noqa: F401 - patches on import


class PortUpdates:
    """RPC endpoint of the notifications the real agent listens to."""

    def __init__(self, agent):
        import oslo_messaging

        self.target = oslo_messaging.Target(version='1.5')
        self.agent = agent

    def port_update(self, context, **kwargs):
        port = kwargs.get('port', {})
        if port.get('binding:vnic_type') == VNIC_DIRECT_PHYSICAL:
            return  # as the real agent: not an agent's port
        mac = port.get('mac_address')
        if mac:
            self.agent.updated.add(mac.lower())

    def binding_activate(self, context, **kwargs):
        pass  # the main loop asks again about VFs without a binding

    def binding_deactivate(self, context, **kwargs):
        pass

    def network_update(self, context, **kwargs):
        pass


class Agent:
    """One compute's agent: its state reports and its devices."""

    def __init__(self, conf):
        from neutron.agent import rpc as agent_rpc
        from neutron.api.rpc.callbacks import resources
        from neutron_lib.agent import topics
        from neutron_lib import constants
        from neutron_lib import context

        from nova_vfio_lm_cloud import hypervisor

        self.rpc = agent_rpc
        self.host = conf.host
        self.interval = conf.AGENT.report_interval
        self.store = hypervisor.Hypervisor(
            conf.fake_hypervisor.path).host(conf.host)
        self.context = context.get_admin_context_without_session()
        self.plugin = agent_rpc.PluginApi(topics.PLUGIN)
        self.reports = agent_rpc.PluginReportStateAPI(topics.REPORTS)
        self.agent_id = 'nic-switch-agent.%s' % conf.host
        self.no_binding = constants.NO_ACTIVE_BINDING
        mappings = device_mappings(conf.sriov_nic.physical_device_mappings)
        rp_bandwidths = bandwidths(
            conf.sriov_nic.resource_provider_bandwidths)
        self.state = {
            'binary': constants.AGENT_PROCESS_NIC_SWITCH,
            'host': conf.host,
            'topic': constants.L2_AGENT_TOPIC,
            'configurations': {
                'device_mappings': mappings,
                # neutron-server's placement plugin makes a bandwidth
                # provider of each PF under the compute's provider
                constants.RP_BANDWIDTHS: rp_bandwidths,
                constants.RP_INVENTORY_DEFAULTS: {
                    'allocation_ratio': 1.0, 'min_unit': 1,
                    'step_size': 1, 'reserved': 0},
                'resource_provider_hypervisors': {
                    netdev: conf.host for netdev in rp_bandwidths},
                'extensions': [], 'devices': 0},
            'agent_type': constants.AGENT_TYPE_NIC_SWITCH,
            'resource_versions': resources.LOCAL_RESOURCE_VERSIONS,
            'start_flag': True}
        #: devices neutron knows as up or down on this host
        self.reported = set()
        #: MACs of ports neutron-server said were updated
        self.updated = set()
        self.connection = agent_rpc.create_consumers(
            [PortUpdates(self)], topics.AGENT,
            [[topics.PORT, topics.UPDATE],
             [topics.PORT_BINDING, topics.ACTIVATE],
             [topics.PORT_BINDING, topics.DEACTIVATE]])

    def report_state(self, devices):
        self.state['configurations']['devices'] = len(devices)
        # the first report is a call, so a refused one shows in the log
        self.reports.report_state(self.context, self.state,
                                  use_call='start_flag' in self.state)
        self.state.pop('start_flag', None)
        self.state.pop('resource_versions', None)

    def treat_added(self, added):
        """Tell neutron of new VFs; keep those it knows no binding for."""
        infos = [self.rpc.DeviceInfo(mac, slot) for mac, slot in added]
        details = self.plugin.get_devices_details_list(
            self.context, infos, self.agent_id, self.host)
        up, down = set(), set()
        by_mac = {mac: (mac, slot) for mac, slot in added}
        for found in details:
            # the MAC, or the (MAC, VF) pair asked about
            mac = found['device']
            mac = (mac if isinstance(mac, str) else mac[0]).lower()
            device = by_mac.get(mac, (mac, None))
            if 'port_id' in found:
                (up if found['admin_state_up'] else down).add(device)
            elif self.no_binding in found:
                LOG.info('VF %s (MAC %s): its port has no active binding '
                         'here yet', device[1], device[0])
            else:
                LOG.info('MAC %s on VF %s is no port of neutron\'s',
                         device[0], device[1])
        if up or down:
            self.plugin.update_device_list(
                self.context, [self.rpc.DeviceInfo(*d) for d in up],
                [self.rpc.DeviceInfo(*d) for d in down], self.agent_id,
                self.host)
            LOG.info('devices up: %s, down: %s', sorted(up), sorted(down))
        self.reported |= up | down

    def treat_removed(self, removed):
        for mac, slot in removed:
            self.plugin.update_device_down(
                self.context, self.rpc.DeviceInfo(mac, slot), self.agent_id,
                self.host)
            LOG.info('device gone: VF %s (MAC %s)', slot, mac)
            self.reported.discard((mac, slot))

    def run_once(self):
        current = assigned_devices(self.store)
        updated, self.updated = self.updated, set()
        self.reported = {d for d in self.reported if d[0] not in updated}
        added = current - self.reported
        removed = self.reported - current
        if added:
            self.treat_added(added)
        if removed:
            self.treat_removed(removed)
        return current

    def run(self):
        next_report = 0.0
        current = set()
        while True:
            try:
                if time.monotonic() >= next_report:
                    self.report_state(current)
                    next_report = time.monotonic() + self.interval
                current = self.run_once()
            except Exception:  # the real agent resyncs on the next loop
                LOG.exception('RPC to neutron-server failed; retrying')
            time.sleep(SCAN_INTERVAL)


def main(argv=None):
    stand_in_gate.check('The SR-IOV NIC agent stand-in')
    use_eventlet_like_the_release()  # before neutron's modules load
    from neutron.conf.agent import common as agent_conf
    from neutron_lib import rpc as n_rpc
    import oslo_messaging

    logging.basicConfig(
        level=logging.INFO, stream=sys.stderr,
        format='%(asctime)s %(process)d %(levelname)s %(name)s %(message)s')
    conf = cfg.CONF  # neutron's RPC clients read their options there
    for group, opts in OPTS.items():
        conf.register_opts(opts, group=None if group == 'DEFAULT' else group)
    agent_conf.register_agent_state_opts_helper(conf)  # [AGENT]
    conf(sys.argv[1:] if argv is None else argv, project='neutron',
         default_config_files=[])
    # neutron's topics live in its own exchange, not oslo's default
    oslo_messaging.set_transport_defaults(control_exchange='neutron')
    n_rpc.init(conf)
    agent = Agent(conf)
    LOG.info('NIC Switch agent stand-in of %s: device mappings %s',
             conf.host, agent.state['configurations']['device_mappings'])
    agent.run()


if __name__ == '__main__':
    sys.exit(main())
