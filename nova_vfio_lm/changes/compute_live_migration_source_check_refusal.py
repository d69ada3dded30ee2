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

"""A failed source check refuses the live migration, as from 2024.2.

The destination's pre-check asks the source to check too. On nova 29
(2024.1) an error there (the source compute dead or stalled past
``rpc_response_timeout``, its check failing) goes up to the conductor as
it is, whose error path puts the server into ERROR although its guest
never left the source. Nova 30 on turns any such error into a pre-check
refusal: the migration ``error``, the server ACTIVE on its source, the
API's answer naming the cause. This change gives 2024.1 that outcome for
servers with PCI requests (the plugin's servers; others keep Nova 29's).
"""

from oslo_log import log as logging

from nova_vfio_lm.changes import base
from nova_vfio_lm import pci_migration

LOG = logging.getLogger(__name__)


class ComputeLiveMigrationSourceCheckRefusal(base.Change):
    name = 'compute_live_migration_source_check_refusal'
    summary = ("a failed source check refuses a live migration with PCI "
               'devices, the server left ACTIVE (as nova 30 does)')
    series = frozenset({29})

    def _apply(self):
        from nova.compute import rpcapi

        base.wrap(rpcapi.ComputeAPI, 'check_can_live_migrate_source', _make)


def _make(original):
    def check_can_live_migrate_source(self, ctxt, instance, *args,
                                      **kwargs):
        from nova import exception

        try:
            return original(self, ctxt, instance, *args, **kwargs)
        except exception.MigrationPreCheckError:
            raise
        except Exception as exc:
            if not pci_migration.asks_for_pci_devices(instance):
                raise
            LOG.warning('The source %s could not check the live migration '
                        '(%s: %s): refused.', instance.host,
                        type(exc).__name__, exc, instance=instance)
            raise exception.MigrationPreCheckError(
                reason='the source %s could not check the live migration '
                       '(%s: %s)' % (instance.host, type(exc).__name__, exc))
    return check_can_live_migrate_source


CHANGE = ComputeLiveMigrationSourceCheckRefusal()
