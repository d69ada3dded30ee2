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

"""Let placement drop PCI providers that cannot serve ``live_migratable``.

With ``[filter_scheduler] pci_in_placement``, Nova (every release up to at
least 2026.2) turns each flavor PCI request into placement request groups
that ask for a resource class and the alias's ``traits`` only; the
``live_migratable`` rule is applied later by the PCI filter, after placement
has already returned every candidate. This change makes an alias with
``live_migratable=yes`` require ``HW_PCI_LIVE_MIGRATABLE`` and one with
``no`` forbid it in its request groups, so placement drops unfit providers
first. It does so only while placement knows the trait: asking an older
placement for an unknown trait would fail every such request.
"""

from nova_vfio_lm.changes import base
from nova_vfio_lm import pci_pools
from nova_vfio_lm import pci_tags
from nova_vfio_lm import placement_traits


def add_live_migratable_traits(request_spec):
    """Put the trait on the request groups of each flavor PCI request."""
    groups = request_spec.requested_resources or []
    for pci_request in request_spec.pci_requests.requests:
        if pci_request.source != pci_request.FLAVOR_ALIAS:
            continue
        want = pci_pools.wanted(pci_request.spec)
        if want is None:
            continue
        prefix = '%s-' % pci_request.request_id
        for group in groups:
            if not (group.requester_id or '').startswith(prefix):
                continue
            if want == pci_tags.TRUE:
                group.required_traits = (
                    set(group.required_traits) | {placement_traits.TRAIT})
            else:
                group.forbidden_traits = (
                    set(group.forbidden_traits) | {placement_traits.TRAIT})


class PlacementPciRequestTraits(base.Change):
    name = 'placement_pci_request_traits'
    summary = ('pci_in_placement requests require/forbid '
               'HW_PCI_LIVE_MIGRATABLE per alias live_migratable')
    series = base.EVERY_SERIES

    def _apply(self):
        import nova.conf
        from nova import context as nova_context
        from nova.objects import request_spec
        from nova.scheduler.client import report

        conf = nova.conf.CONF

        def make(original):
            def generate_request_groups_from_pci_requests(self):
                result = original(self)
                if not conf.filter_scheduler.pci_in_placement:
                    return result
                if self.pci_requests and self.pci_requests.requests and (
                        placement_traits.AVAILABILITY.refresh(
                            report.report_client_singleton(),
                            nova_context.get_admin_context())):
                    add_live_migratable_traits(self)
                return result
            return generate_request_groups_from_pci_requests

        base.wrap(request_spec.RequestSpec,
                  'generate_request_groups_from_pci_requests', make)


CHANGE = PlacementPciRequestTraits()
