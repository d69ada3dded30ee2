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

"""The conductor drops a live-migration request that was given up.

A request can wait in a stalled conductor's queue past the API's
``rpc_response_timeout`` (HTTP 500, the server left ``migrating``) or, as
a cast (microversion 2.34+), for any time. An operator who then resets
the server's state (``openstack server set --state active``) and asks
again starts a second flow: Nova's conductor, once it runs again, still
handles the first request, so two live migrations of one server run side
by side, each with its destination claims. For servers with PCI requests
the conductor now handles a request only while it is the server's
current one: its task still ``migrating`` and no newer ``live-migration``
action recorded. Otherwise the request is logged and dropped, no
migration recorded, the server left as it is.
"""

from oslo_log import log as logging

from nova_vfio_lm.changes import base
from nova_vfio_lm import pci_migration

LOG = logging.getLogger(__name__)

#: How many of a server's newest actions are read for a newer move.
ACTIONS_READ = 50


class ConductorLiveMigrationStaleRequest(base.Change):
    name = 'conductor_live_migration_stale_request'
    summary = ('the conductor drops a live-migration request of a server '
               'with PCI devices that was reset or superseded meanwhile')
    series = base.EVERY_SERIES

    def _apply(self):
        from nova.conductor import manager

        base.wrap(manager.ComputeTaskManager, '_live_migrate', _make)


def why_given_up(context, instance):
    """Why this request is no longer the server's current one, or None.

    None also when the records cannot be read: Nova's own steps then
    meet the same trouble and end the request as they always did.
    """
    from nova.compute import instance_actions
    from nova.compute import task_states
    from nova import objects

    try:
        current = objects.Instance.get_by_uuid(context, instance.uuid,
                                               expected_attrs=[])
        own = objects.InstanceAction.get_by_request_id(
            context, instance.uuid, context.request_id)
        newest = objects.InstanceActionList.get_by_instance_uuid(
            context, instance.uuid, limit=ACTIONS_READ)
    except Exception:
        LOG.debug('Could not read whether live migration request %s is '
                  'current', context.request_id, instance=instance,
                  exc_info=True)
        return None
    if current.task_state != task_states.MIGRATING:
        return 'its task is %s now, not migrating' % current.task_state
    if own is None:
        return None
    for action in newest:
        if (action.action == instance_actions.LIVE_MIGRATION and
                action.id > own.id):
            return 'a newer live migration was asked for (%s)' % (
                action.request_id)
    return None


def _make(original):
    def _live_migrate(self, context, instance, *args, **kwargs):
        if pci_migration.asks_for_pci_devices(instance):
            reason = why_given_up(context, instance)
            if reason:
                LOG.warning('Dropping live migration request %s of server '
                            '%s: %s. It waited in the conductor past the '
                            "API's answer; nothing was changed.",
                            context.request_id, instance.uuid, reason,
                            instance=instance)
                return None
        return original(self, context, instance, *args, **kwargs)
    return _live_migrate


CHANGE = ConductorLiveMigrationStaleRequest()
