#!/usr/bin/env bash
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
#
# The package as a packager gets it (tox -e package): build the sdist and
# the wheel, install the wheel into a fresh venv with the pinned Nova 2024.2,
# check it holds the plugin and nothing of the test clouds, run
# nova-vfio-lm --version, status and check-host on a fixture host, and
# the unit tests from the unpacked sdist against the installed wheel (the
# sdist's own nova_vfio_lm folder removed, so nothing but the wheel serves
# the package).
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
work=${1:?usage: check_package.sh WORK_FOLDER}
nova=nova==30.3.0
constraints=$repo/constraints/nova-2024.2.txt

rm -rf "$work"
mkdir -p "$work"
echo "== build"
python -m build --sdist --wheel --outdir "$work/dist" "$repo"
sdist=$(ls "$work"/dist/*.tar.gz)
wheel=$(ls "$work"/dist/*.whl)

echo "== install $(basename "$wheel") with $nova into a fresh venv"
python -m venv "$work/venv"
PIP_CONSTRAINT=$constraints "$work/venv/bin/python" -m pip install -q \
    "$nova" "$wheel" -r "$repo/test-requirements.txt"

echo "== the wheel holds the plugin only"
# no test cloud: no fake libvirt binding, no agent stand-in, no installer
"$work/venv/bin/python" - "$wheel" <<'PY'
import sys
import zipfile

names = zipfile.ZipFile(sys.argv[1]).namelist()
stray = [n for n in names
         if n.split('/')[0] not in ('nova_vfio_lm',) and
         '.dist-info/' not in n and '.data/' not in n]
stray += [n for n in names if 'fakelibvirt' in n or 'localcloud' in n or
          n.endswith('/libvirt.py')]
if stray:
    sys.exit('not the plugin: %s' % ', '.join(sorted(stray)))
print('%d files, all nova_vfio_lm' % len(names))
PY

mkdir "$work/src"
tar -xzf "$sdist" -C "$work/src"
src=$(ls -d "$work"/src/*/)
rm -r "$src/nova_vfio_lm"
cd "$src"
bin=$work/venv/bin

echo "== nova-vfio-lm --version"
"$bin/nova-vfio-lm" --version
echo "== nova-vfio-lm status"
"$bin/nova-vfio-lm" status
echo "== nova-vfio-lm check-host (fixture host ready-cx7)"
root=$("$bin/python" -m tests.host_fixtures ready-cx7 "$work/host")
cat > "$work/check-host.conf" <<'CONF'
[pci]
device_spec = {"vendor_id": "15b3", "product_id": "101e", "live_migratable": "yes", "managed": "no"}
CONF
"$bin/nova-vfio-lm" check-host --config-file "$work/check-host.conf" \
    --host-root "$root" \
    --recorded-commands tests/fixtures/hosts/ready-cx7/commands
echo "== unit tests from the sdist, against the wheel"
# but those of the test clouds (their own distribution, nova-vfio-lm-cloud,
# which a packager of the plugin does not install): removed from this
# unpacked copy, as discovery would import them
grep -lE 'nova_vfio_lm_cloud|commands\.cloud\(|binding_jobs' \
    tests/unit/*.py | xargs rm -v
"$bin/python" -m stestr --test-path tests/unit run
