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

"""Whether placement knows the ``HW_PCI_LIVE_MIGRATABLE`` trait.

Placement learns standard traits from its own os-traits. One older than
3.3.0 (the 2024.1 and 2024.2 pins are 3.0.0 and 3.1.0) does not know this
one, and reporting an unknown standard trait makes Nova abort the whole
provider-tree sync, leaving the host unschedulable for every server. So the
compute asks placement first, reports the trait only once placement knows
it, and warns once with the fix.
"""

import threading

import os_traits
from oslo_log import log as logging

LOG = logging.getLogger(__name__)

TRAIT = os_traits.HW_PCI_LIVE_MIGRATABLE
#: GET /traits/{name} is in every placement microversion from 1.6.
_MICROVERSION = '1.6'


class TraitAvailability:
    """What this compute has learnt from placement about the trait.

    Once placement knows the trait it never forgets it, so a positive answer
    is kept; a negative one is asked again at the next resource update.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self.known = False
        self._warned = False

    def refresh(self, reportclient, context):
        """Ask placement, unless it already said yes; return the answer."""
        if self.known:
            return True
        response = reportclient.get(
            '/traits/%s' % TRAIT, version=_MICROVERSION,
            global_request_id=context.global_id)
        with self._lock:
            if response.status_code == 204:
                self.known = True
                if self._warned:
                    LOG.info('Placement now knows the %(trait)s trait; '
                             'reporting it on live-migratable PCI devices.',
                             {'trait': TRAIT})
            elif response.status_code == 404:
                if not self._warned:
                    LOG.warning(
                        'Placement does not know the %(trait)s trait, so it '
                        'is not reported on live-migratable PCI devices; '
                        'everything else is reported as usual. To fix it, '
                        'install os-traits 3.3.0 or newer where placement '
                        'runs and restart placement.', {'trait': TRAIT})
                    self._warned = True
            else:
                LOG.debug('Could not ask placement about %(trait)s: '
                          'HTTP %(status)s', {'trait': TRAIT,
                                              'status': response.status_code})
        return self.known


#: One per compute service process.
AVAILABILITY = TraitAvailability()
