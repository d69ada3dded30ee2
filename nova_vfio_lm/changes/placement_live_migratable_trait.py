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

"""Report ``HW_PCI_LIVE_MIGRATABLE``, and only to a placement that knows it.

With ``[pci]report_in_placement``, stock Nova 2024.1/2024.2 reports no trait
for ``live_migratable`` devices; Nova 2025.1+ reports
``HW_PCI_LIVE_MIGRATABLE`` on their resource providers, and aborts the whole
provider-tree sync when placement's os-traits predates the trait. On every
series this change puts the trait on the providers of devices tagged
``live_migratable=true`` only once placement confirms it knows the trait
(:mod:`nova_vfio_lm.placement_traits`), so an older placement costs the
trait, never the host.
"""

from nova_vfio_lm.changes import base
from nova_vfio_lm import pci_tags
from nova_vfio_lm import placement_traits


def traits_for_dev(traits, dev_spec_tags, trait_known):
    """The provider traits for one device, given what placement knows."""
    traits = set(traits)
    if dev_spec_tags.get(pci_tags.LIVE_MIGRATABLE) == pci_tags.TRUE:
        traits.add(placement_traits.TRAIT)
    if not trait_known:
        traits.discard(placement_traits.TRAIT)
    return traits


class PlacementLiveMigratableTrait(base.Change):
    name = 'placement_live_migratable_trait'
    summary = ('HW_PCI_LIVE_MIGRATABLE on live-migratable PCI providers, '
               'only once placement knows the trait')
    series = base.EVERY_SERIES

    def _apply(self):
        from nova.compute import pci_placement_translator as translator
        from nova.compute import resource_tracker
        import nova.conf

        conf = nova.conf.CONF

        def make_traits(original):
            def _get_traits_for_dev(dev_spec_tags):
                return traits_for_dev(original(dev_spec_tags), dev_spec_tags,
                                      placement_traits.AVAILABILITY.known)
            return _get_traits_for_dev

        def make_update(original):
            def _update_to_placement(self, context, compute_node, startup):
                if conf.pci.report_in_placement:
                    placement_traits.AVAILABILITY.refresh(
                        self.reportclient, context)
                return original(self, context, compute_node, startup)
            return _update_to_placement

        base.wrap(translator, '_get_traits_for_dev', make_traits)
        base.wrap(resource_tracker.ResourceTracker, '_update_to_placement',
                  make_update)


CHANGE = PlacementLiveMigratableTrait()
