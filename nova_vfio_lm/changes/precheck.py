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

"""A rule run at the end of the destination's live-migration pre-check.

Several changes refuse a migration once Nova's own destination pre-check
has run (it may have claimed VFs by then) and, at the destination, the
plugin may claim more. Whatever fails there must free every claim the
destination made for the server before the refusal goes back to the
conductor; this is the one place that does it.
"""

from nova_vfio_lm.changes import base


def after_destination_check(rule):
    """Wrap ``ComputeManager.check_can_live_migrate_destination``.

    :param rule: ``rule(compute, ctxt, instance, migrate_data)``, run on
        what the pre-check returned; it may change ``migrate_data`` or
        raise. If it or the pre-check raises, the destination's PCI claims
        for the server are freed first.
    """
    from nova.compute import manager

    def make(original):
        def check_can_live_migrate_destination(
                self, ctxt, instance, block_migration, disk_over_commit,
                migration, limits):
            try:
                migrate_data = original(
                    self, ctxt, instance, block_migration, disk_over_commit,
                    migration, limits)
                rule(self, ctxt, instance, migrate_data)
            except Exception:
                self.rt.free_pci_device_claims_for_instance(ctxt, instance)
                raise
            return migrate_data
        return check_can_live_migrate_destination
    # base.wrap knows a wrapper by its maker: one per rule
    make.__module__ = rule.__module__
    make.__qualname__ = 'after_destination_check.' + rule.__qualname__
    base.wrap(manager.ComputeManager, 'check_can_live_migrate_destination',
              make)
