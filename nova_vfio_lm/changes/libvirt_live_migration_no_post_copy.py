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

"""Never use post-copy for a server whose VFs migrate with their state.

Post-copy resumes the guest on the destination before all its state has
arrived; a VFIO device's state cannot be carried that way. Nova (every
release up to at least 2026.2) still asks libvirt for post-copy when
``[libvirt] live_migration_permit_post_copy`` is on. For a live migration
that carries PCI device mappings this change, on every series, drops the
post-copy flag from the migration it starts and tells Nova's migration
monitor that post-copy is off for it (as Nova does itself for a guest with
persistent memory), logging why; other servers keep the operator's
setting. A force-complete (``openstack server migration force complete``,
or ``[libvirt] live_migration_timeout_action = force_complete``) then does
what Nova does without post-copy: it pauses the guest until the
switch-over, and the migration stays ``running``, never ``running
(post-copy)``. A switch to post-copy asked for anyway fails, as libvirt
fails one it cannot do.
"""

import threading

from oslo_log import log as logging

from nova_vfio_lm.changes import base
from nova_vfio_lm import pci_migration

LOG = logging.getLogger(__name__)

_LOCK = threading.Lock()
#: UUIDs of the guests migrating with their VF state from this host.
_MIGRATING = set()
#: set in the thread that runs such a migration and its monitor
_VF_STATE = threading.local()


class LibvirtLiveMigrationNoPostCopy(base.Change):
    name = 'libvirt_live_migration_no_post_copy'
    summary = ('no post-copy for live migrations carrying VF state, '
               'whatever live_migration_permit_post_copy says')
    series = base.EVERY_SERIES

    def _apply(self):
        from nova.virt.libvirt import driver
        from nova.virt.libvirt import guest as libvirt_guest

        def make_live_migration(original):
            def _live_migration(self, context, instance, dest, post_method,
                                recover_method, block_migration,
                                migrate_data):
                if not pci_migration.carries_pci_mapping(migrate_data):
                    return original(self, context, instance, dest,
                                    post_method, recover_method,
                                    block_migration, migrate_data)
                with _LOCK:
                    _MIGRATING.add(instance.uuid)
                _VF_STATE.moving = True
                try:
                    return original(self, context, instance, dest,
                                    post_method, recover_method,
                                    block_migration, migrate_data)
                finally:
                    _VF_STATE.moving = False
                    with _LOCK:
                        _MIGRATING.discard(instance.uuid)
            return _live_migration

        def make_post_copy_enabled(original):
            def _is_post_copy_enabled(self, migration_flags):
                if getattr(_VF_STATE, 'moving', False):
                    return False
                return original(self, migration_flags)
            return _is_post_copy_enabled

        def make_migrate(original):
            def migrate(self, destination, *args, **kwargs):
                flags = kwargs.get('flags', 0)
                # Nova loads the libvirt module lazily, when it connects
                postcopy = driver.libvirt.VIR_MIGRATE_POSTCOPY
                if flags & postcopy and self.uuid in _MIGRATING:
                    LOG.info('Not using post-copy for %(uuid)s: the state of '
                             'its VFIO devices can only move before the '
                             'switch-over.', {'uuid': self.uuid})
                    kwargs['flags'] = flags & ~postcopy
                return original(self, destination, *args, **kwargs)
            return migrate

        def make_start_postcopy(original):
            def migrate_start_postcopy(self):
                if self.uuid in _MIGRATING:
                    # Nova then keeps the migration ``running``
                    raise driver.libvirt.libvirtError(
                        'Not switching %s to post-copy: it migrates VFIO '
                        'device state' % self.uuid)
                return original(self)
            return migrate_start_postcopy

        base.wrap(driver.LibvirtDriver, '_live_migration',
                  make_live_migration)
        base.wrap(driver.LibvirtDriver, '_is_post_copy_enabled',
                  make_post_copy_enabled)
        base.wrap(libvirt_guest.Guest, 'migrate', make_migrate)
        base.wrap(libvirt_guest.Guest, 'migrate_start_postcopy',
                  make_start_postcopy)


CHANGE = LibvirtLiveMigrationNoPostCopy()
