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

"""nova-compute's start: log what check-host finds, never refuse to start.

A host that cannot live-migrate its VFs can still run guests, so the
findings are warnings in nova-compute's log, one line each.
"""

from oslo_log import log as logging

from nova_vfio_lm.hostcheck import findings as findings_mod
from nova_vfio_lm.hostcheck import report as report_mod

LOG = logging.getLogger(__name__)


def log_findings(device_spec=None, root='/', runner=None):
    """Log each finding that is not ok, then a summary; never raises.

    :param device_spec: ``[pci]device_spec``; default Nova's parsed config.
    """
    try:
        if device_spec is None:
            import nova.conf

            device_spec = nova.conf.CONF.pci.device_spec
        result = findings_mod.check_host(device_spec, root, runner)
        for finding in result.findings:
            if finding.status != findings_mod.OK:
                LOG.warning('check-host: %s %s %s: %s%s', finding.device,
                            finding.check, finding.status, finding.detail,
                            '; fix: %s' % '; '.join(finding.fix)
                            if finding.fix else '')
        (LOG.info if result.status == findings_mod.OK else LOG.warning)(
            'check-host: live migration readiness of host %s: %s (%s)',
            result.hostname, result.status, report_mod.summary(result))
    except Exception as exc:  # the check must never stop nova-compute
        LOG.warning('check-host: the readiness check failed: %s: %s',
                    type(exc).__name__, exc)
