"""Live migration of servers with flavor-based live-migratable VFs."""

from nova_vfio_lm.testing import cloud


class _LiveMigrationCloud(cloud.VfioCloudTestCase):
    """Two computes with 4 live-migratable, unmanaged VFs each."""

    PCI_DEVICE_SPEC = [cloud.device_spec(live_migratable='yes',
                                         managed='no')]
    PCI_ALIAS = [cloud.alias('lm-vf', live_migratable='yes'),
                 cloud.alias('pinned-vf', live_migratable='no'),
                 cloud.alias('any-vf')]

    def setUp(self):
        super().setUp()
        self.use_live_migration_hypervisor()
        self.start_sriov_compute('compute1')
        self.start_sriov_compute('compute2')

    def boot_on(self, host, alias_name='lm-vf', count=1):
        server = self._create_server(
            flavor_id=self.create_pci_flavor(alias_name, count),
            networks='none', host=host)
        self.assertEqual(host, server['OS-EXT-SRV-ATTR:host'])
        return server

    def device_addresses(self, server_id, status='allocated'):
        return sorted(d.address for d in self.server_pci_devices(server_id)
                      if d.status == status)


class LiveMigrationTest(_LiveMigrationCloud):

    def test_live_migrate_one_vf_maps_its_address(self):
        server = self.boot_on('compute1')
        [source_vf] = self.device_addresses(server['id'])

        server, migration = self.live_migrate(server)

        self.assertEqual('completed', migration['status'])
        self.assertEqual('ACTIVE', server['status'])
        self.assertEqual('compute2', server['OS-EXT-SRV-ATTR:host'])
        self.assertEqual((4, 4), self.pci_counts('compute1'))
        self.assertEqual((4, 3), self.pci_counts('compute2'))
        [dest_vf] = self.device_addresses(server['id'])
        devices = self.server_pci_devices(server['id'])
        self.assertEqual(['allocated'], [d.status for d in devices])
        # the guest on the destination has exactly the claimed VF
        self.assertEqual([(dest_vf, 'no')],
                         self.guest_hostdevs('compute2', server['id']))
        self.assertEqual(1, len(self.destination_xmls))
        self.assertNotIn(source_vf, self.domain_xml(
            'compute2', server['id']).replace(dest_vf, '-'))
