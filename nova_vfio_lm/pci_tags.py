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

"""The boolean PCI tags the plugin understands, and their one parser.

``live_migratable`` and ``managed`` are written by operators in
``[pci]device_spec`` and ``[pci]alias`` as any boolean word that Nova's
``oslo_utils.strutils`` accepts, in any case. Nova 2025.1+ stores them as the
strings ``"true"``/``"false"``; the plugin stores exactly the same so that a
cloud keeps its configuration and database rows when it upgrades Nova.
"""

from oslo_utils import strutils

LIVE_MIGRATABLE = 'live_migratable'
MANAGED = 'managed'
#: Tags of ``[pci]device_spec`` that the plugin normalises.
DEVICE_SPEC_TAGS = (MANAGED, LIVE_MIGRATABLE)

TRUE = 'true'
FALSE = 'false'


class InvalidTagValue(ValueError):
    """A boolean PCI tag holds a word that is not a boolean."""

    def __init__(self, tag, value):
        self.tag = tag
        self.value = value
        super().__init__(
            '%s=%r is not a boolean; use one of %s' % (
                tag, value, ', '.join(sorted(strutils.TRUE_STRINGS +
                                             strutils.FALSE_STRINGS))))


def normalise(tag, value):
    """Return ``"true"`` or ``"false"`` for an operator's boolean word.

    :param tag: the tag name, used in the error message.
    :param value: what the operator wrote (``yes``, ``No``, ``1``, ...).
    :raises InvalidTagValue: for anything else, naming tag and value.
    """
    try:
        return TRUE if strutils.bool_from_string(
            value, strict=True) else FALSE
    except (ValueError, TypeError):
        raise InvalidTagValue(tag, value)
