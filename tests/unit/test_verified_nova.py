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

"""The plugin refuses a Nova whose wrapped code it was not verified on.

The records under ``nova_vfio_lm/verified`` must match the Nova pinned for
this environment's series (a stale record fails here: rerun
``tools/record_verified_nova.py``), and a difference stops activation
naming the function and the Nova version, unless
``[vfio_lm] allow_unverified_nova`` lets it run with a warning.
"""

import copy
import logging

import fixtures
import nova.conf
from oslo_config import fixture as config_fixture
import testtools

from nova_vfio_lm import activation
from nova_vfio_lm import conf
from nova_vfio_lm import series
from nova_vfio_lm import verified_nova

ALIAS_SCHEMA = 'nova.pci.request._ALIAS_SCHEMA'


class VerifiedNovaTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.series = series.detect()
        self.record = verified_nova.load(self.series.name)
        conf.register_opts(nova.conf.CONF)
        self.conf = self.useFixture(config_fixture.Config(nova.conf.CONF))

    def test_record_of_this_series_matches_the_installed_nova(self):
        self.assertEqual(self.series.version, self.record['nova_version'])
        recorded = self.record['callables']
        for name in verified_nova.RELIED_ON:
            self.assertIn(name, recorded)
        found = verified_nova.current(set(recorded) -
                                      set(verified_nova.RELIED_ON))
        found.update(activation.relied_on_found())
        self.assertEqual(recorded, found)

    def tampered(self):
        """The record as if the alias schema had differed."""
        record = copy.deepcopy(self.record)
        record['callables'][ALIAS_SCHEMA]['source_sha256'] = '0' * 64
        self.useFixture(fixtures.MockPatch(
            'nova_vfio_lm.verified_nova.load', return_value=record))

    def test_a_difference_stops_activation_naming_it(self):
        self.assertEqual([], activation.unverified(self.series))
        self.tampered()
        error = self.assertRaises(activation.ActivationError,
                                  activation._verify, self.series,
                                  nova.conf.CONF)
        self.assertIn('nova-vfio-lm was not verified on nova %s (series '
                      '%s): %s: its source differs from the verified one'
                      % (self.series.version, self.series.name,
                         ALIAS_SCHEMA), str(error))
        self.assertIn('allow_unverified_nova = true', str(error))

    def test_allowed_difference_is_a_warning(self):
        self.tampered()
        self.conf.config(allow_unverified_nova=True, group='vfio_lm')
        log = self.useFixture(fixtures.FakeLogger(
            name='nova_vfio_lm.activation', level=logging.WARNING))
        activation._verify(self.series, nova.conf.CONF)
        self.assertIn('nova-vfio-lm was not verified on nova %s: %s: its '
                      'source differs' % (self.series.version, ALIAS_SCHEMA),
                      log.output)

    def test_a_series_without_record_is_unverified(self):
        self.assertEqual(
            ['no record of the Nova code the plugin was verified on for '
             'series newer than 2026.2'],
            verified_nova.differences('newer than 2026.2', {}))

    def test_signature_change_is_named(self):
        name = 'nova.compute.manager.ComputeManager.__init__'
        found = {name: dict(self.record['callables'][name],
                            signature='(self)')}
        self.assertEqual(
            ['%s: signature (self), verified %s' % (
                name, self.record['callables'][name]['signature'])],
            verified_nova.differences(self.series.name, found))
