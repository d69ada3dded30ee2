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

"""Record the Nova code the plugin is verified on, from the installed Nova.

Run with the Python of a release's environment once its in-process suite
passed on that Nova, for example::

    .tox/nova2024.1/bin/python tools/record_verified_nova.py

It activates the plugin (allowing an unverified Nova for that) and writes
``nova_vfio_lm/verified/<series>.json``: the signature and source hash of
every Nova callable the plugin wraps and of the internals it relies on.
With ``--check`` it writes nothing and lists what the installed Nova has
that the record does not (exit 1 if anything).
"""

import json
import sys


def main(argv=None):
    args = sys.argv[1:] if argv is None else argv
    check = '--check' in args
    import nova.conf

    from nova_vfio_lm import activation
    from nova_vfio_lm.changes import base
    from nova_vfio_lm import conf
    from nova_vfio_lm import series
    from nova_vfio_lm import verified_nova

    nova_series = series.detect()
    conf.register_opts(nova.conf.CONF)
    nova.conf.CONF.set_override('allow_unverified_nova', True,
                                group='vfio_lm')
    activation.activate()
    found = dict(base.WRAPPED)
    found.update(activation.relied_on_found())
    path = verified_nova.record_path(nova_series.name)
    if check:
        lines = verified_nova.differences(nova_series.name, found)
        print('nova %s against the record of series %s (nova %s): %s' % (
            nova_series.version, nova_series.name,
            verified_nova.load(nova_series.name).get('nova_version'),
            'no difference' if not lines else '%d difference(s)'
            % len(lines)))
        for line in lines:
            print('  %s' % line)
        return 1 if lines else 0
    with open(path, 'w') as f:
        json.dump({'nova_version': nova_series.version,
                   'callables': found}, f, indent=1, sort_keys=True)
        f.write('\n')
    print('%s: %d callables of nova %s' % (path, len(found),
                                           nova_series.version))
    return 0


if __name__ == '__main__':
    sys.exit(main())
