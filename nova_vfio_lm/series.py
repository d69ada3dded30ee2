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

"""Which Nova release is installed, and what the plugin must do there.

Nova 2025.1 (31.0.0) gained native support for live-migrating VFIO variant
driver devices. On older supported releases the plugin backports it; on
native releases it leaves the core to Nova and adds only its own extras.
"""

import dataclasses
from importlib import metadata

BACKPORT = 'backport'
NATIVE = 'native'

#: Nova major version -> release series the plugin backports to.
BACKPORT_SERIES = {29: '2024.1', 30: '2024.2'}
#: First Nova major version with native support.
FIRST_NATIVE_MAJOR = 31
#: Native release series by Nova major version, for display only.
NATIVE_SERIES = {31: '2025.1', 32: '2025.2', 33: '2026.1', 34: '2026.2'}


class UnsupportedNovaRelease(RuntimeError):
    """The installed Nova is older than any release the plugin supports."""


@dataclasses.dataclass(frozen=True)
class NovaSeries:
    version: str
    major: int
    name: str
    mode: str

    @property
    def native(self):
        return self.mode == NATIVE


def from_version(version):
    """Classify a Nova version string.

    :param version: a Nova release string such as ``30.3.0``.
    :raises UnsupportedNovaRelease: for Nova older than 29 (2024.1).
    """
    try:
        major = int(version.split('.')[0])
    except ValueError:
        raise UnsupportedNovaRelease(
            'cannot read the Nova version %r' % version)
    if major in BACKPORT_SERIES:
        return NovaSeries(version, major, BACKPORT_SERIES[major], BACKPORT)
    if major >= FIRST_NATIVE_MAJOR:
        name = NATIVE_SERIES.get(major, 'newer than 2026.2')
        return NovaSeries(version, major, name, NATIVE)
    raise UnsupportedNovaRelease(
        'nova-vfio-lm supports Nova 29 (2024.1) and newer; found nova %s. '
        'Upgrade Nova before installing this plugin.' % version)


def detect():
    """Classify the Nova distribution installed in this Python."""
    return from_version(metadata.version('nova'))
