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

"""A lost call of the destination's post-migration is made again, once done.

After the switch-over the source calls the destination's post-migration,
which moves the server's record there. That call can be lost (RabbitMQ
restarted while it waited in the destination's queue: Nova's queues do
not outlive the broker) or go unanswered past ``rpc_response_timeout``
(the destination stalled). Nova's source logs the failure and ends its
own part: its VFs freed, the server's record left on the source,
``migrating`` (2024.1) or ERROR (2024.2 on), while its guest runs on the
destination; a lost call is never handled, so the record stays there.
For servers with PCI requests this change, on every series, makes the
source call again while the call times out, up to
:data:`nova_vfio_lm.backend_wait.BACKEND_WAIT` seconds. The destination
handles one such call per server at a time, and answers a call for a
server it already took over (an earlier call that came late) without
doing anything again.
"""

import time

from oslo_concurrency import lockutils
from oslo_log import log as logging
import oslo_messaging as messaging

from nova_vfio_lm import backend_wait
from nova_vfio_lm.changes import base
from nova_vfio_lm import pci_migration

LOG = logging.getLogger(__name__)


class ComputeDestinationPostCallRetried(base.Change):
    name = 'compute_destination_post_call_retried'
    summary = ("the source calls the destination's post-migration again "
               'when the call gets no answer; the destination does it once')
    series = base.EVERY_SERIES

    def _apply(self):
        from nova.compute import manager
        from nova.compute import rpcapi

        base.wrap(rpcapi.ComputeAPI, 'post_live_migration_at_destination',
                  _make_call)
        base.wrap(manager.ComputeManager,
                  'post_live_migration_at_destination', _make_handler)


def _make_call(original):
    def post_live_migration_at_destination(self, ctxt, instance, *args,
                                           **kwargs):
        # the source's database answers (its own post-migration waited
        # for it): the requests load, and travel with the call
        if not pci_migration.asks_for_pci_devices(instance):
            return original(self, ctxt, instance, *args, **kwargs)
        deadline = time.monotonic() + backend_wait.BACKEND_WAIT
        while True:
            try:
                return original(self, ctxt, instance, *args, **kwargs)
            except messaging.MessagingTimeout as exc:
                if time.monotonic() >= deadline:
                    LOG.error("The destination's post-migration got no "
                              'answer for %d s (%s); the source gives up.',
                              backend_wait.BACKEND_WAIT, exc,
                              instance=instance)
                    raise
                LOG.warning("The destination's post-migration call got no "
                            'answer (%s); the source calls again (up to '
                            '%d s).', exc, backend_wait.BACKEND_WAIT,
                            instance=instance)
    return post_live_migration_at_destination


def _make_handler(original):
    def post_live_migration_at_destination(self, context, instance, *args,
                                           **kwargs):
        if not pci_migration.arrives_with_pci_devices(self, instance):
            return original(self, context, instance, *args, **kwargs)
        with lockutils.lock('nova-vfio-lm-post-migration-%s' % instance.uuid):
            if _taken_over(self, context, instance):
                LOG.info("A repeated call of the destination's "
                         'post-migration: the server is already recorded '
                         'on this host; nothing done again.',
                         instance=instance)
                return None
            return original(self, context, instance, *args, **kwargs)
    return post_live_migration_at_destination


def _taken_over(compute, context, instance):
    """Whether an earlier call already moved the server's record here."""
    from nova import objects

    current = objects.Instance.get_by_uuid(context, instance.uuid,
                                           expected_attrs=[])
    return current.host == compute.host and current.task_state is None


CHANGE = ComputeDestinationPostCallRetried()
