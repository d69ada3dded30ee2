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

"""Fault cases of the campaign, most of which the default test run leaves out.

``PreCheckAndPreparationTest`` runs in the default test run too; each
case of ``CampaignTest`` repeats, with the real RPC and the real database,
a mend that in-process tests and the default cloud scenarios already
cover at another step, or shows what Nova itself leaves at a
step no default scenario reaches, and that the operator's documented
actions end it; they run with ``tox -e
cloud-faults2024.1`` (or ``cloud-faults-latest``): see
``doc/source/admin/faults.rst``. A fault is a process stopped (SIGSTOP)
or killed before the step, never at a guessed moment: at a hold point of
the stand-in hypervisor, once RabbitMQ counts a call in a stopped
compute's queue, or once a service logged that it reached the step (a
migration waiting for its PF).
"""

import threading

import testtools

from nova_vfio_lm_cloud import client as client_mod
from tests.cloud import base


class CampaignScenario(base.CloudScenario):
    """What the campaign's cases share."""

    def assert_completed_on_compute2(self, server_id):
        """The migration completed; one VF on compute2, none left behind."""
        self.assertEqual('completed',
                         self.wait_for_migration(server_id)['status'])
        self.assert_runs_on(server_id, 'compute2', 1)
        self.assert_nothing_claimed('compute1')
        self.assert_cloud_consistent()

    def assert_stayed_then_moves(self, server_id):
        """Nothing of the server on compute2; on compute1, a retry moves it."""
        self.assertEqual([], self.pci_rows('compute2', server_id))
        self.assert_runs_on(server_id, 'compute1', 1)
        self.assertEqual('completed',
                         self.live_migrate(server_id, 'compute2')['status'])
        self.assert_runs_on(server_id, 'compute2', 1)
        self.assert_cloud_consistent()

    def queued_behind_a_held_move(self):
        """A VF server's move to compute2 ``queued`` behind a held one.

        Nova runs one live migration at a time per source compute: a
        server without VFs moves from compute1 to compute3, held at the
        hypervisor; the VF server's pre-check is done and its VF claimed
        on compute2. Returns both servers, the held one first.
        """
        first = self.boot('plain', 'compute1')
        self.hypervisor.set_mode('hold')
        self.start_live_migration(first, 'compute3')
        self.wait_until_held(first)
        server = self.boot('lm.vf1', 'compute1')
        self.start_live_migration(server, 'compute2')
        self.assertEqual('queued', self.wait_for_migration(
            server, ('queued',))['status'])
        self.assertEqual(1, len(self.pci_rows('compute2', server)))
        return first, server

    def set_vfio_lm_option(self, host, option, value=None):
        """Restart compute ``host`` with ``[vfio_lm] option = value``.

        Written into its config file's ``[vfio_lm]`` section; ``None``
        takes the line out again (the option's default).
        """
        path = self.cloud.nova.compute_conf(host)
        with open(path) as f:
            lines = [line for line in f.read().splitlines()
                     if not line.startswith(option + ' ')]
        if value is not None:
            at = lines.index('[vfio_lm]') + 1
            lines.insert(at, '%s = %s' % (option, value))
        with open(path, 'w') as f:
            f.write('\n'.join(lines) + '\n')
        self.restart_compute(host)

    def set_pf_limit(self, host, limit=None):
        """``max_migrating_vfs_per_pf`` on ``host``; ``None``: the default.

        The default, 4, a 4-VF card never exceeds.
        """
        self.set_vfio_lm_option(host, 'max_migrating_vfs_per_pf', limit)

    def wait_until_waiting_for_its_pf(self, server_id, source_log):
        """Until the source logged that the server's move waits for a PF."""
        def waiting():
            return any(server_id in line and ' waits: ' in line
                       for line in source_log().splitlines())
        base.wait_for('the migration of %s waiting for its PF' % server_id,
                      waiting, interval=0.5)

    def assert_both_complete_with_placement_down(self, first, second):
        """The held move completes, then the one behind it; placement down.

        Each server ends on compute2 with one VF, nothing left on
        compute1; placement is started again after both ended, and the
        allocations the migrations kept go with the documented action.
        """
        self.hypervisor.set_mode('complete')
        self.complete_held_job(first)
        migrations = [self.wait_for_migration(server)
                      for server in (first, second)]
        self.cloud.start_service('placement')

        self.assertEqual(['completed', 'completed'],
                         [m['status'] for m in migrations])
        for server in (first, second):
            self.assert_runs_on(server, 'compute2', 1)
        self.assert_nothing_claimed('compute1')
        self.delete_migration_allocation(*[m['uuid'] for m in migrations])
        self.assert_cloud_consistent()

    def kill_database(self):
        """Kill MariaDB; started again at the latest when the test ends."""
        self.cloud.sup.kill('mariadb')
        self.addCleanup(self.start_if_stopped, 'mariadb')

    def start_database_once(self, what, logs, texts):
        """Start MariaDB once a service met it stopped.

        :param what: the wait's description.
        :param logs: readers of the logs of the services that may meet it.
        :param texts: what one of those logs says then: the step waiting
            for the database, or (before its mend) failing.
        """
        base.wait_for(what, lambda: any(
            text in log() for log in logs for text in texts), interval=0.5)
        self.cloud.start_service('mariadb')

    def post_migration_call_queued(self):
        """A server whose post-migration call waits in compute2's queue.

        The job completed (the guest runs on compute2 only) while the
        source's monitor was paused; compute2 is stopped and the monitor
        goes on until RabbitMQ counts the source's call in compute2's
        queue. Returns the server.
        """
        server = self.migration_with_monitor_paused()
        self.complete_held_job(server)
        self.stop_service('nova-compute-compute2')
        self.hypervisor.resume_monitor(server)
        base.wait_for('the post-migration of %s in the queue of compute2'
                      % server, lambda: self.calls_waiting_for('compute2'),
                      interval=0.5)
        return server

    def pre_check_call_queued(self, server):
        """The move asked for; its pre-check waits in compute2's queue.

        compute2 is stopped first; the case goes on once RabbitMQ counts
        the conductor's call there. The API's call waits for the conductor
        (or times out), so it runs in a thread, returned.
        """
        self.stop_service('nova-compute-compute2')
        asked = threading.Thread(target=self.start_live_migration_anyhow,
                                 args=(server, 'compute2'))
        asked.start()
        self.addCleanup(asked.join, 300)
        base.wait_for('the pre-check of %s in the queue of compute2'
                      % server, lambda: self.calls_waiting_for('compute2'),
                      interval=0.5)
        return asked

    def preparation_call_queued(self):
        """A server whose preparation call waits in compute2's queue.

        Its move to compute2 waits ``queued`` behind a held one; compute2
        is stopped, the held job completes, and the case goes on once
        RabbitMQ counts the source's preparation call in compute2's queue.
        Returns the server.
        """
        first, server = self.queued_behind_a_held_move()
        self.stop_service('nova-compute-compute2')
        self.complete_held_job(first, 'compute3')
        self.hypervisor.set_mode('complete')
        self.assertEqual('completed',
                         self.wait_for_migration(first)['status'])
        base.wait_for('the preparation of %s in the queue of compute2'
                      % server, lambda: self.calls_waiting_for('compute2'),
                      interval=0.5)
        return server

    def restart_rabbitmq_losing_the_calls_of(self, host):
        """Restart RabbitMQ while calls wait in stopped ``host``'s queue.

        Nova's queues do not outlive the broker: the calls are lost.
        ``host``'s compute is continued; returns once every Nova queue
        that had a consumer has one again.
        """
        queues = self.nova_queues()
        self.cloud.rabbit.restart()
        self.assertEqual(0, self.calls_waiting_for(host))
        self.continue_service('nova-compute-' + host)
        self.wait_for_consumers(queues)

    def start_live_migration_anyhow(self, server_id, host):
        """Ask for the move; the API's answer (maybe an error) is not read."""
        self.ask_live_migration(server_id, host, [])

    def ask_live_migration(self, server_id, host, answer, computes_up=True):
        """Ask for the move; append ``'ok'`` or the client's error."""
        try:
            self.start_live_migration(server_id, host,
                                      computes_up=computes_up)
            answer.append('ok')
        except client_mod.ClientError as error:
            answer.append(str(error))

    def move_given_up_with_the_conductor_stopped(self):
        """A VF server on compute1 whose move the API gave up on.

        The conductor is stopped (SIGCONT when the test ends) before the
        move to compute2 is asked for; the API's call to it times out:
        HTTP 500, ``MessagingTimeout``. Returns the server.
        """
        server = self.boot('lm.vf1', 'compute1')
        self.stop_service('nova-conductor')
        answer = []
        asked = threading.Thread(target=self.ask_live_migration,
                                 args=(server, 'compute2', answer))
        asked.start()
        asked.join(300)
        self.assertIn('500', answer[0])
        self.assertIn('MessagingTimeout', answer[0])
        return server

    def live_migration_actions(self, server_id):
        """The server's ``live-migration`` instance actions."""
        return [a for a in self.rest.compute(
            '/servers/%s/os-instance-actions' % server_id)['instanceActions']
            if a['action'] == 'live-migration']

    def calls_waiting_for(self, host):
        """How many calls wait for compute ``host``, by RabbitMQ's count.

        Acknowledged or not: a stopped compute acknowledges nothing. Nova
        2026.2 sends the calls of an operation under way (a live
        migration's preparation) to a second topic, ``compute-alt``.
        """
        queues = {'compute.' + host, 'compute-alt.' + host}
        count = 0
        for line in self.cloud.rabbit.ctl(
                ['list_queues', 'name', 'messages', '--silent']).splitlines():
            fields = line.split()
            if len(fields) == 2 and fields[0] in queues:
                count += int(fields[1])
        return count

    def wait_until_claim_dropped(self, server_id):
        """Until compute2 holds no VF for the server (its claim dropped)."""
        base.wait_for('the claim of %s on compute2 dropped' % server_id,
                      lambda: not self.pci_rows('compute2', server_id),
                      interval=1.0)

    def wait_until_taken_over(self, server_id):
        """Until Nova records the server ACTIVE on compute2."""
        base.wait_for('%s taken over by compute2' % server_id, lambda: (
            self.show(server_id)['status'], self.host_of(server_id)) == (
                'ACTIVE', 'compute2'), interval=0.5)

    def assert_completed_or_stayed_then_moves(self, server_id):
        """The move completed, or rolled back whole and a retry moves it.

        For the cases whose fault may or may not outlast a timeout: both
        ends are correct, anything else is not.
        """
        migration = self.wait_for_migration(server_id)
        if migration['status'] == 'completed':
            self.assert_completed_on_compute2(server_id)
        else:
            self.assertIn(migration['status'], ('error', 'failed'))
            self.wait_until_claim_dropped(server_id)
            self.assert_stayed_then_moves(server_id)

    def vfs_held_for(self, host, server_id):
        """Addresses of the VFs ``host`` holds for the server.

        Claimed or allocated: an audit of a destination counts the VFs of
        a migration coming in as allocated.
        """
        return sorted(row['address'] for row in self.pci_rows(host, server_id))

    def stop_source_until_seen_down(self):
        """SIGSTOP compute1 until Nova sees it down (the API says so).

        Its RPC calls and replies then wait, its service record goes
        stale, RabbitMQ may drop its connection; the destination's audits
        meet a migration whose source is down.
        """
        self.stop_service('nova-compute-compute1')
        self.wait_until_seen_down('nova-compute', 'compute1')

    def wait_until_seen_down(self, binary, host=None):
        """Until the API lists the (stopped) service ``binary`` down."""
        def down():
            services = self.rest.compute('/os-services', binary=binary,
                                         **({'host': host} if host else {})
                                         )['services']
            return services and all(s['state'] == 'down' for s in services)
        base.wait_for('Nova sees %s %s down' % (binary, host or ''), down,
                      interval=1.0)

    def event_ended(self, server_id, name):
        """The newest move's action event ``name``, once it ended."""
        for event in self.action_events(server_id):
            if event.get('event') == name and event.get('finish_time'):
                return event
        return None

    def pre_check_ended(self, server_id):
        """The destination's pre-check event of the newest move, if ended."""
        return self.event_ended(
            server_id, 'compute_check_can_live_migrate_destination')


class PreCheckAndPreparationTest(CampaignScenario):
    """Faults at the pre-check and at the preparation.

    No other scenario of the default test run faults these two steps;
    cloud2024.1 and cloud-latest run this class, so that every step
    meets a fault in each release family there.
    """

    def test_placement_stopped_when_a_migration_is_asked_for(self):
        """Placement is down as the conductor checks a live migration.

        The conductor cannot move the server's allocation to the
        migration: the API answers 500 (MigrationError) and Nova puts
        the server into ERROR, its guest untouched on the source.
        Nothing may be claimed or allocated on the destination; once
        placement is back the operator resets the state (the documented
        action) and a retry moves the server.
        """
        server = self.boot('lm.vf1', 'compute1')
        self.cloud.sup.kill('placement')
        self.addCleanup(self.start_if_stopped, 'placement')
        with testtools.ExpectedException(client_mod.ClientError,
                                         '(?s).*MigrationError.*'):
            self.start_live_migration(server, 'compute2')
        self.assertEqual('error', self.wait_for_migration(server)['status'])
        self.cloud.start_service('placement')

        self.assertEqual(('ERROR', 'compute1'), (
            self.show(server)['status'], self.host_of(server)))
        self.assertEqual({'compute1': True}, self.domain_states(server))
        self.reset_state_active(server)
        self.assert_stayed_then_moves(server)

    def test_destination_stopped_while_it_prepares(self):
        """The destination is stopped when the source asks it to prepare.

        Nova runs one live migration at a time per source compute: a
        server without VFs moves from compute1 to compute3, held at the
        hypervisor, while a VF server's move to compute2 waits ``queued``,
        its pre-check done and its VF claimed there. compute2 is stopped
        (the hold point: the preparation call can only wait in its queue),
        then the first job completes. The source's preparation call gets
        no answer within ``rpc_response_timeout``; the source ends the
        migration and rolls back; with the cloud's shared instances
        folder, its word to compute2 is to drop the claim. compute2,
        continued, handles the preparation no one waits for and that
        word, late. The server
        must stay ACTIVE on compute1 with its VF, nothing claimed or
        allocated for it on compute2; a retry moves it.
        """
        first, server = self.queued_behind_a_held_move()
        source_log = self.log_from_now('nova-compute-compute1')
        self.stop_service('nova-compute-compute2')

        self.complete_held_job(first, 'compute3')
        self.hypervisor.set_mode('complete')
        self.assertEqual('completed',
                         self.wait_for_migration(first)['status'])
        migration = self.wait_for_migration(server)
        self.assertIn(migration['status'], ('error', 'failed'))
        self.assertIn('Pre live migration failed at compute2', source_log())
        self.continue_service('nova-compute-compute2')
        # compute2 handles the late calls: the preparation no one waits
        # for, and the source's word to drop its claim
        base.wait_for('compute2 handled the late preparation of %s' % server,
                      lambda: self.event_ended(
                          server, 'compute_pre_live_migration'),
                      interval=1.0)
        self.wait_until_claim_dropped(server)

        self.assert_stayed_then_moves(server)


class CampaignTest(CampaignScenario):
    """The other cases: in cloud-faults* only."""

    def test_destination_stopped_while_it_answers_the_pre_check(self):
        """The pre-check reaches a stopped destination; the call times out.

        The conductor gives up after ``rpc_response_timeout`` (no
        heartbeat from the destination) and ends the migration ``error``.
        Once the destination runs again it handles the call no one waits
        for: Nova alone claims a VF for it there (freed at the next audit,
        or, if a retry's pre-check came first, freeing that one's claim).
        The late pre-check must be refused and claim nothing; a retry then
        moves the server with one VF.
        """
        server = self.boot('lm.vf1', 'compute1')
        dest_log = self.log_from_now('nova-compute-compute2')
        self.stop_service('nova-compute-compute2')
        try:
            self.start_live_migration(server, 'compute2')
        except client_mod.ClientError as exc:
            # the API waits for the conductor: after the timeout it leaves
            # compute2 out, and the request named no other host
            self.assertIn('No valid host was found', str(exc))

        migration = self.wait_for_migration(server)
        self.assertEqual('error', migration['status'])
        self.continue_service('nova-compute-compute2')
        # the destination handles the call it got while stopped: it
        # refuses it, or (Nova alone) its pre-check runs to the end
        base.wait_for('compute2 handled the late pre-check',
                      lambda: 'Refusing a late pre-check' in dest_log() or
                      self.pre_check_ended(server), interval=1.0)

        refusal = ('Refusing a late pre-check of live migration %s: it '
                   'ended (error)' % migration['uuid'])
        self.assertTrue(refusal in dest_log(), 'compute2 did not log: %s'
                        % refusal)
        self.assert_stayed_then_moves(server)

    def test_destination_killed_while_it_answers_the_pre_check(self):
        """The destination dies with the conductor's pre-check call queued.

        compute2 is stopped with the call in its queue, then killed; the
        conductor gets no answer within ``rpc_response_timeout`` and ends
        the migration ``error``. compute2 is started again only then (the
        hold point: the migration ended); the call its old process never
        acknowledged has expired with the conductor's timeout, or comes
        back and is refused as late. The server must stay ACTIVE on
        compute1 with its VF, nothing claimed on compute2; a retry moves
        it.
        """
        server = self.boot('lm.vf1', 'compute1')
        asked = self.pre_check_call_queued(server)
        self.cloud.sup.kill('nova-compute-compute2')
        self.addCleanup(self.start_if_stopped, 'nova-compute-compute2')

        migration = self.wait_for_migration(server)
        asked.join(300)
        self.assertEqual('error', migration['status'])
        self.restart_service('nova-compute-compute2')

        self.assertEqual([], self.pci_rows('compute2', server))
        self.assert_stayed_then_moves(server)

    def test_source_killed_while_the_destination_answers_the_pre_check(
            self):
        """The source dies while the destination answers the pre-check.

        compute2 is stopped with the conductor's pre-check call in its
        queue; compute1 is killed, compute2 continued: its pre-check asks
        the dead source and gets no answer. The migration must be refused,
        the server ACTIVE on compute1 (its guest kept running there
        through the compute's death; nova 2024.1 alone put it into ERROR),
        nothing claimed on compute2 once compute1 is back; a retry moves
        it.
        """
        server = self.boot('lm.vf1', 'compute1')
        asked = self.pre_check_call_queued(server)
        self.cloud.sup.kill('nova-compute-compute1')
        self.addCleanup(self.start_if_stopped, 'nova-compute-compute1')
        self.continue_service('nova-compute-compute2')

        migration = self.wait_for_migration(server)
        asked.join(300)
        self.restart_service('nova-compute-compute1')

        self.assertEqual('error', migration['status'])
        self.assertEqual(('ACTIVE', 'compute1'), (
            self.show(server)['status'], self.host_of(server)))
        self.wait_until_claim_dropped(server)
        self.assert_stayed_then_moves(server)

    def test_rabbitmq_restarted_while_the_destination_answers_the_pre_check(
            self):
        """The conductor's pre-check call is lost in a RabbitMQ restart.

        compute2 is stopped with the call in its queue; RabbitMQ is
        restarted and compute2 continued. The conductor gets no answer
        within ``rpc_response_timeout`` and ends the migration; compute2
        never saw the call. The server must stay ACTIVE on compute1 with
        its VF, nothing on compute2; a retry moves it.
        """
        server = self.boot('lm.vf1', 'compute1')
        asked = self.pre_check_call_queued(server)

        self.restart_rabbitmq_losing_the_calls_of('compute2')
        self.assertIn(self.wait_for_migration(server)['status'],
                      ('error', 'failed'))
        asked.join(300)

        self.assert_stayed_then_moves(server)

    def test_database_stopped_while_the_destination_answers_the_pre_check(
            self):
        """MariaDB goes down as the destination answers the pre-check.

        compute2 is stopped with the conductor's pre-check call in its
        queue; MariaDB is killed, compute2 continued: its pre-check fails
        on the database. Nova alone then fails its rollback too (placement
        cannot authenticate without Keystone's database) and its error
        path: the migration stays ``accepted``, the server ``migrating``,
        its allocation held by the migration, for good. The conductor's
        rollback must wait for the database and placement; once MariaDB is
        back the migration ends ``error`` and the server, put into ERROR by
        Nova's error path, still runs on compute1 with its VF, its
        allocation its own, nothing on compute2; the documented reset and a
        retry move it.
        """
        server = self.boot('lm.vf1', 'compute1')
        conductor_log = self.log_from_now('nova-conductor')
        asked = self.pre_check_call_queued(server)
        migration_uuid = self.cloud.db.query(
            'nova_cell1', 'SELECT uuid FROM migrations WHERE '
            'instance_uuid = %s', [server])[0]['uuid']
        self.kill_database()
        self.continue_service('nova-compute-compute2')

        self.start_database_once(
            'the rollback of %s met the stopped database' % server,
            [conductor_log], ('its rollback waits', ' ERROR '))
        asked.join(300)

        self.assertEqual('error', self.wait_for_migration(server)['status'])
        self.assertIn('answer again; its rollback goes on', conductor_log())
        self.assertEqual(('ERROR', 'compute1'), (
            self.show(server)['status'], self.host_of(server)))
        self.assertEqual({'compute1': True}, self.domain_states(server))
        self.assertEqual({}, self.rest.placement(
            '/allocations/%s' % migration_uuid)['allocations'])
        self.assertEqual(['compute1'], list(self.allocations(server)))
        self.reset_state_active(server)
        self.assert_stayed_then_moves(server)

    def test_database_stopped_while_the_destination_prepares(self):
        """MariaDB goes down as the destination gets the preparation call.

        A VF server's move waits ``queued`` behind a held one; compute2 is
        stopped, the held job completes and the source's preparation call
        waits in compute2's queue. MariaDB is killed and compute2
        continued: its preparation fails on the database, and Nova alone
        then fails the source's clean-up on the same database (migration
        ``preparing``, server ``migrating`` for good, the VF claimed on
        compute2). The clean-up must wait for the database and neutron;
        once MariaDB is back the server is ACTIVE on compute1 with its VF,
        nothing claimed on compute2, and a retry moves it.
        """
        source_log = self.log_from_now('nova-compute-compute1')
        server = self.preparation_call_queued()
        self.kill_database()
        self.continue_service('nova-compute-compute2')

        self.start_database_once(
            'the clean-up of %s met the stopped database' % server,
            [source_log], ('its clean-up waits', ' ERROR '))

        migration = self.wait_for_migration(server)
        self.assertIn(migration['status'], ('error', 'failed'))
        self.assertIn('answer again; its clean-up goes on', source_log())
        self.wait_until_claim_dropped(server)
        self.assert_stayed_then_moves(server)

    def test_source_killed_while_the_destination_prepares(self):
        """The source dies while its preparation call waits for compute2.

        A VF server's move waits ``queued`` behind a held one; compute2 is
        stopped, the held job completes and the source's preparation call
        waits in compute2's queue. compute1 is killed and started: Nova's
        reset at start handles ``running`` migrations only, the plugin's
        also the ``preparing`` one. compute2, continued, handles the
        preparation no one waits for, late. The server must stay ACTIVE on
        compute1 with its VF, nothing claimed on compute2; a retry moves
        it.
        """
        server = self.preparation_call_queued()

        self.cloud.sup.kill('nova-compute-compute1')
        self.restart_service('nova-compute-compute1')
        self.assertIn(self.wait_for_migration(server)['status'],
                      ('error', 'failed'))
        self.continue_service('nova-compute-compute2')
        base.wait_for('compute2 handled the late preparation of %s' % server,
                      lambda: self.event_ended(
                          server, 'compute_pre_live_migration'),
                      interval=1.0)
        self.wait_until_claim_dropped(server)

        self.assert_stayed_then_moves(server)

    def test_destination_killed_while_it_prepares(self):
        """The destination dies with the source's preparation call queued.

        compute2 is stopped with the call in its queue, then killed; the
        source gets no answer within ``rpc_response_timeout`` and rolls
        back (its log says so: the hold point). compute2 is started
        again: its new process handles the preparation no one waits for
        (the call lives as long as ``long_rpc_timeout``) and the source's
        word to drop its claim, late. The server must stay ACTIVE on
        compute1 with its VF, nothing claimed or allocated on compute2; a
        retry moves it.
        """
        server = self.preparation_call_queued()
        source_log = self.log_from_now('nova-compute-compute1')
        self.cloud.sup.kill('nova-compute-compute2')
        self.addCleanup(self.start_if_stopped, 'nova-compute-compute2')

        migration = self.wait_for_migration(server)
        self.assertIn(migration['status'], ('error', 'failed'))
        self.assertIn('Pre live migration failed at compute2', source_log())
        self.restart_service('nova-compute-compute2')
        self.wait_until_claim_dropped(server)

        self.assert_stayed_then_moves(server)

    def test_rabbitmq_restarted_while_the_destination_prepares(self):
        """The source's preparation call is lost in a RabbitMQ restart.

        A VF server's move waits ``queued`` behind a held one; compute2 is
        stopped, the held job completes and the source's preparation call
        waits in compute2's queue. RabbitMQ is restarted and compute2
        continued: the source's call gets no answer within
        ``rpc_response_timeout``, and it rolls back. The server must stay
        ACTIVE on compute1 with its VF, nothing claimed on compute2; a
        retry moves it.
        """
        server = self.preparation_call_queued()

        self.restart_rabbitmq_losing_the_calls_of('compute2')
        self.assertIn(self.wait_for_migration(server)['status'],
                      ('error', 'failed'))
        self.wait_until_claim_dropped(server)

        self.assert_stayed_then_moves(server)

    def test_conductor_killed_while_the_destination_prepares(self):
        """The conductor dies while the preparation call waits for compute2.

        The preparation itself does not call the conductor; the source's
        and destination's saves around it do. A new conductor is started,
        compute2 continued: the migration must complete on compute2.
        """
        server = self.preparation_call_queued()
        self.cloud.sup.kill('nova-conductor')
        self.restart_service('nova-conductor')
        self.continue_service('nova-compute-compute2')

        self.assert_completed_on_compute2(server)

    def test_conductor_killed_with_a_migration_queued(self):
        """The conductor dies while a VF server's move waits its turn.

        A new conductor is started, then the held job completes: the
        queued migration must go on and complete on compute2.
        """
        first, server = self.queued_behind_a_held_move()
        self.cloud.sup.kill('nova-conductor')
        self.restart_service('nova-conductor')
        self.hypervisor.set_mode('complete')
        self.complete_held_job(first, 'compute3')

        self.assertEqual('completed',
                         self.wait_for_migration(first)['status'])
        self.assert_completed_on_compute2(server)

    def test_conductor_stopped_as_a_migration_is_asked_for(self):
        """The conductor is stopped before the API's call reaches it.

        The ``openstack`` client asks at microversion 2.30, below 2.34:
        nova-api calls the conductor and waits for its checks. The call
        times out after ``rpc_response_timeout``: HTTP 500, the server
        still ``migrating``, no migration recorded yet (Nova's own
        behaviour). Continued, the conductor still handles the request:
        the move must complete on compute2 as if asked late.
        """
        server = self.move_given_up_with_the_conductor_stopped()

        self.assertEqual('migrating',
                         self.show(server)['OS-EXT-STS:task_state'])
        self.assertEqual([], self.migrations(server))
        self.continue_service('nova-conductor')
        self.assert_completed_on_compute2(server)

    def test_conductor_stopped_as_a_migration_is_asked_for_and_again(self):
        """The conductor is stopped; the operator resets and asks again.

        As above, the API answers 500 with the server ``migrating``; the
        operator resets the server's state and asks again (that request
        too waits for the conductor). Nova's continued conductor would
        run both requests side by side. The first, no longer the server's
        current one, must be dropped: one migration, completed on
        compute2 (*mend*).
        """
        conductor_log = self.log_from_now('nova-conductor')
        server = self.move_given_up_with_the_conductor_stopped()
        self.reset_state_active(server)
        # the stopped conductor records no compute's state reports
        asked = threading.Thread(target=self.ask_live_migration,
                                 args=(server, 'compute2', [], False))
        asked.start()
        self.addCleanup(asked.join, 300)
        base.wait_for('the second request of %s recorded' % server,
                      lambda: len(self.live_migration_actions(server)) == 2,
                      interval=0.5)
        self.continue_service('nova-conductor')

        self.assert_completed_on_compute2(server)
        self.assertEqual(1, len(self.migrations(server)))
        self.assertIn('Dropping live migration request', conductor_log())

    def test_conductor_stopped_while_the_destination_answers_the_pre_check(
            self):
        """The conductor is stopped while compute2 runs the pre-check.

        compute2 is stopped with the conductor's pre-check call in its
        queue, the conductor stopped, compute2 continued: its pre-check
        reads through the stopped conductor. Once compute2 logs that the
        read timed out, the conductor is continued; its own wait for the
        pre-check has timed out by then. The migration must be refused
        (``error``), the server ACTIVE on compute1 with its VF, the VF
        compute2's pre-check claimed for no one dropped; a retry moves it.
        """
        server = self.boot('lm.vf1', 'compute1')
        asked = self.pre_check_call_queued(server)
        dest_log = self.log_from_now('nova-compute-compute2')
        self.stop_service('nova-conductor')
        self.continue_service('nova-compute-compute2')
        base.wait_for('the pre-check of %s met the stopped conductor'
                      % server, lambda: 'Could not read live migration'
                      in dest_log(), interval=1.0)
        self.continue_service('nova-conductor')

        self.assertEqual('error', self.wait_for_migration(server)['status'])
        self.assertEqual('active', self.show(server)['OS-EXT-STS:vm_state'])
        self.wait_until_claim_dropped(server)
        asked.join(300)
        self.assert_stayed_then_moves(server)

    def test_database_stopped_while_a_migration_waits_for_its_pf(self):
        """MariaDB goes down while a migration waits for the PF limit.

        compute1 runs with ``max_migrating_vfs_per_pf = 1``: a VF server's
        move is held at the hypervisor, a second one's waits for the PF
        (the plugin's wait, outside Nova's queue, its VF claimed on
        compute2). MariaDB is killed: the wait's count fails. Nova alone
        has no such wait; without the mend the migration stayed
        ``queued`` for good. The waiting migration must be rolled back
        once MariaDB is back: ``error``, the server ACTIVE on compute1
        with its VF, nothing claimed on compute2; the held one completes,
        and a retry moves the second.
        """
        self.addCleanup(self.set_pf_limit, 'compute1')
        self.set_pf_limit('compute1', 1)
        first = self.held_migration()
        server = self.boot('lm.vf1', 'compute1')
        source_log = self.log_from_now('nova-compute-compute1')
        self.start_live_migration(server, 'compute2')
        self.wait_until_waiting_for_its_pf(server, source_log)
        self.assertEqual(1, len(self.pci_rows('compute2', server)))
        self.kill_database()
        # the rollback waits for the database (or, without the mend, fails)
        self.start_database_once(
            'the rollback of %s met the stopped database' % server,
            [source_log], ('its rollback waits', 'could not be rolled back'))

        self.assertEqual('error', self.wait_for_migration(server)['status'])
        self.assertIn('answer again; its rollback goes on', source_log())
        self.wait_until_claim_dropped(server)
        self.assert_runs_on(server, 'compute1', 1)
        self.complete_held_job(first)
        self.hypervisor.set_mode('complete')
        self.assertEqual('completed',
                         self.wait_for_migration(first)['status'])
        self.assert_stayed_then_moves(server)

    def test_conductor_killed_while_the_destination_answers_the_pre_check(
            self):
        """The conductor is killed as the destination answers the pre-check.

        compute1 runs with ``[vfio_lm] live_migration_check_timeout = 60``.
        compute2 is stopped with the conductor's pre-check call in its
        queue; the conductor is killed, compute2 continued (its pre-check
        claims a VF and answers no one) and the conductor started again.
        Nova alone leaves the migration ``accepted``, the server
        ``migrating`` and its allocations moved, for good. Past the bound
        compute1's audit must end it: ``error``, the server ACTIVE on
        compute1 with its VF and its allocation there, compute2's claim
        freed; a retry moves it.
        """
        self.addCleanup(self.set_vfio_lm_option, 'compute1',
                        'live_migration_check_timeout')
        self.set_vfio_lm_option('compute1', 'live_migration_check_timeout',
                                60)
        server = self.boot('lm.vf1', 'compute1')
        source_log = self.log_from_now('nova-compute-compute1')
        asked = self.pre_check_call_queued(server)
        self.cloud.sup.kill('nova-conductor')
        self.addCleanup(self.start_if_stopped, 'nova-conductor')
        self.continue_service('nova-compute-compute2')
        self.restart_service('nova-conductor')
        base.wait_for('the pre-check of %s ended' % server,
                      lambda: self.pre_check_ended(server), interval=1.0)

        self.assertEqual('error', self.wait_for_migration(server)['status'])
        self.assertIn('was never handed to this host', source_log())
        self.assertEqual(['compute1'], list(self.allocations(server)))
        self.wait_for_audits()
        self.assertEqual([], self.pci_rows('compute2', server))
        asked.join(300)
        self.assert_stayed_then_moves(server)

    def test_database_stopped_while_the_job_runs(self):
        """MariaDB is down while the source's monitor saves progress.

        The save fails through the conductor; Nova alone ends the monitor
        there and rolls back. The migration must go on, and complete once
        MariaDB is back and the job completes.
        """
        server = self.migration_with_monitor_paused()
        source_log = self.log_from_now('nova-compute-compute1')
        self.kill_database()

        self.hypervisor.resume_monitor(server)
        self.start_database_once(
            'a progress save of %s failed' % server, [source_log],
            ('Could not save the progress of live migration',))
        self.complete_held_job(server)

        self.assert_completed_on_compute2(server)

    def test_rabbitmq_restarted_while_the_job_runs(self):
        """RabbitMQ is restarted while the hypervisor holds the job.

        The source's monitor goes on looking at the job; its progress
        saves through the conductor fail while the broker is away. Once
        every service consumes again the job completes: the migration must
        complete, the server ACTIVE on compute2 with its VF.
        """
        server = self.held_migration()
        queues = self.nova_queues()

        self.cloud.rabbit.restart()
        self.wait_for_consumers(queues)
        self.complete_held_job(server)

        self.assert_completed_on_compute2(server)

    def test_placement_stopped_while_the_job_runs(self):
        """Placement is down for an audit of every host while a job runs.

        The audits cannot report to placement (Nova logs each failure);
        the destination must keep the VF it claimed for the running job
        and the source the one the guest uses. Once placement is back the
        job completes: the server on compute2 with one VF, nothing left
        on compute1, the whole cloud consistent.
        """
        server = self.held_migration()
        self.cloud.sup.kill('placement')
        self.addCleanup(self.start_if_stopped, 'placement')
        self.wait_for_audits()
        self.assertEqual(1, len(self.pci_rows('compute2', server)))
        self.assertEqual(1, len(self.pci_rows('compute1', server)))
        self.cloud.start_service('placement')

        self.complete_held_job(server)
        self.assert_completed_on_compute2(server)

    def test_destination_restarted_after_the_switch_over(self):
        """The destination's nova-compute is killed and started again.

        The job completed (the guest runs on compute2 only) while the
        source's monitor is paused, before its post-migration. The new
        compute2 process starts with a guest of a server Nova still places
        on compute1 and a VF claimed for it: its start and its audits must
        keep that VF, and the source's post-migration, once the monitor
        goes on, must move the server there with it.
        """
        server = self.migration_with_monitor_paused()
        self.complete_held_job(server)
        in_use = self.guest_vfs('compute2', server)
        self.cloud.sup.kill('nova-compute-compute2')
        self.restart_service('nova-compute-compute2')
        self.wait_for_audits()
        self.assertEqual(in_use, sorted(
            row['address'] for row in self.pci_rows('compute2', server)))

        self.hypervisor.resume_monitor(server)
        self.assert_completed_on_compute2(server)

    def test_conductor_killed_after_the_switch_over(self):
        """The conductor is killed and started again before post-migration.

        The job completed while the source's monitor is paused; the
        source's post-migration then runs through the new conductor and
        must end as if nothing happened.
        """
        server = self.migration_with_monitor_paused()
        self.complete_held_job(server)
        self.cloud.sup.kill('nova-conductor')
        self.restart_service('nova-conductor')

        self.hypervisor.resume_monitor(server)
        self.assert_completed_on_compute2(server)

    def test_database_stopped_after_the_switch_over(self):
        """MariaDB is down when the source's post-migration begins.

        The job completed (the guest runs on compute2 only) while the
        source's monitor was paused, and MariaDB is killed. Once the
        monitor goes on, Nova alone fails the post-migration at its first
        call (neutron cannot authenticate without Keystone's database)
        and its error path fails on the database too: the migration stays
        ``running`` and the server ``migrating`` on compute1 for good. The
        post-migration must wait for the database and neutron, and
        complete once MariaDB is back.
        """
        server = self.migration_with_monitor_paused()
        self.complete_held_job(server)
        source_log = self.log_from_now('nova-compute-compute1')
        self.kill_database()

        self.hypervisor.resume_monitor(server)
        self.start_database_once(
            'the post-migration of %s met the stopped database' % server,
            [source_log], ('its post-migration waits', ' ERROR '))

        self.assert_completed_on_compute2(server)

    def test_database_stopped_as_the_destination_is_called(self):
        """MariaDB goes down as the destination's post-migration is called.

        The job completed (the guest runs on compute2 only) while the
        source's monitor was paused; compute2 is stopped, the monitor goes
        on, and the source's post-migration call waits in compute2's
        queue. MariaDB is killed and compute2 continued. Nova alone fails
        that call at its first write, and the source's post-migration then
        meets the same database: the migration is never final and the
        server stays ``migrating`` on compute1 in Nova's records while its
        guest runs on compute2 with its VF. The destination must wait for
        the database and neutron; once MariaDB is back the migration
        completes there.
        """
        server = self.migration_with_monitor_paused()
        self.complete_held_job(server)
        self.stop_service('nova-compute-compute2')
        source_log = self.log_from_now('nova-compute-compute1')
        dest_log = self.log_from_now('nova-compute-compute2')

        self.hypervisor.resume_monitor(server)
        base.wait_for('the post-migration of %s in the queue of compute2'
                      % server, lambda: self.calls_waiting_for('compute2'),
                      interval=0.5)
        self.kill_database()
        self.continue_service('nova-compute-compute2')
        self.start_database_once(
            'the post-migration of %s met the stopped database' % server,
            [dest_log, source_log], ('post-migration waits', ' ERROR '))

        self.assert_completed_on_compute2(server)
        self.assertIn("answer again; the destination's post-migration goes "
                      'on', dest_log())

    def test_rabbitmq_restarted_as_the_destination_is_called(self):
        """The source's call of the destination's post-migration is lost.

        The job completed (the guest runs on compute2 only) while the
        source's monitor was paused; compute2 is stopped, the monitor goes
        on, and once RabbitMQ counts the source's post-migration call in
        compute2's queue RabbitMQ is restarted: Nova's queues do not
        outlive it, the call is lost. compute2 is continued. The source's
        call gets no answer within ``rpc_response_timeout``; Nova's source
        then ends its part and the call is never handled: the server stays
        ``migrating`` on compute1 in Nova's records, for good, while its
        guest runs on compute2. The source must call again; the migration
        completes, the server ACTIVE on compute2.
        """
        server = self.migration_with_monitor_paused()
        self.complete_held_job(server)
        self.stop_service('nova-compute-compute2')
        source_log = self.log_from_now('nova-compute-compute1')

        self.hypervisor.resume_monitor(server)
        base.wait_for('the post-migration of %s in the queue of compute2'
                      % server, lambda: self.calls_waiting_for('compute2'),
                      interval=0.5)
        self.restart_rabbitmq_losing_the_calls_of('compute2')

        self.assert_completed_on_compute2(server)
        self.assertIn("post-migration call got no answer", source_log())

    def test_destination_killed_as_it_is_called_after_the_switch_over(
            self):
        """compute2 dies with the source's post-migration call in its queue.

        compute2 (stopped) is killed and started again; the call its
        old process had not acknowledged goes back to its queue, and the
        source calls again after ``rpc_response_timeout``. The migration
        must complete on compute2 with the VF its guest uses.
        """
        server = self.post_migration_call_queued()
        self.cloud.sup.kill('nova-compute-compute2')
        self.restart_service('nova-compute-compute2')

        self.assert_completed_on_compute2(server)

    def test_source_killed_as_the_destination_is_called(self):
        """compute1 dies with its post-migration call in compute2's queue.

        compute2 is continued and takes the server over (ACTIVE there in
        Nova's records: the hold point); then compute1 is started again.
        Nova's source would have recorded the migration ``completed`` and
        deleted the allocation it holds on compute1 once the call
        returned; without the mend both stay for good (the restarted
        source resets only the migrations of servers recorded on it). The
        restarted source must end them.
        """
        server = self.post_migration_call_queued()
        self.cloud.sup.kill('nova-compute-compute1')
        self.continue_service('nova-compute-compute2')
        self.wait_until_taken_over(server)
        source_log = self.log_from_now('nova-compute-compute1')
        self.restart_service('nova-compute-compute1')

        self.assert_completed_on_compute2(server)
        self.assertIn('recorded completed, its allocation on this host '
                      'deleted', source_log())

    def test_conductor_killed_as_the_destination_is_called(self):
        """The conductor dies while the post-migration call waits.

        A new conductor is started and compute2 continued: its
        post-migration saves through the new conductor, and the migration
        must complete on compute2.
        """
        server = self.post_migration_call_queued()
        self.cloud.sup.kill('nova-conductor')
        self.restart_service('nova-conductor')
        self.continue_service('nova-compute-compute2')

        self.assert_completed_on_compute2(server)

    def test_database_stopped_with_a_migration_queued(self):
        """MariaDB is down while one migration waits behind another.

        Nova runs one live migration at a time per source compute: the
        second waits ``queued``, its VF claimed on compute2. MariaDB is
        killed, then the first job completes at the hypervisor: its
        post-migration waits for the database while the second still
        waits its turn. Once MariaDB is back, the first must complete,
        then the second run and complete too; nothing left on compute1.
        """
        first = self.held_migration()
        second = self.boot('lm.vf1', 'compute1')
        self.start_live_migration(second, 'compute2')
        self.assertEqual('queued', self.wait_for_migration(
            second, ('queued',))['status'])
        source_log = self.log_from_now('nova-compute-compute1')
        self.kill_database()

        self.complete_held_job(first)
        self.start_database_once(
            'the post-migration of %s met the stopped database' % first,
            [source_log], ('its post-migration waits', ' ERROR '))

        self.assertEqual('completed',
                         self.wait_for_migration(first)['status'])
        self.wait_until_held(second)
        self.complete_held_job(second)
        self.assertEqual('completed',
                         self.wait_for_migration(second)['status'])
        for server in (first, second):
            self.assert_runs_on(server, 'compute2', 1)
        self.assert_nothing_claimed('compute1')
        self.assert_cloud_consistent()

    def test_placement_stopped_with_a_migration_queued(self):
        """Placement is down while one migration waits behind another.

        Nova runs one live migration at a time per source compute: the
        second waits ``queued``, its VF claimed on compute2. Placement is
        killed, then the first job completes at the hypervisor: the
        first's post-migration frees its source VF with placement down,
        then the second prepares, runs and frees its own with placement
        still down. Both must complete, each server on compute2 with one
        VF, nothing left on compute1; once placement is back the
        allocations the migrations kept go with the documented action.
        """
        first = self.held_migration()
        second = self.boot('lm.vf1', 'compute1')
        self.start_live_migration(second, 'compute2')
        self.assertEqual('queued', self.wait_for_migration(
            second, ('queued',))['status'])
        self.cloud.sup.kill('placement')
        self.addCleanup(self.start_if_stopped, 'placement')

        self.assert_both_complete_with_placement_down(first, second)

    def test_placement_stopped_while_a_migration_waits_for_its_pf(self):
        """Placement is down while a migration waits for the PF limit.

        compute1 runs with ``max_migrating_vfs_per_pf = 1``: a VF server's
        move is held at the hypervisor, a second one's waits for the PF.
        Placement is killed, then the first job completes: its
        post-migration frees its source VF with placement down, the
        second's wait ends, and it prepares, runs and frees its own with
        placement still down. Both must complete, each server on compute2
        with one VF, nothing left on compute1; once placement is back the
        allocations the migrations kept go with the documented action.
        """
        self.addCleanup(self.set_pf_limit, 'compute1')
        self.set_pf_limit('compute1', 1)
        first = self.held_migration()
        second = self.boot('lm.vf1', 'compute1')
        source_log = self.log_from_now('nova-compute-compute1')
        self.start_live_migration(second, 'compute2')
        self.wait_until_waiting_for_its_pf(second, source_log)
        self.cloud.sup.kill('placement')
        self.addCleanup(self.start_if_stopped, 'placement')

        self.assert_both_complete_with_placement_down(first, second)

    def test_destination_restarted_with_a_migration_queued(self):
        """The destination restarts while a migration waits for its turn.

        Nova runs one live migration at a time per source compute: the
        second waits ``queued``, its VF claimed on compute2, while the
        first is held at the hypervisor. compute2's nova-compute is killed
        and started again: its start and its audits must keep the queued
        migration's claim (no record of the server there but the
        migration's). Then the first job completes and the second runs:
        both servers on compute2, each with its VF, nothing on compute1.
        """
        first = self.held_migration()
        second = self.boot('lm.vf1', 'compute1')
        self.start_live_migration(second, 'compute2')
        self.assertEqual('queued', self.wait_for_migration(
            second, ('queued',))['status'])
        claimed = sorted(row['address']
                         for row in self.pci_rows('compute2', second))
        self.assertEqual(1, len(claimed))
        self.cloud.sup.kill('nova-compute-compute2')
        self.restart_service('nova-compute-compute2')
        self.wait_for_audits()
        self.assertEqual(claimed, sorted(
            row['address'] for row in self.pci_rows('compute2', second)))

        self.hypervisor.set_mode('complete')
        self.complete_held_job(first)
        for server in (first, second):
            self.assertEqual('completed',
                             self.wait_for_migration(server)['status'])
            self.assert_runs_on(server, 'compute2', 1)
        self.assertEqual(claimed, self.guest_vfs('compute2', second))
        self.assert_nothing_claimed('compute1')
        self.assert_cloud_consistent()

    def test_destination_stopped_during_its_post_migration(self):
        """The destination is stopped when the source's post-migration calls.

        The guest runs on compute2 (the job completed while the source's
        monitor was paused); compute2 is stopped, the monitor goes on and
        the source's call of compute2's post-migration gets no answer
        within ``rpc_response_timeout``. Nova's source then ends its part
        with the server's record on compute1 (2024.1: ``migrating`` until
        compute2 handles the call late; 2024.2 on: ERROR, the migration
        ``error``). The source must call again; compute2, continued,
        handles the first call and answers the second without doing it
        again: the migration completes, the server ACTIVE on compute2 with
        the VF its guest uses, nothing else claimed or allocated.
        """
        server = self.migration_with_monitor_paused()
        self.complete_held_job(server)
        self.stop_service('nova-compute-compute2')
        source_log = self.log_from_now('nova-compute-compute1')
        dest_log = self.log_from_now('nova-compute-compute2')

        self.hypervisor.resume_monitor(server)
        base.wait_for('the source calls the post-migration of %s again'
                      % server, lambda: "post-migration call got no answer"
                      in source_log(), interval=1.0)
        self.assertEqual({'compute2': True}, self.domain_states(server))
        self.continue_service('nova-compute-compute2')

        self.assert_completed_on_compute2(server)
        self.assertIn('nothing done again', dest_log())

    # -- the source stopped (SIGSTOP), then continued -------------------

    def test_source_stopped_while_the_destination_answers_the_pre_check(
            self):
        """The destination's pre-check asks a stopped source.

        compute1 is stopped; the move is asked for and the destination's
        check of the source waits in compute1's queue (RabbitMQ counts
        it: the hold point) until it times out. The migration must be
        refused (2024.1 too: nova 29 alone put the server into ERROR), the
        server ACTIVE on compute1, nothing claimed on compute2; compute1,
        continued, answers the late check to no one; a retry moves it.
        """
        server = self.boot('lm.vf1', 'compute1')
        self.stop_service('nova-compute-compute1')
        asked = threading.Thread(target=self.start_live_migration_anyhow,
                                 args=(server, 'compute2'))
        asked.start()
        self.addCleanup(asked.join, 300)
        base.wait_for('the source check of %s in the queue of compute1'
                      % server, lambda: self.calls_waiting_for('compute1'),
                      interval=0.5)

        migration = self.wait_for_migration(server)
        asked.join(300)
        self.continue_service('nova-compute-compute1')

        self.assertEqual('error', migration['status'])
        self.assertEqual(('ACTIVE', 'compute1'), (
            self.show(server)['status'], self.host_of(server)))
        self.wait_until_claim_dropped(server)
        self.assert_stayed_then_moves(server)

    def test_source_stopped_with_a_migration_queued(self):
        """The source is stopped while a VF server's move waits its turn.

        The move waits ``queued`` behind a held one, its VF claimed on
        compute2; compute1 is stopped until Nova sees it down (compute2's
        audits meanwhile), then continued and the held job completed. The
        claim must outlive the source's absence, and both moves complete.
        """
        first, server = self.queued_behind_a_held_move()
        claimed = self.vfs_held_for('compute2', server)
        self.stop_source_until_seen_down()
        self.wait_for_audits(['compute2'])
        self.assertEqual(claimed, self.vfs_held_for('compute2', server))
        self.continue_service('nova-compute-compute1')

        self.complete_held_job(first, 'compute3')
        self.hypervisor.set_mode('complete')
        self.assertEqual('completed',
                         self.wait_for_migration(first)['status'])
        self.assert_completed_on_compute2(server)

    def test_source_stopped_while_the_job_runs(self):
        """The source is stopped while the job is held at the hypervisor.

        compute1 is stopped until Nova sees it down (compute2's audits
        meanwhile), continued, then the job completes (the stand-in
        hypervisor runs the job in the source's process: it cannot end
        while the process is stopped; libvirt's would). The claim must
        outlive the source's absence; the migration completes.
        """
        server = self.held_migration()
        claimed = self.vfs_held_for('compute2', server)
        self.stop_source_until_seen_down()
        self.wait_for_audits(['compute2'])
        self.assertEqual(claimed, self.vfs_held_for('compute2', server))
        self.continue_service('nova-compute-compute1')

        self.complete_held_job(server)
        self.assert_completed_on_compute2(server)

    def test_source_stopped_after_the_switch_over(self):
        """The source is stopped once the guest runs on compute2 only.

        The job completed while the source's monitor was paused; compute1
        is stopped until Nova sees it down (compute2's audits meanwhile:
        the guest there uses the VF Nova records as claimed for a
        migration whose source is down), then continued and its monitor
        resumed. The VF must stay with the guest; the migration completes.
        """
        server = self.migration_with_monitor_paused()
        self.complete_held_job(server)
        self.stop_source_until_seen_down()
        self.wait_for_audits(['compute2'])
        self.assertEqual(1, len(self.pci_rows('compute2', server)))
        self.continue_service('nova-compute-compute1')
        self.hypervisor.resume_monitor(server)

        self.assert_completed_on_compute2(server)

    def test_source_stopped_as_the_destination_is_called(self):
        """The source is stopped while its post-migration call is handled.

        compute2 is stopped with the source's call in its queue; compute1
        is stopped, compute2 continued: it takes the server over (ACTIVE
        there: the hold point) and answers a source that does not read.
        compute1 stays stopped until Nova sees it down, then continues:
        it reads the answer, or (its connection dropped meanwhile) gets
        none and calls again, and compute2 answers without doing it
        again. The migration completes.
        """
        server = self.post_migration_call_queued()
        self.stop_service('nova-compute-compute1')
        self.continue_service('nova-compute-compute2')
        self.wait_until_taken_over(server)
        self.wait_until_seen_down('nova-compute', 'compute1')
        self.continue_service('nova-compute-compute1')

        self.assert_completed_on_compute2(server)

    def test_source_stopped_while_the_destination_prepares(self):
        """The source is stopped while compute2 answers its preparation.

        compute2 is stopped with the source's preparation call in its
        queue; compute1 is stopped, compute2 continued: it prepares and
        answers a source that does not read (its action event ends: the
        hold point). compute1 stays stopped until Nova sees it down, then
        continues: it reads the answer and the migration runs and
        completes, or (its connection dropped meanwhile) gets none and
        rolls back, the server ACTIVE on compute1 with its VF and
        compute2's claim dropped, and a retry moves it.
        """
        server = self.preparation_call_queued()
        self.stop_service('nova-compute-compute1')
        self.continue_service('nova-compute-compute2')
        base.wait_for('compute2 prepared %s' % server, lambda: (
            self.event_ended(server, 'compute_pre_live_migration')),
            interval=1.0)
        self.wait_until_seen_down('nova-compute', 'compute1')
        self.continue_service('nova-compute-compute1')

        self.assert_completed_or_stayed_then_moves(server)

    # -- the destination stopped (SIGSTOP) until seen down, continued ---

    def test_destination_stopped_with_a_migration_queued(self):
        """compute2 is stopped while a VF server's move to it waits.

        The move waits ``queued`` behind a held one, its VF claimed on
        compute2; compute2 is stopped until Nova sees it down (compute1's
        audits meanwhile), continued, then the held job completes. The
        queued move must then prepare, run and complete on compute2.
        """
        first, server = self.queued_behind_a_held_move()
        claimed = self.vfs_held_for('compute2', server)
        self.stop_service('nova-compute-compute2')
        self.wait_until_seen_down('nova-compute', 'compute2')
        self.wait_for_audits(['compute1'])
        self.continue_service('nova-compute-compute2')
        self.assertEqual(claimed, self.vfs_held_for('compute2', server))

        self.complete_held_job(first, 'compute3')
        self.hypervisor.set_mode('complete')
        self.assertEqual('completed',
                         self.wait_for_migration(first)['status'])
        self.assert_completed_on_compute2(server)

    def test_destination_stopped_while_the_job_runs(self):
        """compute2 is stopped while the job is held, until seen down.

        Nothing calls the destination while the job runs; compute1's
        audits meanwhile must keep the server's VF there. compute2 is
        continued, then the job completes: the migration completes.
        """
        server = self.held_migration()
        self.stop_service('nova-compute-compute2')
        self.wait_until_seen_down('nova-compute', 'compute2')
        self.wait_for_audits(['compute1'])
        self.assertEqual(1, len(self.pci_rows('compute1', server)))
        self.continue_service('nova-compute-compute2')

        self.complete_held_job(server)
        self.assert_completed_on_compute2(server)

    def test_destination_stopped_after_the_switch_over(self):
        """compute2 is stopped once the guest runs there only, until seen down.

        The job completed while the source's monitor was paused; compute2
        is stopped until Nova sees it down, then continued and the monitor
        resumed: the source's post-migration calls a destination that runs
        again, and the migration completes.
        """
        server = self.migration_with_monitor_paused()
        self.complete_held_job(server)
        self.stop_service('nova-compute-compute2')
        self.wait_until_seen_down('nova-compute', 'compute2')
        self.continue_service('nova-compute-compute2')
        self.hypervisor.resume_monitor(server)

        self.assert_completed_on_compute2(server)

    # -- placement and RabbitMQ at the remaining steps ------------------

    def test_placement_stopped_after_the_switch_over(self):
        """Placement is down for an audit of every host after the switch-over.

        The guest runs on compute2 only (the source's monitor paused); the
        audits cannot report to placement. compute2 must keep the VF the
        guest uses, compute1 the one Nova still records there; placement
        is started again and the monitor resumed: the migration completes.
        """
        server = self.migration_with_monitor_paused()
        self.complete_held_job(server)
        self.cloud.sup.kill('placement')
        self.addCleanup(self.start_if_stopped, 'placement')
        self.wait_for_audits()
        self.assertEqual(1, len(self.pci_rows('compute2', server)))
        self.assertEqual(1, len(self.pci_rows('compute1', server)))
        self.cloud.start_service('placement')
        self.hypervisor.resume_monitor(server)

        self.assert_completed_on_compute2(server)

    def test_rabbitmq_restarted_with_a_migration_queued(self):
        """RabbitMQ is restarted while a VF server's move waits its turn.

        The queued move waits in the source's process, no call in flight;
        once every service consumes again the held job completes and the
        queued move must prepare, run and complete.
        """
        first, server = self.queued_behind_a_held_move()
        queues = self.nova_queues()
        self.cloud.rabbit.restart()
        self.wait_for_consumers(queues)

        self.complete_held_job(first, 'compute3')
        self.hypervisor.set_mode('complete')
        self.assertEqual('completed',
                         self.wait_for_migration(first)['status'])
        self.assert_completed_on_compute2(server)

    def test_rabbitmq_restarted_after_the_switch_over(self):
        """RabbitMQ is restarted once the guest runs on compute2 only.

        The source's monitor is paused; once every service consumes again
        it resumes: the post-migration's calls go through the new broker
        and the migration completes.
        """
        server = self.migration_with_monitor_paused()
        self.complete_held_job(server)
        queues = self.nova_queues()
        self.cloud.rabbit.restart()
        self.wait_for_consumers(queues)
        self.hypervisor.resume_monitor(server)

        self.assert_completed_on_compute2(server)

    # -- the conductor stopped (SIGSTOP), then continued -----------------

    def test_conductor_stopped_with_a_migration_queued(self):
        """The conductor is stopped while a VF server's move waits its turn.

        Until Nova sees it down (the computes' audits cannot save through
        it meanwhile), then continued; the held job completes and the
        queued move must prepare, run and complete.
        """
        first, server = self.queued_behind_a_held_move()
        self.stop_service('nova-conductor')
        self.wait_until_seen_down('nova-conductor')
        self.continue_service('nova-conductor')

        self.complete_held_job(first, 'compute3')
        self.hypervisor.set_mode('complete')
        self.assertEqual('completed',
                         self.wait_for_migration(first)['status'])
        self.assert_completed_on_compute2(server)

    def test_conductor_stopped_while_the_destination_prepares(self):
        """The destination prepares while the conductor is stopped.

        compute2 is stopped with the source's preparation call in its
        queue; the conductor is stopped, compute2 continued: its
        preparation's reads and writes through the conductor wait. The
        conductor is continued once Nova sees it down. The migration must
        complete, or roll back (``error``, the server ACTIVE on compute1,
        compute2's claim dropped) and a retry move it.
        """
        server = self.preparation_call_queued()
        self.stop_service('nova-conductor')
        self.continue_service('nova-compute-compute2')
        self.wait_until_seen_down('nova-conductor')
        self.continue_service('nova-conductor')

        self.assert_completed_or_stayed_then_moves(server)

    def test_conductor_stopped_after_the_switch_over(self):
        """The source's post-migration begins with the conductor stopped.

        The guest runs on compute2 only (the monitor paused); the
        conductor is stopped and the monitor resumed: the post-migration's
        reads through the conductor get no answer within
        ``rpc_response_timeout``; the source's wait for the backends logs
        that it waits (the hold point), and the conductor is continued.
        The migration must complete.
        """
        server = self.migration_with_monitor_paused()
        self.complete_held_job(server)
        source_log = self.log_from_now('nova-compute-compute1')
        self.stop_service('nova-conductor')
        self.hypervisor.resume_monitor(server)
        base.wait_for('the post-migration of %s waits for the conductor'
                      % server, lambda: any(text in source_log() for text in (
                          'its post-migration waits', ' ERROR ')),
                      interval=1.0)
        self.continue_service('nova-conductor')

        self.assert_completed_on_compute2(server)

    def test_conductor_stopped_as_the_destination_is_called(self):
        """The destination's post-migration runs with the conductor stopped.

        compute2 is stopped with the source's call in its queue; the
        conductor is stopped, compute2 continued: its reads through the
        conductor get no answer within ``rpc_response_timeout``; its wait
        for the backends logs that it waits (the hold point), and the
        conductor is continued. The migration must complete.
        """
        server = self.post_migration_call_queued()
        dest_log = self.log_from_now('nova-compute-compute2')
        self.stop_service('nova-conductor')
        self.continue_service('nova-compute-compute2')
        base.wait_for('the post-migration of %s at compute2 waits for the '
                      'conductor' % server, lambda: any(
                          text in dest_log() for text in (
                              'post-migration waits for it', ' ERROR ')),
                      interval=1.0)
        self.continue_service('nova-conductor')

        self.assert_completed_on_compute2(server)
