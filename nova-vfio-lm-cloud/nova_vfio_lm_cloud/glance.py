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

"""Glance: the images the computes boot from, stored in the run folder.

Runs under uwsgi with one file store (``enabled_backends``, as devstack
configures it) plus the reserved staging and tasks stores, which Glance
must find when it loads under uwsgi. Its paste file is copied from the
environment Glance comes from, so it always matches that release.
"""

import os
import shutil

from nova_vfio_lm_cloud import runfolder
from nova_vfio_lm_cloud import service

TINY_IMAGE_SIZE = 1024 * 1024
PASTE_FILE = 'glance-api-paste.ini'


class Glance(service.Service):
    """Glance API under uwsgi on 127.0.0.1:``run.port('glance')``.

    Needs Keystone running from :meth:`configure` on (:meth:`init`
    registers the ``image`` service).
    """

    name = 'glance'

    def __init__(self, run, sup, db, keystone, bindir=None):
        super().__init__(run, sup, bindir=bindir)
        self.db = db
        self.keystone = keystone

    def conf_path(self):
        return os.path.join(self.config_dir(), 'glance-api.conf')

    def configure(self):
        paste = os.path.join(self.config_dir(), PASTE_FILE)
        # the data files of the environment: <venv>/etc/glance
        shutil.copyfile(os.path.join(os.path.dirname(self.bindir), 'etc',
                                     'glance', PASTE_FILE), paste)
        runfolder.write_ini(self.conf_path(), {
            'DEFAULT': {'enabled_backends': 'local:file',
                        'use_stderr': True},
            'database': {'connection': self.db.create_database('glance')},
            'glance_store': {'default_backend': 'local'},
            'local': {'filesystem_store_datadir': self.run.sub(
                'glance', 'images')},
            'os_glance_staging_store': {
                'filesystem_store_datadir': self.run.sub('glance', 'staging')},
            'os_glance_tasks_store': {
                'filesystem_store_datadir': self.run.sub('glance', 'tasks')},
            'oslo_concurrency': {'lock_path': self.run.sub('glance', 'lock')},
            'keystone_authtoken': self.keystone.authtoken_options('glance'),
            'paste_deploy': {'flavor': 'keystone', 'config_file': paste},
        })

    def init(self):
        self.execute([self.bin('glance-manage'), '--config-file',
                      self.conf_path(), 'db_sync'])
        self.keystone.register_service('image', 'glance',
                                       self.run.url(self.name))

    def start(self, timeout=90):
        self.start_wsgi('glance-wsgi-api', 'glance.wsgi.api:application',
                        {'OS_GLANCE_CONFIG_DIR': self.config_dir()},
                        statuses=(200, 300), timeout=timeout)

    def upload_tiny_image(self, name='tiny'):
        """A public 1 MiB raw image ``name``; its id (reused if active)."""
        images = self.keystone.connection().image
        for image in images.images(name=name):
            if image.status == 'active':
                return image.id
            images.delete_image(image)
        path = self.run.file('images', '%s.raw' % name)
        with open(path, 'wb') as f:
            f.truncate(TINY_IMAGE_SIZE)
        with open(path, 'rb') as f:
            # PUT upload (no import task); no own duplicate check, see above
            return images.create_image(
                name, data=f.read(), disk_format='raw',
                container_format='bare', visibility='public',
                allow_duplicates=True).id
