"""Options of the ``[vfio_lm]`` group.

The plugin reads Nova's own ``[pci]device_spec`` and ``[pci]alias`` with the
same keys and meaning as Nova 2025.1+, so an operator upgrading Nova changes
nothing. Only what Nova has no option for belongs in this group; it holds no
option yet.
"""

from oslo_config import cfg

GROUP = cfg.OptGroup(
    'vfio_lm',
    title='nova-vfio-lm options',
    help='Options of the nova-vfio-lm plugin, which live-migrates servers '
         'whose SR-IOV VFs are bound to VFIO variant drivers. The devices '
         'and aliases themselves are configured in [pci]device_spec and '
         '[pci]alias.')

OPTS = []


def register_opts(conf):
    conf.register_group(GROUP)
    conf.register_opts(OPTS, group=GROUP)


def list_opts():
    return {GROUP: OPTS}
