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

"""Mark in the live-migration data which ports move with their VF state.

Nova (every release up to at least 2026.2) unplugs every SR-IOV ``direct``
port before a live migration and plugs a new VF in after it. This change
adds ``vfio_lm_moves`` to each port's ``VIFMigrateData``: the destination
sets it when it claimed a live-migratable VF for a port whose source VF is
live-migratable, and only then does the source keep the port attached. A
destination without the plugin never sets it, so such ports fall back to
Nova's unplug and plug.
"""

from nova_vfio_lm.changes import base


class LiveMigrateDataMovingPorts(base.Change):
    name = 'live_migrate_data_moving_ports'
    summary = 'VIFMigrateData carries vfio_lm_moves per port'
    series = base.EVERY_SERIES

    def _apply(self):
        from nova.objects import fields

        base.add_migrate_data_fields(
            {'vfio_lm_moves': fields.BooleanField(default=False)},
            cls_name='VIFMigrateData')


CHANGE = LiveMigrateDataMovingPorts()
