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

"""Accept ``live_migratable`` in ``[pci]alias``.

Stock Nova 2024.1/2024.2 validates each alias against a closed JSON schema,
so an alias with ``live_migratable`` makes every server create or resize
with that flavor fail. This change admits the key and stores it in the
``InstancePCIRequest`` spec as ``"true"``/``"false"``, byte for byte what
Nova 2025.1+ stores, so a later Nova upgrade reads the same rows. Any other
word is refused with ``PciInvalidAlias`` naming ``[pci]alias``, the alias
and the value.
"""

from nova_vfio_lm.changes import base
from nova_vfio_lm import pci_tags


def normalise_aliases(aliases):
    """Normalise ``live_migratable`` in parsed aliases, in place."""
    from nova import exception

    for name, (_numa_policy, specs) in aliases.items():
        for spec in specs:
            if spec.get(pci_tags.LIVE_MIGRATABLE) is None:
                continue
            try:
                spec[pci_tags.LIVE_MIGRATABLE] = pci_tags.normalise(
                    pci_tags.LIVE_MIGRATABLE, spec[pci_tags.LIVE_MIGRATABLE])
            except pci_tags.InvalidTagValue as exc:
                raise exception.PciInvalidAlias(
                    reason='[pci]alias %r: %s' % (name, exc))
    return aliases


class PciAliasLiveMigratable(base.Change):
    name = 'pci_alias_live_migratable'
    summary = '[pci]alias accepts live_migratable, stored as true/false'
    series = frozenset({29, 30})

    def _apply(self):
        from nova.pci import request

        request._ALIAS_SCHEMA['properties'].setdefault(
            pci_tags.LIVE_MIGRATABLE, {'type': 'string'})

        def make(original):
            def _get_alias_from_config():
                return normalise_aliases(original())
            return _get_alias_from_config

        base.wrap(request, '_get_alias_from_config', make)


CHANGE = PciAliasLiveMigratable()
