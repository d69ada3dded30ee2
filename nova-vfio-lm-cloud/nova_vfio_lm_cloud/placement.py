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

"""Placement: the inventories and allocations Nova schedules against.

Runs under uwsgi with its own database, as a real deployment does (the
functional tests run it in-process instead); the plugin's live-migration
claims are checked against this one.
"""

import os

from nova_vfio_lm_cloud import runfolder
from nova_vfio_lm_cloud import service


class Placement(service.Service):
    """Placement API under uwsgi on 127.0.0.1:``run.port('placement')``.

    Needs Keystone running from :meth:`configure` on (:meth:`init`
    registers the ``placement`` service).
    """

    name = 'placement'

    def __init__(self, run, sup, db, keystone, bindir=None):
        super().__init__(run, sup, bindir=bindir)
        self.db = db
        self.keystone = keystone

    def conf_path(self):
        return os.path.join(self.config_dir(), 'placement.conf')

    def configure(self):
        runfolder.write_ini(self.conf_path(), {
            'DEFAULT': {'use_stderr': True},
            'placement_database': {
                'connection': self.db.create_database('placement')},
            'api': {'auth_strategy': 'keystone'},
            'keystone_authtoken': self.keystone.authtoken_options(
                'placement'),
        })

    def init(self):
        self.execute([self.bin('placement-manage'), '--config-file',
                      self.conf_path(), 'db', 'sync'])
        self.keystone.register_service('placement', 'placement',
                                       self.run.url(self.name))

    def start(self, timeout=90):
        self.start_wsgi('placement-api', 'placement.wsgi.api:application',
                        {'OS_PLACEMENT_CONFIG_DIR': self.config_dir()},
                        timeout=timeout)
