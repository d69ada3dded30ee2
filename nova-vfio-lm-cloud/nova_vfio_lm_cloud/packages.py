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

"""The Debian packages the local cloud runs on, installed if missing.

MariaDB and RabbitMQ are the distribution's, as on a real controller;
``qemu-img`` (qemu-utils) is what Nova's libvirt driver calls on images.
Installing needs root and apt, so anyone else gets the exact command to
run instead of a half-started cloud.
"""

import os
import shutil
import subprocess

#: What the cloud needs from Debian.
DEBIAN_PACKAGES = ('mariadb-server', 'rabbitmq-server', 'qemu-utils')
APT_TIMEOUT = 900


class PackagesMissing(RuntimeError):
    """Packages are missing and cannot be installed from here."""


def missing_packages(names):
    """The packages of ``names`` that dpkg does not have installed."""
    missing = []
    for name in names:
        result = subprocess.run(
            ['dpkg-query', '-W', '-f=${Status}', name],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            universal_newlines=True)
        if result.returncode or not result.stdout.endswith(' installed'):
            missing.append(name)
    return missing


def ensure_debian_packages(names=DEBIAN_PACKAGES, timeout=APT_TIMEOUT):
    """Install the missing packages of ``names`` with apt-get.

    :raises PackagesMissing: when not root, without apt-get, or when apt
        fails; the message has the command to run.
    """
    if not shutil.which('dpkg-query'):
        raise PackagesMissing('dpkg-query not found: the local cloud needs '
                              'a Debian-like system with %s'
                              % ' '.join(names))
    missing = missing_packages(names)
    if not missing:
        return []
    command = ('apt-get update && DEBIAN_FRONTEND=noninteractive '
               'apt-get install -y %s' % ' '.join(missing))
    if os.geteuid() != 0 or not shutil.which('apt-get'):
        raise PackagesMissing('missing Debian packages: %s; as root run: %s'
                              % (' '.join(missing), command))
    env = dict(os.environ, DEBIAN_FRONTEND='noninteractive')
    try:
        for argv in (['apt-get', 'update'],
                     ['apt-get', 'install', '-y'] + missing):
            subprocess.run(argv, stdin=subprocess.DEVNULL, env=env,
                           check=True, timeout=timeout)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        raise PackagesMissing('installing %s failed (%s); run as root: %s'
                              % (' '.join(missing), exc, command))
    return missing
