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

"""Let the conductor accept live migration of flavor-based migratable VFs.

Stock Nova 2024.1/2024.2 refuses every live migration of a server with a
flavor PCI request ("non-VIF related PCI requests ... are not allowed").
This change accepts it when every flavor PCI request asks for
``live_migratable=yes``. Neutron port requests keep Nova's own checks. The
refusal of other servers is :mod:`conductor_live_migration_pci_refusal`'s.
"""

from nova_vfio_lm.changes import base
from nova_vfio_lm import pci_migration


class ConductorLiveMigrationPciCheck(base.Change):
    name = 'conductor_live_migration_pci_check'
    summary = ('conductor accepts live migration when every flavor PCI '
               'request is live_migratable=yes')
    series = frozenset({29, 30})

    def _apply(self):
        from nova.conductor.tasks import live_migrate
        from nova import exception

        def make(original):
            def _check_can_migrate_pci(self, src_host, dest_host):
                flavor = pci_migration.flavor_requests(self.instance)
                if not flavor:
                    return original(self, src_host, dest_host)
                reason = pci_migration.refusal(self.instance)
                if reason:  # refused before scheduling already; kept safe
                    raise exception.MigrationPreCheckError(reason=reason)
                neutron = [r for r in self.instance.pci_requests.requests
                           if r not in flavor]
                if not neutron:
                    return None
                # Nova's own checks for the port requests, shown only those
                pci_requests = self.instance.pci_requests
                self.instance.pci_requests = pci_requests.obj_clone()
                self.instance.pci_requests.requests = neutron
                try:
                    return original(self, src_host, dest_host)
                finally:
                    self.instance.pci_requests = pci_requests
            return _check_can_migrate_pci

        base.wrap(live_migrate.LiveMigrationTask, '_check_can_migrate_pci',
                  make)


CHANGE = ConductorLiveMigrationPciCheck()
