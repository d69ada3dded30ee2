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

"""A destination's audit keeps the VFs it claimed for an incoming live
migration whose record does not name it yet.

The destination claims VFs in its pre-check, but the conductor writes the
destination into the migration record only after the pre-check returned.
A resource audit of the destination in between finds neither the server
(it runs on the source) nor a migration to this host, and Nova's PCI
tracker frees the claim: the migration then completes with the guest on
VFs nobody holds. Before the tracker frees the devices of servers it does
not know, this change reads those servers again and keeps the claims of
the ones being live-migrated (task state ``migrating``); a rolled-back
server's leftovers are freed by the next audit.
"""

from nova_vfio_lm.changes import base


def migrating(context, uuids):
    """The servers among ``uuids`` that are being live-migrated."""
    from nova.compute import task_states
    from nova import objects

    if not uuids:
        return []
    found = objects.InstanceList.get_by_filters(
        context, {'uuid': sorted(uuids)}, expected_attrs=[])
    return [instance for instance in found
            if instance.task_state == task_states.MIGRATING]


class ComputeLiveMigrationClaimsKeptAtAudit(base.Change):
    name = 'compute_live_migration_claims_kept_at_audit'
    summary = ('an audit keeps VFs claimed for a live migration whose '
               'record does not name this host yet')
    series = base.EVERY_SERIES

    def _apply(self):
        from nova.pci import manager as pci_manager

        def make(original):
            def clean_usage(self, instances, migrations):
                known = {i.uuid for i in instances}
                known |= {m.instance_uuid for m in migrations}
                unknown = set(self.claims) - known
                kept = migrating(self._context, unknown)
                return original(self, list(instances) + kept, migrations)
            return clean_usage

        base.wrap(pci_manager.PciDevTracker, 'clean_usage', make)


CHANGE = ComputeLiveMigrationClaimsKeptAtAudit()
