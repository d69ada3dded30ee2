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

"""Which PCI pools may serve a request, by ``live_migratable``.

This is the one place the truth table lives. The scheduler (pool filtering
and the plugin's filter) and the compute's PCI claim both use it, so they
can never disagree. Same semantics as Nova 2025.1+:

=================================  =====================================
the request's specs say            pools that may serve it
=================================  =====================================
every spec ``true``                only pools tagged ``true``
every spec ``false``               only pools tagged ``false`` (untagged
                                   devices are not taken)
anything else (mixed, or unset)    no filtering by this tag
=================================  =====================================
"""

from nova_vfio_lm import pci_tags


def wanted(specs):
    """``"true"``/``"false"`` if every spec agrees on it, else ``None``."""
    values = {spec.get(pci_tags.LIVE_MIGRATABLE) for spec in specs}
    if len(values) == 1:
        value = values.pop()
        if value in (pci_tags.TRUE, pci_tags.FALSE):
            return value
    return None


def filter_pools(pools, request):
    """The pools that may serve ``request`` by the table above.

    :param pools: PCI pool dicts, as ``PciDeviceStats`` keeps them.
    :param request: an ``InstancePCIRequest``.
    """
    want = wanted(request.spec)
    if want is None:
        return pools
    return [pool for pool in pools
            if pool.get(pci_tags.LIVE_MIGRATABLE) == want]


def is_live_migratable_request(request):
    """Whether a PCI request asks for live-migratable devices only."""
    return wanted(request.spec) == pci_tags.TRUE
