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

"""How the tests run the plugin's console scripts, as an operator would."""

import os
import sys


def argv(script, module):
    """The installed ``script`` beside this Python, else ``python -m``."""
    path = os.path.join(os.path.dirname(sys.executable), script)
    if os.path.exists(path):
        return [path]
    return [sys.executable, '-m', module]


def nova_vfio_lm():
    return argv('nova-vfio-lm', 'nova_vfio_lm.cmd.manage')


def cloud():
    return argv('nova-vfio-lm-cloud', 'nova_vfio_lm_cloud.cli')


def launcher():
    return argv('nova-vfio-lm-run', 'nova_vfio_lm.cmd.run')
