"""Carry the VF mapping in ``LibvirtLiveMigrateData``.

Stock Nova 2024.1/2024.2 has no place in the live-migration data for flavor
PCI devices. This change adds two fields: ``vfio_lm_pci_devices``, one dict
per device (source and destination address, request id, vendor and product
id, ``live_migratable``, ``managed``), filled by the destination; and
``vfio_lm_source`` and ``vfio_lm_dest``, the plugin's data format, set by
the source and by the destination so that each can refuse a peer that would
drop the mapping. A compute without the plugin ignores these fields, and
the checks on each side refuse such a migration before anything moves.
"""

from nova_vfio_lm.changes import base

FIELDS = ('vfio_lm_pci_devices', 'vfio_lm_source', 'vfio_lm_dest')


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
            'vfio_lm_source': fields.StringField(nullable=True),
            'vfio_lm_dest': fields.StringField(nullable=True),
        })


CHANGE = LiveMigrateDataPciDevices()
