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

"""Which ``libvirt`` module a Nova service here would load.

The test cloud (the separate ``nova-vfio-lm-cloud`` distribution) carries
a fake libvirt binding for its computes. A ``PYTHONPATH`` copied from a
test shell must never make a production nova-compute drive a hypervisor
that does nothing, so ``status`` and ``check-host`` say so when ``import
libvirt`` would load that fake (the fake itself also refuses to load
outside a test cloud).
"""

import importlib.util
import os

#: The test cloud's package and the folder holding its fake ``libvirt``.
CLOUD_PACKAGE = 'nova_vfio_lm_cloud'
FAKE_FOLDER = 'binding'


def fake_in_use():
    """Where ``import libvirt`` loads the test cloud's fake from, else None.

    Recognised by its place: ``binding/libvirt.py`` inside the test cloud's
    package, installed or copied.
    """
    try:
        spec = importlib.util.find_spec('libvirt')
    except (ImportError, ValueError):
        return None
    origin = spec.origin if spec else None
    if not origin:
        return None
    folder = os.path.dirname(os.path.realpath(origin))
    if (os.path.basename(folder) == FAKE_FOLDER and
            os.path.basename(os.path.dirname(folder)) == CLOUD_PACKAGE):
        return origin
    return None


def fake_error():
    """The error line ``status`` and ``check-host`` print, or None."""
    origin = fake_in_use()
    if origin is None:
        return None
    return ('"import libvirt" loads the nova-vfio-lm test cloud\'s fake '
            'binding (%s), not libvirt-python: Nova would drive no '
            'hypervisor. Remove %s from PYTHONPATH.'
            % (origin, os.path.dirname(origin)))
