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

"""``import libvirt`` in a local-cloud compute: the fake binding.

The harness puts this folder first on a compute's ``PYTHONPATH``, so Nova's
own libvirt driver, unmodified, loads the fake binding as it would load
the real one.
"""

import importlib
import sys
import types

BINDING = 'nova_vfio_lm_cloud.fakelibvirt_binding'
DRIVER = 'nova.virt.libvirt.driver'


class _LoadedOnUse(types.ModuleType):
    """This module, the binding loaded at its first attribute read.

    Nova's fake libvirt reads the driver's minimum versions when it is
    imported. When the driver module itself is being imported and imports
    ``libvirt`` on the way (nova 2026.2, where the plugin's activation
    imports the driver first), the fake has to wait until the driver is
    complete; nothing reads ``libvirt`` attributes before that.
    """

    def __getattr__(self, name):
        return getattr(importlib.import_module(BINDING), name)


_driver = sys.modules.get(DRIVER)
if _driver is not None and not hasattr(_driver, 'MIN_LIBVIRT_VERSION'):
    sys.modules[__name__].__class__ = _LoadedOnUse
else:
    sys.modules[__name__] = importlib.import_module(BINDING)
