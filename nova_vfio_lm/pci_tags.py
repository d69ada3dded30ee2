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
