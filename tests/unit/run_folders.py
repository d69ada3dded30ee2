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

"""A created run folder of the test cloud, for its unit tests."""

import os

import fixtures

from nova_vfio_lm_cloud import runfolder


class RunFolder(fixtures.Fixture):
    """``self.run``: a created run folder in a temporary parent.

    The parent is 0755, as the run folder's own rule wants it (MariaDB's
    user walks down to its data); ``self.path`` is the folder's path.
    """

    def _setUp(self):
        parent = self.useFixture(fixtures.TempDir()).path
        os.chmod(parent, 0o755)
        self.path = os.path.join(parent, 'run')
        self.run = runfolder.RunFolder(self.path)
        self.run.create()
