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

"""The test cloud's stand-ins run only in processes that cloud started.

The fake libvirt binding and the SR-IOV agent stand-in ship in the test
cloud's distribution, not in the plugin's. Where both are installed, a
``PYTHONPATH`` copied from a test shell, or a unit file written after the
local cloud's, must never make a production
nova-compute drive a hypervisor that does nothing. Each stand-in refuses
to load unless ``$NOVA_VFIO_LM_STAND_IN_RUN`` names a run folder holding
the marker the cloud writes as it creates that folder
(:data:`nova_vfio_lm_cloud.runfolder.MARKER`); ``status`` and
``check-host`` report an error when ``import libvirt`` would load the fake
(:mod:`nova_vfio_lm.libvirt_binding`).
"""

import os

from nova_vfio_lm_cloud import runfolder

#: Set by the cloud for the processes it starts with a stand-in.
ENV = 'NOVA_VFIO_LM_STAND_IN_RUN'
#: The folder whose ``libvirt`` module is the fake binding.
BINDING_DIR = os.path.join(os.path.dirname(__file__), 'binding')


class NotInTestCloud(ImportError):
    """A stand-in was loaded outside a process the test cloud started."""


def env(run):
    """What a process the cloud starts with a stand-in gets."""
    return {ENV: run.path}


def check(what):
    """Refuse ``what`` unless this process belongs to a test cloud.

    :raises NotInTestCloud: naming the stand-in and what to remove.
    """
    run = os.environ.get(ENV)
    if run and runfolder.marked(run):
        return
    raise NotInTestCloud(
        '%s is a stand-in of the nova-vfio-lm test cloud and loads only in '
        'a process that cloud started ($%s naming its run folder, which '
        'holds the file %s); here $%s is %r. A real compute must not load '
        'it: remove %s from PYTHONPATH.' % (
            what, ENV, runfolder.MARKER, ENV, run, BINDING_DIR))
