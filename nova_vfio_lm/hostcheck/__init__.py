"""``nova-vfio-lm check-host``: is this host ready to live-migrate VFs?

Operators otherwise learn from a failed migration that a VF was bound to
plain ``vfio-pci`` or its PF was not in ``switchdev`` mode. The check reads
``[pci]device_spec``, finds every VF a ``live_migratable=yes`` entry matches
(with Nova's own matching) and reports, per VF, what stands in the way and
the command that fixes it.

Every reader takes a host root directory (``/`` on a real host, a fixture
tree in tests) and every external command goes through one runner object
(:mod:`.runner`), so the whole check runs on recorded hosts.

For reuse elsewhere: :func:`.devlink.card_info` (a PF's PSID and running
firmware) and :func:`.sysfs.bound_driver` (a VF's driver).
"""
