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

from importlib import metadata

from oslo_config import cfg
import testtools


def _entry_points():
    dist = metadata.distribution('nova-vfio-lm')
    return list(dist.entry_points)


class EntryPointsTest(testtools.TestCase):

    def test_every_declared_entry_point_loads(self):
        eps = _entry_points()
        self.assertTrue(eps)
        for ep in eps:
            self.assertTrue(callable(ep.load()), ep)

    def test_config_opts_entry_point_lists_vfio_lm_group(self):
        [ep] = [ep for ep in _entry_points()
                if ep.group == 'oslo.config.opts']
        groups = dict(ep.load()())
        self.assertEqual(['vfio_lm'], [str(g) for g in groups])
        conf = cfg.ConfigOpts()
        for group, opts in groups.items():
            conf.register_opts(opts, group=group)
