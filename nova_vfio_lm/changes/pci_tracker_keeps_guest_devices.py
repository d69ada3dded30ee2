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

"""Never free or hand out a PCI device that a guest running on this host uses.

A resource audit frees the devices of servers Nova does not place on the
host, a live migration's rollback frees the destination's devices, a
refused pre-check frees its claims: all by the database's word. When the
database is wrong (the migration failed after the switch-over and the
guest runs on the destination while Nova keeps the server on the source),
that hands a VF in use to the next server. This change, on every series,
has those frees ask the hypervisor first
(:mod:`nova_vfio_lm.guest_devices`): a device a running guest uses stays
claimed or allocated as it was, and the compute logs an ERROR naming the
device, the guest's server and Nova's record at every audit until an
operator acts. Once the guest is gone, the next audit frees the device.

Nor is a device freed that its own server's guest, shut off on this
host, still names: Nova's destination records a resize reverted before
the source takes the server back, and a source audit in between would
free the devices the source's guest starts on again. Frees Nova makes
after its driver undefined the guest (deletion, a confirmed resize, the
source's post-migration once the hypervisor reported the job done) are
left as they are. Whatever freed a device in use (an unchecked free,
a record edited by hand, a guest started outside Nova), every claim (a
boot, a resize, a live migration's destination) asks the hypervisor too:
a device Nova records available but a running guest of another server
uses is withheld from that claim, with an ERROR naming both servers.
"""

from oslo_log import log as logging

from nova_vfio_lm.changes import base
from nova_vfio_lm import guest_devices

LOG = logging.getLogger(__name__)

#: The admin guide's section on what to do.
OPERATOR_ACTION = ('admin guide, "A guest runs where Nova does not place '
                   'it"')


def _keep_in_books(tracker, dev):
    """Leave ``dev`` claimed or allocated, in the tracker's books too."""
    from nova.objects import fields

    books = (tracker.claims if dev.status == fields.PciDeviceStatus.CLAIMED
             else tracker.allocations)
    devices = books.setdefault(dev.instance_uuid, [])
    if dev not in devices:
        devices.append(dev)


def _keep(tracker, dev, user):
    """Keep a device a running guest uses, with an ERROR each time."""
    _keep_in_books(tracker, dev)
    LOG.error('PCI device %(address)s is in use by the running guest of '
              'server %(user)s on this host, but Nova would free it: it is '
              '%(status)s for server %(owner)s, which Nova does not place '
              'here. The device stays %(status)s until the guest is gone; '
              'see the %(action)s.',
              {'address': dev.address, 'user': user, 'status': dev.status,
               'owner': dev.instance_uuid, 'action': OPERATOR_ACTION})


def _keep_for_stopped_guest(tracker, dev):
    """Keep a device its own server's shut-off guest here still names."""
    _keep_in_books(tracker, dev)
    LOG.warning('PCI device %(address)s stays %(status)s for server '
                '%(owner)s: Nova does not place the server here, but its '
                'guest on this host, shut off, still names the device (a '
                'resize being reverted starts it again). It is freed once '
                'the guest is undefined; if it stays, see the %(action)s.',
                {'address': dev.address, 'status': dev.status,
                 'owner': dev.instance_uuid, 'action': OPERATOR_ACTION})


def _withhold(tracker, instance_uuid):
    """Take devices running guests use out of the pools for one claim.

    :returns: the devices taken out, to be put back after the claim.
    """
    from nova import exception
    from nova.objects import fields

    driver = getattr(tracker, 'vfio_lm_driver', None)
    if driver is None:
        return []
    try:
        used = guest_devices.in_use(driver)
    except Exception:
        LOG.warning('Could not ask the hypervisor which PCI devices its '
                    'guests use before a claim for server %s; claiming by '
                    "Nova's records alone.", instance_uuid, exc_info=True)
        return []
    withheld = []
    for dev in tracker.pci_devs if used else ():
        user = used.get(dev.address.lower())
        if (user is None or user == instance_uuid or
                dev.status != fields.PciDeviceStatus.AVAILABLE):
            continue
        try:
            tracker.stats.remove_device(dev)
        except (exception.PciDevicePoolEmpty, ValueError):
            continue  # in no pool: not offered anyway
        withheld.append(dev)
        LOG.error('PCI device %(address)s is available in Nova\'s records '
                  'but in use by the running guest of server %(user)s on '
                  'this host: it is not handed out to server %(uuid)s. See '
                  'the %(action)s.',
                  {'address': dev.address, 'user': user,
                   'uuid': instance_uuid, 'action': OPERATOR_ACTION})
    return withheld


class PciTrackerKeepsGuestDevices(base.Change):
    name = 'pci_tracker_keeps_guest_devices'
    summary = ('audits, rollbacks and refused pre-checks never free, and '
               'claims never hand out, a PCI device that a guest running '
               'on the host uses')
    series = base.EVERY_SERIES

    def _apply(self):
        from nova.compute import manager
        from nova.compute import resource_tracker
        from nova.pci import manager as pci_manager

        def make_setup(original):
            def _setup_pci_tracker(self, *args, **kwargs):
                result = original(self, *args, **kwargs)
                if self.pci_tracker is not None:
                    self.pci_tracker.vfio_lm_driver = self.driver
                return result
            return _setup_pci_tracker

        def make_free(original):
            def _free_device(self, dev, *args, **kwargs):
                if guest_devices.checking():
                    driver = getattr(self, 'vfio_lm_driver', None)
                    user = guest_devices.user_of(driver, dev.address)
                    if user is not None:
                        _keep(self, dev, user)
                        return None
                    if guest_devices.named_by_own_stopped_guest(
                            driver, dev.address, dev.instance_uuid):
                        _keep_for_stopped_guest(self, dev)
                        return None
                return original(self, dev, *args, **kwargs)
            return _free_device

        def make_claim(original):
            def _claim_instance(self, context, pci_requests, *args,
                                **kwargs):
                withheld = _withhold(self, pci_requests.instance_uuid)
                try:
                    return original(self, context, pci_requests, *args,
                                    **kwargs)
                finally:
                    for dev in withheld:
                        self.stats.add_device(dev)
            return _claim_instance

        def make_checked(original):
            def checked(*args, **kwargs):
                with guest_devices.hypervisor_checked():
                    return original(*args, **kwargs)
            return checked

        base.wrap(resource_tracker.ResourceTracker, '_setup_pci_tracker',
                  make_setup)
        base.wrap(pci_manager.PciDevTracker, '_free_device', make_free)
        base.wrap(pci_manager.PciDevTracker, 'clean_usage', make_checked)
        base.wrap(pci_manager.PciDevTracker, '_claim_instance', make_claim)
        for method in ('rollback_live_migration_at_destination',
                       'check_can_live_migrate_destination'):
            base.wrap(manager.ComputeManager, method, make_checked)


CHANGE = PciTrackerKeepsGuestDevices()
