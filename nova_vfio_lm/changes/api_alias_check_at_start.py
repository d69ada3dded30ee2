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

"""Check ``[pci]alias`` when the compute API starts.

Stock Nova 2024.1/2024.2 reads ``[pci]alias`` only when a server is created
or resized, so a wrong alias shows up as failed requests long after the
deployment. Nova 2025.1+ parses it as the compute API service starts; this
change does the same on 2024.x, so a wrong ``live_migratable`` value stops
nova-api at start with an error naming ``[pci]alias`` and the value.
"""

from nova_vfio_lm.changes import base


class ApiAliasCheckAtStart(base.Change):
    name = 'api_alias_check_at_start'
    summary = 'nova-api refuses to start with an invalid [pci]alias'
    series = frozenset({29, 30})

    def _apply(self):
        from nova.api.openstack import wsgi_app
        from nova.pci import request

        def make(original):
            def _setup_service(host, name):
                result = original(host, name)
                request._get_alias_from_config()
                return result
            return _setup_service

        base.wrap(wsgi_app, '_setup_service', make)


CHANGE = ApiAliasCheckAtStart()
