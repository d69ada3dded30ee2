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

"""The fixture hosts under ``tests/fixtures/hosts``, built where tests read.

A host's sysfs names drivers, PFs and VFs by symbolic links. The repo
keeps each host's links in ``links.json`` (``{path under root: target}``)
and the rest as plain files, since an sdist drops symbolic links: each
test process builds a copy of a host's ``root`` with its links once, in a
temporary folder removed when the process ends.
"""

import atexit
import json
import os
import shutil
import sys
import tempfile

HOSTS = os.path.join(os.path.dirname(__file__), 'fixtures', 'hosts')

_built = {}
#: the temporary folder when this module was imported, before any test
#: points ``tempfile`` elsewhere
_TMP = tempfile.gettempdir()


def root(host):
    """The built ``root`` folder of fixture host ``host``.

    Built again if it is gone: Nova's functional tests point ``tempfile``
    at a folder of their own, removed when the test ends.
    """
    if not os.path.isdir(_built.get(host) or ''):
        _built[host] = _build(host)
    return _built[host]


def commands(host):
    """The folder of the commands recorded on fixture host ``host``."""
    return os.path.join(HOSTS, host, 'commands')


def _build(host):
    folder = tempfile.mkdtemp(prefix='nova-vfio-lm-host-%s-' % host,
                              dir=_TMP)
    atexit.register(shutil.rmtree, folder, True)
    return build(host, os.path.join(folder, 'root'))


def build(host, built):
    """Build the ``root`` of fixture host ``host`` at ``built`` (new)."""
    source = os.path.join(HOSTS, host)
    if not os.path.isdir(source):
        raise ValueError('no fixture host %r under %s' % (host, HOSTS))
    shutil.copytree(os.path.join(source, 'root'), built)
    with open(os.path.join(source, 'links.json')) as links:
        for path, target in sorted(json.load(links).items()):
            os.symlink(target, os.path.join(built, path))
    return built


if __name__ == '__main__':
    # python -m tests.host_fixtures HOST FOLDER: a lasting copy, for a
    # check-host run by hand or by tools/check_package.sh
    print(build(sys.argv[1], sys.argv[2]))
