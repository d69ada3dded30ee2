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

"""nova-compute refuses to start with a wrong ``[vfio_lm]`` value.

oslo.config would only complain when the option is first read, in the
middle of a live migration. Reading them all as the compute starts turns a
typo into a start failure that names the option and the value.
"""

from nova_vfio_lm.changes import base


class ComputeOptionsCheckedAtStart(base.Change):
    name = 'compute_options_checked_at_start'
    summary = 'nova-compute stops at start on a wrong [vfio_lm] value'
    series = base.EVERY_SERIES

    def _apply(self):
        from nova.compute import manager
        import nova.conf

        from nova_vfio_lm import conf

        def make(original):
            def init_host(self, *args, **kwargs):
                conf.check(nova.conf.CONF)
                return original(self, *args, **kwargs)
            return init_host

        base.wrap(manager.ComputeManager, 'init_host', make)


CHANGE = ComputeOptionsCheckedAtStart()
