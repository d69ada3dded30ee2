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

"""Migration jobs of Nova's fake libvirt, reported as libvirt reports them.

Used by the in-process tests and by the real cloud's fake binding; imports
nothing (nova 2026.2's computes run without eventlet).
"""


def job_stats_reporting_end_once(fakelibvirt):
    """A ``Domain.jobStats`` that reports an ended job once, then none.

    Nova's migration monitor acts on the end of a job as soon as it sees
    it. The fake keeps a failed or cancelled job's type on the domain, so
    the monitor of the next migration of a guest that stayed, polling
    before that migration starts, would take it for its own end.

    :param fakelibvirt: the fake libvirt module (``nova.tests.fixtures.
        libvirt``) whose job type constants to use.
    """
    ended = (fakelibvirt.VIR_DOMAIN_JOB_COMPLETED,
             fakelibvirt.VIR_DOMAIN_JOB_FAILED,
             fakelibvirt.VIR_DOMAIN_JOB_CANCELLED)

    def jobStats(domain, flags=0):
        job = domain._job_type
        if job in ended:
            domain._job_type = fakelibvirt.VIR_DOMAIN_JOB_NONE
        return {'type': job}
    return jobStats


def leave_source(fakelibvirt, domain, flags):
    """Stop the source guest of a completed job, as libvirt does.

    The guest now runs on the destination: QEMU on the source ends at
    that moment, and with ``VIR_MIGRATE_UNDEFINE_SOURCE`` (Nova always
    passes it, with ``VIR_MIGRATE_PERSIST_DEST``) libvirt also removes
    the source definition. Nothing runs on the source whatever its
    nova-compute does next, or if it never gets there (a conductor that
    stops answering, a compute killed). The domain object the caller
    holds still reports the completed job, as a real one reports
    "no domain", which Nova reads as completed too.

    :param fakelibvirt: the fake libvirt module of the domain.
    """
    connection = domain._connection
    domain._state = fakelibvirt.VIR_DOMAIN_SHUTOFF
    connection._mark_not_running(domain)
    if flags & fakelibvirt.VIR_MIGRATE_UNDEFINE_SOURCE and \
            domain.name() in connection._vms:
        connection._undefine(domain)
