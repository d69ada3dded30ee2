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

"""Every command, argument and flag of both commands says what it is for."""

import argparse

import testtools

from nova_vfio_lm.cmd import manage
from nova_vfio_lm_cloud import cli as cloud_cli


def without_help(parser, path):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helped = {choice.dest for choice in action._choices_actions}
            for name, sub in action.choices.items():
                if name not in helped:
                    yield ' '.join(path + [name])
                yield from without_help(sub, path + [name])
        elif not action.help and not isinstance(action,
                                                argparse._HelpAction):
            yield ' '.join(path + [action.dest])


class HelpTextTest(testtools.TestCase):

    def test_plugin_command(self):
        self.assertEqual(
            [], list(without_help(manage.parser(), ['nova-vfio-lm'])))

    def test_cloud_command(self):
        self.assertEqual([], list(without_help(cloud_cli.parser(),
                                               ['nova-vfio-lm-cloud'])))
