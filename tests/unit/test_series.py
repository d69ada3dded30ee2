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

from nova_vfio_lm import series


class SeriesTest(testtools.TestCase):

    def test_2024_1_is_backported(self):
        s = series.from_version('29.4.0')
        self.assertEqual(('2024.1', series.BACKPORT), (s.name, s.mode))
        self.assertFalse(s.native)

    def test_2024_2_is_backported(self):
        s = series.from_version('30.3.0')
        self.assertEqual(('2024.2', series.BACKPORT), (s.name, s.mode))

    def test_2025_1_and_later_are_native(self):
        for version, name in (('31.0.0', '2025.1'), ('32.2.1', '2025.2'),
                              ('33.0.2', '2026.1'), ('34.0.0', '2026.2'),
                              ('40.1.0', 'newer than 2026.2')):
            s = series.from_version(version)
            self.assertEqual((name, series.NATIVE), (s.name, s.mode))
            self.assertTrue(s.native)

    def test_older_nova_is_refused_naming_version(self):
        exc = self.assertRaises(series.UnsupportedNovaRelease,
                                series.from_version, '28.3.0')
        self.assertIn('28.3.0', str(exc))
        self.assertIn('Nova 29 (2024.1)', str(exc))

    def test_unreadable_version_is_refused(self):
        self.assertRaises(series.UnsupportedNovaRelease,
                          series.from_version, 'master')
