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

"""The running test cloud keeps to itself on a shared machine.

Every config file that names a database or a password is readable by its
owner only, and each service reaches MariaDB as its own user, with rights
on its own databases only (MariaDB's root is the harness's, not theirs).
"""

import glob
import os
import stat

from nova_vfio_lm_cloud import mariadb
from nova_vfio_lm_cloud import runfolder
from tests.cloud import base


class SharedMachineTest(base.CloudScenario):

    def configs(self):
        return sorted(glob.glob(os.path.join(self.cloud.run.path, 'etc',
                                             '*', '*.conf')))

    def test_configs_are_owner_only(self):
        self.assertTrue(self.configs())
        for path in self.configs() + [os.environ['OS_CLIENT_CONFIG_FILE']]:
            self.assertEqual(0o600, stat.S_IMODE(os.stat(path).st_mode),
                             path)

    def test_each_service_reaches_only_its_own_databases(self):
        users = {}
        for path in self.configs():
            for section in runfolder.read_ini(path).values():
                url = section.get('connection', '')
                if url.startswith('mysql'):
                    user = url.split('//', 1)[1].split(':', 1)[0]
                    database = url.rsplit('/', 1)[1].split('?')[0]
                    self.assertNotEqual('root', user, path)
                    users.setdefault(user, set()).add(database)
        self.assertEqual({'glance', 'keystone', 'neutron', 'nova',
                          'placement'}, set(users))
        for user in users:
            grants = ' '.join(
                list(row.values())[0] for row in self.cloud.db.query(
                    None, "SHOW GRANTS FOR '%s'@'127.0.0.1'" % user))
            # USAGE ON *.* (no right at all) is every user's
            self.assertNotIn('ALL PRIVILEGES ON *.*', grants)
            granted = {part.split('`')[1] for part in
                       grants.split(' ON ')[1:] if part.startswith('`')}
            self.assertEqual({mariadb.service_user(name)
                              for name in granted}, {user}, grants)
