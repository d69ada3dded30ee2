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

# Nova's test packages apply eventlet monkey-patching; it must come before
# anything imports threading (oslo.db binds its transaction context to
# threading.local when imported), as in Nova's own test runs. Nova 2024.x
# patches on `import nova.monkey_patch`, later releases on its `patch()`,
# which nova.tests.functional calls on 2026.1+ but not on 2025.2 (its tests
# then share one READER transaction between greenthreads).
from nova import monkey_patch

if hasattr(monkey_patch, 'patch'):
    monkey_patch.patch()

import nova.tests.functional  # noqa: F401,E402
