"""Live migration of VFIO variant-driver VFs for OpenStack Nova.

Importing this package imports nothing from Nova or oslo: Nova must be able
to apply its own eventlet monkey-patching first. Call :func:`activate` to
turn the plugin on in the running process.
"""


def activate():
    """Activate the plugin in this process; idempotent.

    :returns: a list of :class:`nova_vfio_lm.changes.base.ChangeStatus`, one
        per change the plugin knows, saying whether it is applied here.
    """
    from nova_vfio_lm import activation
    return activation.activate()
