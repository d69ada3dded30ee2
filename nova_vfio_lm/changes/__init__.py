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

"""Every change the plugin makes to Nova, one module each."""

from nova_vfio_lm.changes import api_alias_check_at_start
from nova_vfio_lm.changes import compute_destination_post_call_retried
from nova_vfio_lm.changes import compute_destination_post_waits_for_backends
from nova_vfio_lm.changes import compute_failed_preparation_waits_for_backends
from nova_vfio_lm.changes import compute_live_migration_abandoned_checks
from nova_vfio_lm.changes import compute_live_migration_card_check
from nova_vfio_lm.changes import compute_live_migration_claims_kept_at_audit
from nova_vfio_lm.changes import compute_live_migration_claims_renewed
from nova_vfio_lm.changes import compute_live_migration_finished_at_restart
from nova_vfio_lm.changes import compute_live_migration_older_peers
from nova_vfio_lm.changes import compute_live_migration_pci_claim
from nova_vfio_lm.changes import compute_live_migration_pci_claim_refusal
from nova_vfio_lm.changes import compute_live_migration_pf_limit
from nova_vfio_lm.changes import compute_live_migration_port_claim
from nova_vfio_lm.changes import compute_live_migration_source_check_refusal
from nova_vfio_lm.changes import compute_options_checked_at_start
from nova_vfio_lm.changes import compute_pci_card_info
from nova_vfio_lm.changes import compute_pci_pools_reported_at_once
from nova_vfio_lm.changes import conductor_live_migration_pci_check
from nova_vfio_lm.changes import conductor_live_migration_pci_refusal
from nova_vfio_lm.changes import conductor_live_migration_pci_request_groups
from nova_vfio_lm.changes import conductor_live_migration_port_scheduling
from nova_vfio_lm.changes import conductor_live_migration_skipped_host_claims
from nova_vfio_lm.changes import conductor_live_migration_stale_request
from nova_vfio_lm.changes import conductor_rollback_waits_for_backends
from nova_vfio_lm.changes import libvirt_hostdev_managed
from nova_vfio_lm.changes import libvirt_interface_hostdev_managed
from nova_vfio_lm.changes import libvirt_live_migration_failure_state
from nova_vfio_lm.changes import libvirt_live_migration_hostdev_xml
from nova_vfio_lm.changes import libvirt_live_migration_no_post_copy
from nova_vfio_lm.changes import libvirt_live_migration_pci_map_at_once
from nova_vfio_lm.changes import libvirt_live_migration_ports_stay_attached
from nova_vfio_lm.changes import libvirt_live_migration_post_waits_for_backends
from nova_vfio_lm.changes import libvirt_live_migration_progress_save
from nova_vfio_lm.changes import libvirt_version_requirements
from nova_vfio_lm.changes import live_migrate_data_moving_ports
from nova_vfio_lm.changes import live_migrate_data_pci_devices
from nova_vfio_lm.changes import live_migrate_data_peer_marks
from nova_vfio_lm.changes import live_migration_interrupted_cleanup
from nova_vfio_lm.changes import live_migration_rollback_claims
from nova_vfio_lm.changes import live_migration_rollback_port_pf
from nova_vfio_lm.changes import pci_alias_live_migratable
from nova_vfio_lm.changes import pci_device_extra_info
from nova_vfio_lm.changes import pci_device_spec_tags
from nova_vfio_lm.changes import pci_stats_live_migratable
from nova_vfio_lm.changes import pci_tracker_claims_add_up
from nova_vfio_lm.changes import pci_tracker_keeps_guest_devices
from nova_vfio_lm.changes import placement_live_migratable_trait
from nova_vfio_lm.changes import placement_pci_request_traits

#: In the order they are applied.
ALL = (
    pci_device_spec_tags.CHANGE,
    pci_device_extra_info.CHANGE,
    pci_alias_live_migratable.CHANGE,
    api_alias_check_at_start.CHANGE,
    pci_stats_live_migratable.CHANGE,
    libvirt_hostdev_managed.CHANGE,
    libvirt_version_requirements.CHANGE,
    placement_live_migratable_trait.CHANGE,
    placement_pci_request_traits.CHANGE,
    conductor_live_migration_stale_request.CHANGE,
    conductor_live_migration_pci_refusal.CHANGE,
    conductor_live_migration_pci_check.CHANGE,
    conductor_live_migration_pci_request_groups.CHANGE,
    live_migrate_data_pci_devices.CHANGE,
    live_migrate_data_peer_marks.CHANGE,
    compute_live_migration_pci_claim.CHANGE,
    compute_live_migration_pci_claim_refusal.CHANGE,
    compute_live_migration_source_check_refusal.CHANGE,
    libvirt_live_migration_hostdev_xml.CHANGE,
    libvirt_live_migration_pci_map_at_once.CHANGE,
    compute_live_migration_older_peers.CHANGE,
    live_migration_rollback_claims.CHANGE,
    live_migration_interrupted_cleanup.CHANGE,
    compute_pci_pools_reported_at_once.CHANGE,
    conductor_live_migration_skipped_host_claims.CHANGE,
    libvirt_live_migration_failure_state.CHANGE,
    libvirt_live_migration_no_post_copy.CHANGE,
    libvirt_live_migration_progress_save.CHANGE,
    libvirt_live_migration_post_waits_for_backends.CHANGE,
    # before the wait for the backends: its check that a call came late
    # reads the database
    compute_destination_post_call_retried.CHANGE,
    compute_destination_post_waits_for_backends.CHANGE,
    compute_failed_preparation_waits_for_backends.CHANGE,
    conductor_rollback_waits_for_backends.CHANGE,
    live_migrate_data_moving_ports.CHANGE,
    conductor_live_migration_port_scheduling.CHANGE,
    compute_live_migration_port_claim.CHANGE,
    libvirt_live_migration_ports_stay_attached.CHANGE,
    libvirt_interface_hostdev_managed.CHANGE,
    live_migration_rollback_port_pf.CHANGE,
    pci_tracker_claims_add_up.CHANGE,
    compute_live_migration_pf_limit.CHANGE,
    compute_pci_card_info.CHANGE,
    compute_live_migration_card_check.CHANGE,
    compute_options_checked_at_start.CHANGE,
    compute_live_migration_claims_kept_at_audit.CHANGE,
    compute_live_migration_claims_renewed.CHANGE,
    compute_live_migration_abandoned_checks.CHANGE,
    compute_live_migration_finished_at_restart.CHANGE,
    # last: its checks enclose every other wrapper that frees
    pci_tracker_keeps_guest_devices.CHANGE,
)
