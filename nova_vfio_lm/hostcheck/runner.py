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

"""The one way the check runs external tools, live or from recordings.

A host is more than files: devlink and libvirt answer through commands. The
check asks a runner for every command's output, so a test or an operator
reproducing a report can hand it recorded outputs instead
(``--recorded-commands DIR``). A recording's file name is the command's
words without options, joined with ``-``, ``/`` turned into ``-``, and
``.json`` when the command was run with ``-j`` (``.txt`` otherwise)::

    devlink -j dev info pci/0000:81:00.0
        -> devlink-dev-info-pci-0000:81:00.0.json
    devlink -j port function show pci/0000:81:00.0/1
        -> devlink-port-function-show-pci-0000:81:00.0-1.json
    virsh -r version -> virsh-version.txt

A missing recording stands for a missing tool or a failed command.
"""

import os
import re
import shutil
import subprocess

TIMEOUT = 20
VIRSH_VERSION = ('virsh', '-r', 'version')


class Result:
    """A command's output, or why there is none (``error``)."""

    def __init__(self, output=None, error=None):
        self.output = output
        self.error = error

    @property
    def ok(self):
        return self.output is not None


def recording_name(argv):
    """The file name a command's recorded output is kept under."""
    words = [w.replace('/', '-') for w in argv if not w.startswith('-')]
    return '-'.join(words) + ('.json' if '-j' in argv else '.txt')


def parse_virsh_version(text):
    """``(libvirt, qemu)`` version strings from ``virsh version``."""
    found = {}
    for key, pattern in (('libvirt', r'Using library: libvirt (\S+)'),
                         ('qemu', r'Running hypervisor: QEMU (\S+)')):
        match = re.search(pattern, text or '')
        found[key] = match.group(1) if match else None
    return found['libvirt'], found['qemu']


def _dotted(number):
    """libvirt's packed version number (``10000000``) -> ``10.0.0``."""
    return '%d.%d.%d' % (number // 1000000, number // 1000 % 1000,
                         number % 1000)


class CommandRunner:
    """Runs tools on this host."""

    def run(self, argv):
        if shutil.which(argv[0]) is None:
            return Result(error='%s is not installed' % argv[0])
        try:
            proc = subprocess.run(list(argv), capture_output=True, text=True,
                                  timeout=TIMEOUT)
        except (OSError, subprocess.SubprocessError) as exc:
            return Result(error='%s: %s' % (' '.join(argv), exc))
        if proc.returncode != 0:
            lines = (proc.stderr or proc.stdout or '').strip().splitlines()
            return Result(error='%s exited %d%s' % (
                ' '.join(argv), proc.returncode,
                ': %s' % lines[-1] if lines else ''))
        return Result(output=proc.stdout)

    def versions(self):
        """``((libvirt, qemu), source)``, as Nova reads them.

        Through the libvirt binding when it is importable (what Nova
        itself uses), else ``virsh -r version``; a version is ``None``
        when neither answers.
        """
        try:
            import libvirt

            conn = libvirt.openReadOnly('qemu:///system')
            try:
                return (_dotted(conn.getLibVersion()),
                        _dotted(conn.getVersion())), 'libvirt binding'
            finally:
                conn.close()
        except Exception as exc:  # any binding or daemon problem
            binding_error = 'libvirt binding: %s' % (
                str(exc).strip() or type(exc).__name__)
        result = self.run(VIRSH_VERSION)
        if not result.ok:
            return (None, None), '%s; %s' % (binding_error, result.error)
        return parse_virsh_version(result.output), 'virsh version'


class RecordedRunner(CommandRunner):
    """Answers with outputs recorded in a directory (see module doc)."""

    def __init__(self, directory):
        self.directory = directory

    def run(self, argv):
        name = recording_name(argv)
        try:
            with open(os.path.join(self.directory, name)) as f:
                return Result(output=f.read())
        except OSError:
            return Result(error='%s: no recorded output (%s)' % (
                ' '.join(argv), name))

    def versions(self):
        result = self.run(VIRSH_VERSION)
        if not result.ok:
            return (None, None), result.error
        return parse_virsh_version(result.output), 'virsh version'
