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

"""A destination whose card runs another firmware is refused, then taken.

Each compute reads the PSID and running firmware of its cards from
recorded ``devlink dev info`` answers in the run folder (``[vfio_lm]
recorded_commands_dir``); compute1 and compute2 start with the same
ConnectX-7 firmware. The scenario rewrites compute2's recording as a
firmware update of its ConnectX-7 would change ``devlink``'s answer and
restarts compute2's nova-compute, as an operator does after such an
update: Nova reads a host's PCI devices from the hypervisor only as
nova-compute starts (its resource audits keep the devices it read then),
so the plugin records a VF's card only then. A server is moved there
while the firmware differs, and again once it is put back.
"""

from nova_vfio_lm_cloud import client
from nova_vfio_lm_cloud import layout

from tests.cloud import base

CX7 = layout.CARDS['cx7']
OTHER_FIRMWARE = '28.42.1010'
#: What the destination's refusal says (``[vfio_lm] card_match = exact``).
REFUSAL = 'NVIDIA supports VF live migration only'


class CardMatchTest(base.CloudScenario):

    def set_cx7_firmware(self, host, firmware):
        """``firmware`` runs on ``host``'s ConnectX-7, as Nova records it.

        Recorded for devlink, then nova-compute restarted; done once its
        start wrote the firmware into Nova's PCI device table.
        """
        wanted = {(CX7['psid'], firmware)}
        if self.cards(host) == wanted:
            return
        self.cloud.nova.record_devlink(host, {'cx7': firmware})
        self.restart_compute(host)
        base.wait_for('%s started with firmware %s' % (host, firmware),
                      lambda: self.cards(host) == wanted, interval=0.5)

    def test_other_firmware_refused_naming_both_then_moves_once_same(self):
        same = {(CX7['psid'], CX7['firmware'])}
        self.assertEqual((same, same),
                         (self.cards('compute1'), self.cards('compute2')))
        server = self.boot('lm.vf1', 'compute1')
        vfs = self.assert_runs_on(server, 'compute1', 1)
        # put back for the next scenarios even if this one fails
        self.addCleanup(self.set_cx7_firmware, 'compute2', CX7['firmware'])
        self.set_cx7_firmware('compute2', OTHER_FIRMWARE)
        compute2_log = self.log_from_now('nova-compute-compute2')

        # compute2's pre-check refuses; the conductor, asked for compute2
        # only, then finds no valid host. The client says only that; the
        # reason is in compute2's log
        refused = self.assertRaises(
            client.ClientError, self.start_live_migration, server,
            'compute2')
        self.assertIn('No valid host', refused.output)

        migration = self.wait_for_migration(server)
        self.assertEqual('error', migration['status'])
        self.assertEqual(vfs, self.assert_runs_on(server, 'compute1', 1))
        self.assertEqual([], self.pci_rows('compute2', server))
        self.assert_nothing_claimed('compute2')
        refusals = [line for line in compute2_log().splitlines()
                    if REFUSAL in line]
        self.assertTrue(refusals, compute2_log())
        for text in ('VF %s' % vfs[0], 'compute1', 'compute2',
                     'PSID %s' % CX7['psid'], 'firmware %s' % OTHER_FIRMWARE,
                     'firmware %s' % CX7['firmware'], 'card_match = exact'):
            self.assertIn(text, refusals[0])

        self.set_cx7_firmware('compute2', CX7['firmware'])
        migration = self.live_migrate(server, 'compute2')

        self.assertEqual('completed', migration['status'])
        self.assert_runs_on(server, 'compute2', 1)
        self.assert_nothing_claimed('compute1')
