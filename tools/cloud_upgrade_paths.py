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

"""Run the rolling-upgrade scenario from each old release, side by side.

``tox -e cloud-upgrade`` runs this: one ``nova-vfio-lm-cloud test
--test-path tests/cloud_upgrade`` per old release, each from that
release's environment with its own run folder and base port, all upgrading
to the environment named by ``--to``. The clouds spend most of their time
waiting on RPC, so running them at once takes little more than the
slowest alone. Each one's output is printed whole when it ends (stestr's
totals included); the exit code is the worst. SIGINT or SIGTERM is passed
on as SIGINT, on which each ``cloud test`` stops its cloud.

Run: ``python tools/cloud_upgrade_paths.py --to NEW_VENV
--from OLD_VENV [--from OTHER_OLD_VENV]`` (from the source tree).
"""

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time

#: The first path's run folder and base port; each next one gets +1 and
#: +1000 (a cloud listens on its base port plus up to 778).
FOLDER = '/var/tmp/nova-vfio-lm-upgrade'
BASE_PORT = 24000
#: Bound of one path, cloud start and stop included (seconds).
TIMEOUT = 3600


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--to', required=True,
                        help='the environment of the new release')
    parser.add_argument('--from', dest='old', action='append',
                        required=True, help='an old release\'s environment')
    parser.add_argument('--folder', default=os.environ.get(
        'NOVA_VFIO_LM_UPGRADE_CLOUD_DIR', FOLDER))
    parser.add_argument('--base-port', type=int, default=int(os.environ.get(
        'NOVA_VFIO_LM_UPGRADE_BASE_PORT', BASE_PORT)))
    args, rest = parser.parse_known_args(argv)

    children = []
    for index, old in enumerate(args.old):
        env = dict(os.environ,
                   NOVA_VFIO_LM_CLOUD_DIR='%s-%d' % (args.folder, index + 1),
                   NOVA_VFIO_LM_CLOUD_BASE_PORT=str(args.base_port
                                                    + 1000 * index),
                   NOVA_VFIO_LM_UPGRADE_VENV=os.path.abspath(args.to))
        output = tempfile.TemporaryFile()
        argv = [os.path.join(old, 'bin', 'nova-vfio-lm-cloud'), 'test',
                '--test-path', os.path.join('tests', 'cloud_upgrade'),
                '--lm-computes', '3'] + rest
        print('+ [%s] %s' % (old, ' '.join(argv)), flush=True)
        children.append((old, time.monotonic(), output, subprocess.Popen(
            argv, env=env, stdin=subprocess.DEVNULL, stdout=output,
            stderr=subprocess.STDOUT)))

    def pass_on(signum, frame):
        for _old, _started, _output, child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGINT)
    signal.signal(signal.SIGINT, pass_on)
    signal.signal(signal.SIGTERM, pass_on)

    ended = {}
    deadline = time.monotonic() + TIMEOUT
    while len(ended) < len(children) and time.monotonic() < deadline:
        for old, started, _output, child in children:
            if old not in ended and child.poll() is not None:
                ended[old] = time.monotonic() - started
        time.sleep(2)
    worst = 0
    for old, started, output, child in children:
        if child.poll() is None:
            print('[%s] did not end within %d s' % (old, TIMEOUT))
            child.send_signal(signal.SIGINT)  # it stops its cloud
            child.wait(timeout=300)
            ended[old] = time.monotonic() - started
        output.seek(0)
        sys.stdout.write(output.read().decode('utf-8', 'replace'))
        print('[%s] exit %d after %.0f s' % (
            old, child.returncode, ended[old]), flush=True)
        worst = max(worst, abs(child.returncode))
    return worst


if __name__ == '__main__':
    sys.exit(main())
