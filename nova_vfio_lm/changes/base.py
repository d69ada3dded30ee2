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

"""What a change to Nova's behaviour looks like, and how it reports itself.

Each change lives in its own module of :mod:`nova_vfio_lm.changes`, names the
Nova series that need it, applies itself idempotently, and can say whether it
is applied in this process. ``nova-vfio-lm status`` lists them all.
"""

import dataclasses

from nova_vfio_lm import series as series_mod

APPLIED = 'applied'
NOT_NEEDED = 'not needed'
NOT_APPLIED = 'not applied'


@dataclasses.dataclass(frozen=True)
class ChangeStatus:
    name: str
    state: str
    why: str

    def __str__(self):
        return '%-44s %-12s %s' % (self.name, self.state, self.why)


class _EverySeries:
    """Every Nova series, native ones included (for the plugin's extras)."""

    def __contains__(self, major):
        return True

    def __bool__(self):
        return True


#: For changes that are the plugin's own extras, needed on every series.
EVERY_SERIES = _EverySeries()


class _NativeSeries:
    """The Nova series with native support (for fixes to native code)."""

    def __contains__(self, major):
        return major >= series_mod.FIRST_NATIVE_MAJOR

    def __bool__(self):
        return True


#: For changes that mend Nova 2025.1+'s own implementation.
NATIVE_SERIES = _NativeSeries()


class Change:
    """One small, named change to Nova, gated by Nova series.

    Subclasses set :attr:`name`, :attr:`summary` and :attr:`series` (the
    Nova major versions that need it) and implement :meth:`_apply`.
    """

    name = None
    summary = None
    #: Nova major versions that need this change, EVERY_SERIES for an
    #: extra Nova does not provide at all, or NATIVE_SERIES for a mend of
    #: Nova 2025.1+'s own implementation.
    series = frozenset()

    def __init__(self):
        self._applied = False

    def needed(self, nova_series):
        return nova_series.major in self.series

    @property
    def applied(self):
        return self._applied

    def apply(self, nova_series):
        """Apply the change if this Nova needs it; safe to call again."""
        if self._applied or not self.needed(nova_series):
            return self.status(nova_series)
        self._apply()
        self._applied = True
        return self.status(nova_series)

    def status(self, nova_series):
        if self._applied:
            return ChangeStatus(self.name, APPLIED, self.summary)
        if not self.needed(nova_series):
            return ChangeStatus(
                self.name, NOT_NEEDED,
                'nova %s (%s) does this natively' % (
                    nova_series.version, nova_series.name)
                if nova_series.native else
                'mends code nova %s does not have' % nova_series.version
                if self.series is NATIVE_SERIES else
                'not part of nova %s' % nova_series.version)
        return ChangeStatus(self.name, NOT_APPLIED,
                            'plugin not activated in this process')

    def _apply(self):
        raise NotImplementedError()


#: ``{dotted name: fingerprint}`` of each Nova attribute wrapped in this
#: process, taken at its first wrap (:mod:`nova_vfio_lm.verified_nova`).
WRAPPED = {}


def wrap(owner, attr, make_wrapper):
    """Replace ``owner.attr`` by ``make_wrapper(original)``, once.

    Several changes may wrap the same attribute, each its own rule. Each
    wrapper is marked with its maker, so a second call with the same maker
    finds it and does nothing, even if two copies of a change module were
    imported.
    """
    current = getattr(owner, attr)
    name = '%s.%s' % (getattr(owner, '__qualname__', None) and '%s.%s' % (
        owner.__module__, owner.__qualname__) or owner.__name__, attr)
    if name.startswith('nova.') and name not in WRAPPED:
        # Nova's own code as found, before any fixture or later change
        from nova_vfio_lm import verified_nova

        WRAPPED[name] = verified_nova.fingerprint(stock(current))
    key = '%s.%s' % (make_wrapper.__module__, make_wrapper.__qualname__)
    found = current
    while getattr(found, '_nova_vfio_lm_original', None) is not None:
        if getattr(found, '_nova_vfio_lm_by', None) == key:
            return
        found = found._nova_vfio_lm_original
    wrapper = make_wrapper(current)
    wrapper._nova_vfio_lm_original = current
    wrapper._nova_vfio_lm_by = key
    setattr(owner, attr, wrapper)


def stock(attribute):
    """What Nova itself has under every change's wrapper of an attribute."""
    while getattr(attribute, '_nova_vfio_lm_original', None) is not None:
        attribute = attribute._nova_vfio_lm_original
    return attribute


def add_migrate_data_fields(new_fields, cls_name='LibvirtLiveMigrateData'):
    """Add fields to a live-migration data class once, as registered ones.

    A peer without the plugin ignores fields it does not know when it
    reads the data.

    :param new_fields: ``{name: oslo.versionedobjects field}``.
    :param cls_name: the class in ``nova.objects.migrate_data``.
    """
    from nova.objects import migrate_data
    from oslo_versionedobjects import base as ovo_base

    cls = getattr(migrate_data, cls_name)
    missing = {name: field for name, field in new_fields.items()
               if name not in cls.fields}
    if not missing:
        return
    cls.fields = dict(cls.fields, **missing)
    # give the new fields the typed properties registration gives the rest
    ovo_base._make_class_properties(cls)
