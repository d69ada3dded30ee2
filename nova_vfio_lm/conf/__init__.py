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

"""The plugin's configuration: one group, ``[vfio_lm]``, in nova.conf."""

import os

from oslo_config import cfg

from nova_vfio_lm.conf import vfio_lm


class InvalidOption(ValueError):
    """A ``[vfio_lm]`` option holds a value it cannot take."""


def register_opts(conf):
    vfio_lm.register_opts(conf)


def check(conf, compute=True):
    """Read every ``[vfio_lm]`` option: a wrong value stops the service.

    Called as a service starts: oslo.config checks ``choices``, ``min``
    and ``max`` only when a value is read, and its message names neither
    the group nor, for a bound, the value.

    :param compute: also check what only nova-compute reads on its own
        host (``recorded_commands_dir`` exists); a scheduler or an upgrade
        check on another host shares nova.conf, not that folder.
    :raises InvalidOption: naming option and value.
    """
    register_opts(conf)
    for opt in vfio_lm.OPTS:
        try:
            getattr(conf.vfio_lm, opt.dest)
        except (cfg.ConfigFileValueError, ValueError) as exc:
            raise InvalidOption('invalid [%s] %s%s: %s' % (
                vfio_lm.GROUP.name, opt.name, _raw_value(conf, opt), exc))
    # a mistyped folder would make every card 'unknown', never refused
    recorded = conf.vfio_lm.recorded_commands_dir
    if compute and recorded and not os.path.isdir(recorded):
        raise InvalidOption('invalid [%s] recorded_commands_dir = %s: not a '
                            'directory' % (vfio_lm.GROUP.name, recorded))


def _raw_value(conf, opt):
    """`` = <value as written>``, or nothing if oslo.config hides it."""
    try:
        value, _loc = opt._get_from_namespace(conf._namespace,
                                              vfio_lm.GROUP.name)
        return ' = %s' % value
    except Exception:
        return ''
