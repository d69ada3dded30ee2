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
        result = []
        for change in changes.ALL:
            try:
                result.append(change.apply(nova_series))
            except Exception as exc:
                raise ActivationError(
                    'nova-vfio-lm change %s failed on nova %s: %s' % (
                        change.name, nova_series.version, exc)) from exc
        _ACTIVE_SERIES = nova_series
    return result


def is_active():
    return _ACTIVE_SERIES is not None


def statuses(nova_series=None):
    """What each change does in this process, without applying anything."""
    nova_series = nova_series or series_mod.detect()
    from nova_vfio_lm import changes
    return [change.status(nova_series) for change in changes.ALL]
