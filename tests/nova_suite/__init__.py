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

"""Nova's own functional tests, loaded with or without the plugin active.

``tools/nova_suite.py`` discovers this package twice, once per mode, and
compares the results. Outside that tool (``NOVA_VFIO_LM_NOVA_SUITE``
unset) it loads nothing, so the project's own suite never runs Nova's.
"""

import os
import unittest

#: Space-separated Nova test modules (or classes, or tests) to load.
MODULES_ENV = 'NOVA_VFIO_LM_NOVA_SUITE'
#: ``1``: activate the plugin before loading them, as a service does.
PLUGIN_ENV = 'NOVA_VFIO_LM_NOVA_SUITE_PLUGIN'


def _find_installed_paste_ini():
    """Point Nova's test config at the installed ``api-paste.ini``.

    Nova's tests expect a source tree (``$state_path/etc/nova``); a wheel
    puts the file under the venv's ``etc/nova``. Both modes get this.
    """
    from nova.tests.fixtures import conf as conf_fixture

    from nova_vfio_lm_cloud.inprocess import paste

    path = paste.nova_api_paste_ini()
    original = conf_fixture.ConfFixture.setUp

    def setUp(self):
        original(self)
        self.conf.set_default('api_paste_config', path, group='wsgi')

    conf_fixture.ConfFixture.setUp = setUp


def load_tests(loader, standard_tests, pattern):
    names = os.environ.get(MODULES_ENV, '').split()
    if not names:
        return unittest.TestSuite()
    _find_installed_paste_ini()
    if os.environ.get(PLUGIN_ENV) == '1':
        import nova_vfio_lm
        nova_vfio_lm.activate()
    return loader.loadTestsFromNames(names)
