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

"""Parse ``live_migratable`` and ``managed`` in ``[pci]device_spec``.

Stock Nova 2024.1/2024.2 keeps any unknown device_spec key as a free-form
pool tag, so ``live_migratable=yes`` becomes the tag ``"yes"`` and a typo
goes unnoticed. This change normalises both tags to ``"true"``/``"false"``
exactly as Nova 2025.1+ does, and rejects any other word with
``PciConfigInvalidSpec`` naming the entry and the value; nova-compute parses
the spec in ``init_host``, so a wrong value stops the service at start.
"""

from nova_vfio_lm.changes import base
from nova_vfio_lm import pci_tags


def normalise_spec_tags(spec):
    """Normalise the boolean tags of one parsed ``PciDeviceSpec``."""
    from nova import exception
    from oslo_serialization import jsonutils

    for tag in pci_tags.DEVICE_SPEC_TAGS:
        if spec.tags.get(tag) is None:
            continue
        try:
            spec.tags[tag] = pci_tags.normalise(tag, spec.tags[tag])
        except pci_tags.InvalidTagValue as exc:
            raise exception.PciConfigInvalidSpec(
                reason='entry %s: %s' % (
                    jsonutils.dumps(spec.dev_spec_conf, sort_keys=True),
                    exc))


class PciDeviceSpecTags(base.Change):
    name = 'pci_device_spec_tags'
    summary = ('[pci]device_spec live_migratable/managed parsed to '
               'true/false; wrong values stop nova-compute')
    series = frozenset({29, 30})

    def _apply(self):
        from nova.pci import devspec

        def make(original):
            def _init_dev_details(spec):
                original(spec)
                normalise_spec_tags(spec)
            return _init_dev_details

        base.wrap(devspec.PciDeviceSpec, '_init_dev_details', make)


CHANGE = PciDeviceSpecTags()
