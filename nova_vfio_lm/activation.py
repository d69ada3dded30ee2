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

"""Turn the plugin on in a Nova process.

Activation is explicit and idempotent. On Nova 2024.x it first imports
``nova.monkey_patch``, exactly as every Nova 2024.x service entry point does,
so eventlet is patched before the plugin imports any Nova module. On native
releases Nova's own entry points choose their concurrency backend, so the
plugin imports nothing that would decide it for them.
"""

import threading

from nova_vfio_lm import series as series_mod

_LOCK = threading.Lock()
_ACTIVE_SERIES = None
#: The internals the plugin relies on, as found before its first change
#: (one of them, the alias schema, it extends in place on 2024.x).
_RELIED_FOUND = {}


def _prepare(nova_series):
    if not nova_series.native:
        import nova.monkey_patch  # noqa: F401


class ActivationError(RuntimeError):
    """A change could not be applied to the installed Nova."""


def activate():
    """Apply every change this Nova needs; return all their statuses.

    :raises ActivationError: naming the change that failed; a service must
        not run with half of the plugin applied.
    """
    global _ACTIVE_SERIES
    nova_series = series_mod.detect()
    with _LOCK:
        _prepare(nova_series)
        import nova.conf

        from nova_vfio_lm import changes
        from nova_vfio_lm import conf

        conf.register_opts(nova.conf.CONF)
        if not _RELIED_FOUND:
            _RELIED_FOUND.update(relied_on_found())
        result = []
        for change in changes.ALL:
            try:
                result.append(change.apply(nova_series))
            except Exception as exc:
                raise ActivationError(
                    'nova-vfio-lm change %s failed on nova %s: %s' % (
                        change.name, nova_series.version, exc)) from exc
        _verify(nova_series, nova.conf.CONF)
        _ACTIVE_SERIES = nova_series
    return result


def unverified(nova_series):
    """What differs from the Nova code the plugin was verified on.

    The plugin's wrapped callables (as found when first wrapped in this
    process) and the internals it relies on, against the record of the
    installed series (:mod:`nova_vfio_lm.verified_nova`).
    """
    from nova_vfio_lm.changes import base
    from nova_vfio_lm import verified_nova

    found = dict(base.WRAPPED)
    found.update(relied_on_found())
    return verified_nova.differences(nova_series.name, found)


def relied_on_found():
    """Fingerprints of the relied-on internals, as Nova had them."""
    from nova_vfio_lm import verified_nova

    return dict(_RELIED_FOUND) or verified_nova.current(
        verified_nova.RELIED_ON)


def _verify(nova_series, conf):
    """Refuse a Nova whose wrapped code differs, unless told to run on it.

    :raises ActivationError: naming the Nova version and each difference.
    """
    lines = unverified(nova_series)
    if not lines:
        return
    if conf.vfio_lm.allow_unverified_nova:
        from oslo_log import log as logging

        log = logging.getLogger(__name__)
        for line in lines:
            log.warning('nova-vfio-lm was not verified on nova %s: %s '
                        '([vfio_lm] allow_unverified_nova = true: running '
                        'anyway)', nova_series.version, line)
        return
    raise ActivationError(
        'nova-vfio-lm was not verified on nova %s (series %s): %s. Install '
        'the Nova release the plugin was verified on, a plugin release '
        'verified on this one, or set [vfio_lm] allow_unverified_nova = '
        'true to run anyway.' % (nova_series.version, nova_series.name,
                                 '; '.join(lines)))


def is_active():
    return _ACTIVE_SERIES is not None


def statuses(nova_series=None):
    """What each change does in this process, without applying anything."""
    nova_series = nova_series or series_mod.detect()
    from nova_vfio_lm import changes
    return [change.status(nova_series) for change in changes.ALL]
