import testtools

from nova_vfio_lm import pci_migration


class RequiringLiveMigratableTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        from nova import objects
        objects.register_all()
        self.port = objects.InstancePCIRequest(
            request_id='port', count=1,
            spec=[{'physical_network': 'physnet4'}])
        self.other = objects.InstancePCIRequest(
            request_id='other', count=1,
            spec=[{'physical_network': 'bar', 'live_migratable': 'false'}])

    def test_only_the_named_requests_ask_for_live_migratable_vfs(self):
        with pci_migration.requiring_live_migratable(
                [self.port, self.other], {'port'}) as changed:
            self.assertTrue(changed)
            self.assertEqual('true', self.port.spec[0]['live_migratable'])
            self.assertEqual('false', self.other.spec[0]['live_migratable'])
        self.assertEqual([{'physical_network': 'physnet4'}], self.port.spec)

    def test_what_nova_writes_meanwhile_is_kept(self):
        with pci_migration.requiring_live_migratable(
                [self.port], {'port'}):
            self.port.spec[0]['parent_ifname'] = 'ens2'
        self.assertEqual(
            [{'physical_network': 'physnet4', 'parent_ifname': 'ens2'}],
            self.port.spec)

    def test_nothing_named_changes_nothing(self):
        with pci_migration.requiring_live_migratable(
                [self.other], {'port'}) as changed:
            self.assertFalse(changed)
        self.assertEqual('false', self.other.spec[0]['live_migratable'])
