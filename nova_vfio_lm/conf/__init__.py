"""The plugin's configuration: one group, ``[vfio_lm]``, in nova.conf."""

from nova_vfio_lm.conf import vfio_lm


def register_opts(conf):
    vfio_lm.register_opts(conf)
