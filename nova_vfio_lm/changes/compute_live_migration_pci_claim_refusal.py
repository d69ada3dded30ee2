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

"""Refuse, not fail, a live migration whose destination VFs are gone.

Nova 2025.1+ claims the destination VFs of flavor PCI requests in the
destination's pre-check, but lets the PCI tracker's
``PciDeviceRequestFailed`` escape when they are no longer free (another
migration or boot took them after the scheduler chose the host). The
conductor then treats that as an unexpected error and puts the server, which
never left its source, into ERROR. This change turns that failure into the
``MigrationPreCheckError`` the conductor expects, naming the host, so the
server stays ACTIVE and the conductor may try another host. Before 2025.1
the plugin's own claim (:mod:`compute_live_migration_pci_claim`) already
refuses this way.
"""

from nova_vfio_lm.changes import base


class ComputeLiveMigrationPciClaimRefusal(base.Change):
    name = 'compute_live_migration_pci_claim_refusal'
    summary = ('no free VF left on the destination refuses the migration '
               'at pre-check instead of putting the server in ERROR')
    series = base.NATIVE_SERIES

    def _apply(self):
        from nova.compute import manager
        from nova import exception

        def make(original):
            def _flavor_based_pci_claim(self, ctxt, instance, pci_requests):
                try:
                    return original(self, ctxt, instance, pci_requests)
                except exception.PciDeviceRequestFailed as exc:
                    raise exception.MigrationPreCheckError(
                        reason='not enough free live-migratable PCI devices '
                               'on %s: %s' % (self.host,
                                              exc.format_message()))
            return _flavor_based_pci_claim

        base.wrap(manager.ComputeManager, '_flavor_based_pci_claim', make)


CHANGE = ComputeLiveMigrationPciClaimRefusal()
