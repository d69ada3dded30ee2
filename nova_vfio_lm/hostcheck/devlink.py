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

"""What devlink says about a PF and its VFs' ports (always asked of the PF).

Any key devlink leaves out means the kernel, driver or iproute2 does not
support it: the answer is ``None`` (or ``'unknown'`` in :class:`CardInfo`)
with the reason, never an error.
"""

import collections
import json

UNKNOWN = 'unknown'

#: A PF's card identity; ``psid`` and ``firmware`` may be ``'unknown'``.
CardInfo = collections.namedtuple('CardInfo', 'psid firmware stored error')


def _json(runner, argv):
    """``(document, error)`` of one ``devlink -j`` command."""
    result = runner.run(argv)
    if not result.ok:
        return None, result.error
    try:
        return json.loads(result.output), None
    except ValueError:
        return None, '%s: output is not JSON' % ' '.join(argv)


def _under(document, *keys):
    for key in keys:
        if not isinstance(document, dict) or key not in document:
            return None
        document = document[key]
    return document


def card_info(pf, runner=None):
    """The PSID and running firmware of a PF (``devlink dev info``).

    Both ends of a migration need the same card and firmware, so this is
    what another host's answer is compared with. ``stored`` is the flashed
    firmware, which runs only after a reset; ``error`` says what was
    unknown. ``runner`` defaults to running devlink on this host.
    """
    if runner is None:
        from nova_vfio_lm.hostcheck import runner as runner_mod

        runner = runner_mod.CommandRunner()
    handle = 'pci/%s' % pf
    document, error = _json(runner, ('devlink', '-j', 'dev', 'info', handle))
    versions = _under(document, 'info', handle, 'versions') or {}
    psid = _under(versions, 'fixed', 'fw.psid')
    running = (_under(versions, 'running', 'fw.version') or
               _under(versions, 'running', 'fw'))
    stored = (_under(versions, 'stored', 'fw.version') or
              _under(versions, 'stored', 'fw'))
    if error is None and not (psid and running):
        error = 'devlink dev info %s has no %s' % (handle, ' or '.join(
            k for k, v in (('fw.psid', psid), ('running fw.version', running))
            if not v))
    return CardInfo(psid or UNKNOWN, running or UNKNOWN, stored, error)


def eswitch_mode(pf, runner):
    """``(mode, error)``: ``switchdev``, ``legacy`` or ``None``."""
    handle = 'pci/%s' % pf
    document, error = _json(
        runner, ('devlink', '-j', 'dev', 'eswitch', 'show', handle))
    mode = _under(document, 'dev', handle, 'mode')
    if mode is None and error is None:
        error = 'devlink dev eswitch show %s has no mode' % handle
    return mode, error


def vf_port(pf, index, runner):
    """``(port, error)``: the devlink port (``pci/PF/N``) of VF ``index``.

    VF ports exist only while the PF's eswitch is in ``switchdev`` mode.
    """
    document, error = _json(runner, ('devlink', '-j', 'port', 'show'))
    if error:
        return None, error
    prefix = 'pci/%s/' % pf
    for port, attrs in sorted((_under(document, 'port') or {}).items()):
        if (port.startswith(prefix) and isinstance(attrs, dict) and
                attrs.get('flavour') == 'pcivf' and
                attrs.get('vfnum') == index and
                attrs.get('controller', 0) == 0):
            return port, None
    return None, 'devlink port show lists no pcivf port for VF %s of %s' % (
        index, pf)


def migratable(port, runner):
    """``(state, error)``: ``enable``/``disable`` of a VF port's function."""
    document, error = _json(
        runner, ('devlink', '-j', 'port', 'function', 'show', port))
    # the flat shape, or iproute2's with the function's attributes nested
    state = (_under(document, 'port', port, 'migratable') or
             _under(document, 'port', port, 'function', 'migratable'))
    if state is None and error is None:
        error = ('devlink port function show %s has no migratable key '
                 '(kernel, driver or iproute2 without it)' % port)
    return state, error
