"""The ``oslo.config.opts`` entry point: every option the plugin declares."""

from nova_vfio_lm.conf import vfio_lm


def list_opts():
    return [(group, list(opts))
            for group, opts in vfio_lm.list_opts().items()]
