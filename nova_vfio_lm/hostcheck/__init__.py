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
