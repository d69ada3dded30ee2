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

"""The test cloud's hypervisor controls refuse what they cannot act on.

``nova-vfio-lm-cloud hypervisor destroy|release|fail`` name files in the
run folder after their arguments: a value that is not a server UUID, a
host without a hypervisor or a guest it does not keep is refused with a
message, never a path built from it.
"""

import os
import tempfile
import threading

import testtools

from nova_vfio_lm_cloud import hypervisor as hypervisor_mod

UUID = '6f1d0c2e-6a1b-4d3c-9a57-0c1e0d7b9f21'


class HypervisorControlsTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        folder = tempfile.TemporaryDirectory()
        self.addCleanup(folder.cleanup)
        self.hyper = hypervisor_mod.Hypervisor(
            os.path.join(folder.name, 'hypervisor'))

    def refused(self, call, *args):
        return str(self.assertRaises(hypervisor_mod.HypervisorError, call,
                                     *args))

    def test_destroy_stops_and_undefines_the_guest(self):
        self.hyper.host('compute2').save(UUID, '<domain/>', True)

        self.hyper.destroy('compute2', UUID)

        self.assertEqual({}, self.hyper.host('compute2').all())

    def test_destroy_refuses_a_bad_uuid_host_or_guest(self):
        self.assertEqual([], self.hyper.hosts())  # no folder yet
        self.hyper.host('compute2').save(UUID, '<domain/>', True)
        self.assertIn("'../compute2/x' is not a server UUID", self.refused(
            self.hyper.destroy, 'compute2', '../compute2/x'))
        self.assertIn("no hypervisor of a host 'compute9'", self.refused(
            self.hyper.destroy, 'compute9', UUID))
        self.assertIn("no hypervisor of a host None", self.refused(
            self.hyper.destroy, None, UUID))
        other = UUID.replace('6f', '7f', 1)
        self.assertIn('compute2 keeps no guest %s' % other, self.refused(
            self.hyper.destroy, 'compute2', other))
        self.assertEqual([UUID], list(self.hyper.host('compute2').all()))

    def test_release_refuses_a_bad_uuid(self):
        self.assertIn("'x/../y' is not a server UUID", self.refused(
            self.hyper.decide, 'x/../y', 'release'))
        self.assertIn('no migration of %s is held' % UUID, self.refused(
            self.hyper.decide, UUID, 'release'))

    def test_monitor_pause_is_a_hold_point(self):
        self.assertIn("'../x' is not a server UUID", self.refused(
            self.hyper.pause_monitor, '../x'))
        self.hyper.wait_while_monitor_paused(UUID)  # not paused: returns
        self.hyper.pause_monitor(UUID)
        self.assertFalse(self.hyper.monitor_paused(UUID))

        # the source's libvirt marks it paused, then waits until resumed
        waiter = threading.Thread(
            target=self.hyper.wait_while_monitor_paused, args=(UUID,))
        waiter.start()
        for _ in range(100):  # a bound, not a timing assertion
            if self.hyper.monitor_paused(UUID):
                break
            waiter.join(0.05)
        self.assertTrue(self.hyper.monitor_paused(UUID))
        self.assertTrue(waiter.is_alive())
        self.hyper.resume_monitor(UUID)
        waiter.join(10)
        self.assertFalse(waiter.is_alive())
