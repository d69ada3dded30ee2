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

"""Live migration of VFIO variant-driver VFs for OpenStack Nova.

Importing this package imports nothing from Nova or oslo: Nova must be able
to apply its own eventlet monkey-patching first. Call :func:`activate` to
turn the plugin on in the running process.
"""


def activate():
    """Activate the plugin in this process; idempotent.

    :returns: a list of :class:`nova_vfio_lm.changes.base.ChangeStatus`, one
        per change the plugin knows, saying whether it is applied here.
    """
    from nova_vfio_lm import activation
    return activation.activate()
