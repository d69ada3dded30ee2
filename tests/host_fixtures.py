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
import tempfile

HOSTS = os.path.join(os.path.dirname(__file__), 'fixtures', 'hosts')

_built = {}


def root(host):
    """The built ``root`` folder of fixture host ``host``."""
    if host not in _built:
        _built[host] = _build(host)
    return _built[host]


def commands(host):
    """The folder of the commands recorded on fixture host ``host``."""
    return os.path.join(HOSTS, host, 'commands')


def _build(host):
    source = os.path.join(HOSTS, host)
    if not os.path.isdir(source):
        raise ValueError('no fixture host %r under %s' % (host, HOSTS))
    folder = tempfile.mkdtemp(prefix='nova-vfio-lm-host-%s-' % host)
    atexit.register(shutil.rmtree, folder, True)
    built = os.path.join(folder, 'root')
    shutil.copytree(os.path.join(source, 'root'), built)
    with open(os.path.join(source, 'links.json')) as links:
        for path, target in sorted(json.load(links).items()):
            os.symlink(target, os.path.join(built, path))
    return built
