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

"""Let a second PCI claim for a server add to its first.

A live migration claims a server's PCI devices on the destination in two
calls: one for its flavor VFs, one for its SR-IOV ports. Nova's PCI
tracker keeps one claim list per server and each call replaces it, so the
devices of the first call drop out of it: they are not allocated when the
migration completes and stay ``claimed`` on the destination, neither the
server's nor free. Nova 2025.1+ does the same for a server with a
live-migratable flavor VF and a port. This change, on every series, keeps
the devices of earlier claims in the list.
"""

from nova_vfio_lm.changes import base


class PciTrackerClaimsAddUp(base.Change):
    name = 'pci_tracker_claims_add_up'
    summary = ('a second PCI claim for a server adds to its first instead '
               'of replacing it (flavor VFs plus ports)')
    series = base.EVERY_SERIES

    def _apply(self):
        from nova.pci import manager

        def make(original):
            def claim_instance(self, context, pci_requests,
                               instance_numa_topology):
                uuid = pci_requests.instance_uuid
                earlier = list(self.claims.get(uuid, ()))
                devs = original(self, context, pci_requests,
                                instance_numa_topology)
                if devs and earlier:
                    self.claims[uuid] = earlier + [
                        dev for dev in devs if dev not in earlier]
                return devs
            return claim_instance

        base.wrap(manager.PciDevTracker, 'claim_instance', make)


CHANGE = PciTrackerClaimsAddUp()
