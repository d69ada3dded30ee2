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

import testtools

from nova_vfio_lm import changes
from nova_vfio_lm.changes import base
from nova_vfio_lm import series


class Target:
    def greet(self):
        return 'hello'


class Shout(base.Change):
    name = 'shout'
    summary = 'greetings in capitals'
    series = frozenset({30})

    def _apply(self):
        def make(original):
            def greet(self):
                return original(self).upper()
            return greet
        base.wrap(Target, 'greet', make)


class Exclaim(base.Change):
    name = 'exclaim'
    summary = 'greetings end with a bang'
    series = frozenset({30})

    def _apply(self):
        def make(original):
            def greet(self):
                return original(self) + '!'
            return greet
        base.wrap(Target, 'greet', make)


class ChangeTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        original = Target.greet
        self.addCleanup(setattr, Target, 'greet', original)

    def test_applies_once_on_a_series_that_needs_it(self):
        change = Shout()
        nova30 = series.from_version('30.3.0')
        self.assertEqual(base.NOT_APPLIED, change.status(nova30).state)
        self.assertEqual(base.APPLIED, change.apply(nova30).state)
        self.assertEqual(base.APPLIED, change.apply(nova30).state)
        self.assertEqual('HELLO', Target().greet())

    def test_wrap_twice_wraps_once(self):
        Shout()._apply()
        Shout()._apply()
        self.assertEqual('HELLO', Target().greet())

    def test_two_changes_wrap_one_attribute_each_once(self):
        for change in (Shout(), Exclaim(), Shout(), Exclaim()):
            change._apply()
        self.assertEqual('HELLO!', Target().greet())
        self.assertEqual('hello', base.stock(Target.greet)(Target()))

    def test_not_needed_on_native_nova(self):
        change = Shout()
        nova34 = series.from_version('34.0.0')
        status = change.apply(nova34)
        self.assertEqual(base.NOT_NEEDED, status.state)
        self.assertIn('natively', status.why)
        self.assertEqual('hello', Target().greet())

    def test_every_change_is_named_and_gated(self):
        names = [change.name for change in changes.ALL]
        self.assertEqual(len(names), len(set(names)))
        for change in changes.ALL:
            self.assertTrue(change.summary)
            self.assertTrue(change.series)
            if change.series in (base.EVERY_SERIES, base.NATIVE_SERIES):
                continue  # an extra, or a mend of native code
            # nothing Nova 2025.1+ does natively is patched there
            self.assertFalse(
                any(major >= series.FIRST_NATIVE_MAJOR
                    for major in change.series), change.name)


class VersionRequirementTest(testtools.TestCase):

    def test_message_names_found_and_required_versions(self):
        from nova_vfio_lm.changes import libvirt_version_requirements as req
        self.assertIsNone(req.requirement_error(True, (10, 0, 0), (8, 2, 2)))
        self.assertIsNone(req.requirement_error(False, (8, 0, 0), (7, 0, 0)))
        message = req.requirement_error(True, (10, 0, 0), (8, 2, 1))
        self.assertIn('QEMU >= 8.2.2', message)
        self.assertIn('QEMU 8.2.1', message)


class DocumentedChangesTest(testtools.TestCase):

    def test_admin_guide_lists_every_change(self):
        import os
        path = os.path.join(os.path.dirname(__file__), '..', '..', 'doc',
                            'source', 'admin', 'enabling.rst')
        with open(path) as f:
            text = f.read()
        for change in changes.ALL:
            self.assertIn('``%s``' % change.name, text)
