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

"""Options of the ``[vfio_lm]`` group.

The plugin reads Nova's own ``[pci]device_spec`` and ``[pci]alias`` with the
same keys and meaning as Nova 2025.1+, so an operator upgrading Nova changes
nothing. Only what Nova has no option for belongs in this group.
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

OPTS.append(cfg.IntOpt(
    'max_migrating_vfs_per_pf',
    default=4,
    min=1,
    max=1024,
    help='At most this many VFs of one PF take part in live migrations at '
         'the same time, counted across the cloud on both the source and '
         'the destination PF (NVIDIA recommends at most 4 on ConnectX-7). '
         'A live migration that would exceed it waits, before any memory '
         'or device state is copied, until enough migrations of that PF '
         'ended; the destination prefers VFs of PFs below it when it claims '
         'VFs for an incoming migration. A server whose own VFs on one PF '
         'exceed the limit migrates alone on that PF. At most 1024, the most '
         'VFs an NVIDIA card offers per PF. Read by nova-compute.'))
OPTS.append(cfg.IntOpt(
    'max_migrating_vfs_wait',
    default=1800,
    min=1,
    max=86400,
    help='Seconds a live migration waits for room under '
         'max_migrating_vfs_per_pf before it gives up: it is then rolled '
         'back (migration status "error"), the server stays ACTIVE on its '
         'source and nothing stays claimed on the destination. At most 86400 '
         '(a day). Read by nova-compute.'))

OPTS.append(cfg.IntOpt(
    'live_migration_check_timeout',
    default=3600,
    min=60,
    max=86400,
    help='Seconds a live migration of a server with PCI devices may stay '
         '"accepted" (the conductor checking it: scheduling, the '
         "destination's pre-check) before its source compute's resource "
         'audit ends it: a conductor that stopped during the checks never '
         'hands it over, and Nova would leave it "accepted", the server '
         'migrating and its allocation with the migration, for good. The '
         'audit then sets the migration "error", gives the server its '
         'allocation back and clears its task; the server stays ACTIVE on '
         'its source, and the destination frees what it claimed at its '
         'next audit. A conductor that was only slow and hands the '
         'migration over later is refused by the source. Keep it above '
         "[DEFAULT] long_rpc_timeout, the bound of one destination's "
         'pre-check. At least 60, at most 86400 (a day). Read by '
         'nova-compute.'))

OPTS.append(cfg.StrOpt(
    'card_match',
    default='exact',
    choices=[
        ('exact', 'source and destination VF on cards with the same PSID '
                  'and the same running firmware, as NVIDIA requires'),
        ('psid', 'the same PSID; a firmware difference is allowed'),
        ('off', 'cards are not compared'),
    ],
    help='What the destination of a live migration requires of the card '
         'under each VF it claimed, compared with the card under the '
         'source VF. A card that either side cannot read (no devlink, or '
         'a driver that does not say) is logged and not refused. Read by '
         'nova-compute on the destination.'))
OPTS.append(cfg.BoolOpt(
    'allow_unverified_nova',
    default=False,
    help='Run on a Nova whose code the plugin wraps differs from the code '
         'of the Nova release it was verified on (a point release the '
         'plugin does not know). By default every Nova service with the '
         'plugin refuses to start there, naming each Nova function that '
         'differs; set to true to start anyway, with a WARNING per '
         'difference. "nova-vfio-lm status" lists them. Read by every '
         'service as the plugin activates.'))
OPTS.append(cfg.StrOpt(
    'recorded_commands_dir',
    help='Read the answers of devlink from files in this directory '
         'instead of running it, named as "nova-vfio-lm check-host '
         '--recorded-commands" reads them (for example '
         '"devlink-dev-info-pci-0000:81:00.0.json"). For a nova-compute '
         'that cannot run devlink itself, such as a container without '
         'iproute2 whose host records the answers, and for stand-in '
         'hosts. The directory must exist, or nova-compute does not '
         'start. Unset: run devlink. Read by nova-compute as it starts.'))


def register_opts(conf):
    conf.register_group(GROUP)
    conf.register_opts(OPTS, group=GROUP)


def list_opts():
    return {GROUP: OPTS}
