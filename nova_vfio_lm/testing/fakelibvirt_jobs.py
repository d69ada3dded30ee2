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
