"""Carry the VF mapping in ``LibvirtLiveMigrateData``.

Stock Nova 2024.1/2024.2 has no place in the live-migration data for flavor
PCI devices. This change adds ``vfio_lm_pci_devices``, one dict per device
(source and destination address, request id, vendor and product id,
``live_migratable``, ``managed``), filled by the destination. A compute
without the plugin ignores the field; the peer marks
(``live_migrate_data_peer_marks``) let each side refuse such a peer before
anything moves.
"""

from nova_vfio_lm.changes import base


def add_fields(new_fields, cls_name='LibvirtLiveMigrateData'):
    """Add fields to a live-migration data class once, as registered ones.

    A peer without the plugin ignores fields it does not know when it
    reads the data.

    :param new_fields: ``{name: oslo.versionedobjects field}``.
    :param cls_name: the class in ``nova.objects.migrate_data``.
    """
    from nova.objects import migrate_data
    from oslo_versionedobjects import base as ovo_base

    cls = getattr(migrate_data, cls_name)
    missing = {name: field for name, field in new_fields.items()
               if name not in cls.fields}
    if not missing:
        return
    cls.fields = dict(cls.fields, **missing)
    # give the new fields the typed properties registration gives the rest
    ovo_base._make_class_properties(cls)


class LiveMigrateDataPciDevices(base.Change):
    name = 'live_migrate_data_pci_devices'
    summary = 'LibvirtLiveMigrateData carries vfio_lm_pci_devices'
    series = frozenset({29, 30})

    def _apply(self):
        from nova.objects import fields

        add_fields({
            'vfio_lm_pci_devices': fields.ListOfDictOfNullableStringsField(),
        })


CHANGE = LiveMigrateDataPciDevices()
