"""The whole cloud is consistent after every other scenario.

Named to run last (stestr runs the scenarios in name order, one at a
time): Nova's own placement audit finds nothing to fix, and on every host
the VFs Nova counts as used are exactly those its running guests hold.
"""

from tests.cloud import base


class ConsistencyTest(base.CloudScenario):

    def test_placement_audit_and_pci_counts_agree_with_the_guests(self):
        server = self.boot('lm.vf3', 'compute2')
        self.assertEqual('completed',
                         self.live_migrate(server, 'compute1')['status'])
        # and back, the scheduler choosing (only compute2 has room)
        self.assertEqual('completed', self.live_migrate(server)['status'])
        self.assert_runs_on(server, 'compute2', 3)

        output = self.cloud.nova.manage('placement', 'audit', '--verbose')

        self.assertNotIn('orphan', output.lower())
        for host in self.cloud.layout:
            used = sorted(row['address'] for row in self.pci_rows(host)
                          if row['status'] != 'available')
            guests = sorted(
                vf for uuid, domain in self.hypervisor.host(host).all()
                .items() if domain['running']
                for vf in self.guest_vfs(host, uuid))
            self.assertEqual(guests, used, host)
