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

"""Each compute marks its live-migration check data: it runs the plugin.

A peer compute without the plugin would drop what the plugin adds to a
live migration: the VF mapping, the release of destination claims. The
source writes the plugin's data format in ``vfio_lm_source`` of the data
its pre-check returns, the destination in ``vfio_lm_dest``; a compute
without the plugin leaves them unset, so the other side and the conductor
(:func:`nova_vfio_lm.pci_migration.peer_runs_plugin`) refuse or skip what
that peer could not do. Both fields are added to ``LibvirtLiveMigrateData``
on every series; a compute that does not know them ignores them.
"""

from nova_vfio_lm.changes import base
from nova_vfio_lm import pci_migration


def _marking(field):
    def make(original):
        def check(self, *args, **kwargs):
            result = original(self, *args, **kwargs)
            if field in result.fields:
                setattr(result, field, pci_migration.DATA_FORMAT)
            return result
        return check
    make.__qualname__ = 'mark_' + field
    return make


class LiveMigrateDataPeerMarks(base.Change):
    name = 'live_migrate_data_peer_marks'
    summary = ('each compute marks its live-migration check data '
               '(vfio_lm_source, vfio_lm_dest) as running the plugin')
    series = base.EVERY_SERIES

    def _apply(self):
        from nova.objects import fields
        from nova.virt.libvirt import driver

        base.add_migrate_data_fields({
            'vfio_lm_source': fields.StringField(nullable=True),
            'vfio_lm_dest': fields.StringField(nullable=True),
        })
        base.wrap(driver.LibvirtDriver, 'check_can_live_migrate_source',
                  _marking('vfio_lm_source'))
        base.wrap(driver.LibvirtDriver, 'check_can_live_migrate_destination',
                  _marking('vfio_lm_dest'))


CHANGE = LiveMigrateDataPeerMarks()
