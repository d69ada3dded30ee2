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

"""A host's findings as a table for people or JSON for tools."""

import json

from nova_vfio_lm.cmd import output
from nova_vfio_lm.hostcheck import findings as findings_mod


def exit_status(report):
    """1 when anything blocks live migration, else 0."""
    return 1 if report.blocking else 0


def summary(report):
    """``'2 blocking, 1 warning, 0 unknown, 14 ok'``."""
    return ', '.join('%d %s' % (report.count(s), s)
                     for s in findings_mod.STATUSES)


def unknowns(report):
    """One line per unknown finding: what could not be found out."""
    return ['%s %s: %s' % (f.device, f.check, f.detail)
            for f in report.findings if f.status == findings_mod.UNKNOWN]


def as_dict(report):
    return {
        'host': report.hostname,
        'host_root': report.root,
        'status': report.status,
        'blocking': report.blocking,
        'summary': {s: report.count(s) for s in findings_mod.STATUSES},
        'vfs': [{'address': vf.address, 'pf': vf.pf, 'vf_index': vf.index,
                 'vendor_id': vf.vendor_id, 'product_id': vf.product_id,
                 'managed': vf.managed} for vf in report.vfs],
        'cards': {pf: {'psid': card.psid, 'firmware': card.firmware}
                  for pf, card in sorted(report.cards.items())},
        'findings': [f.as_dict() for f in report.findings],
        'unknown': unknowns(report),
    }


def as_json(report):
    return json.dumps(as_dict(report), indent=2, sort_keys=True)


def as_table(report):
    """One row per device and check; each fix command on its own line."""
    rows = [(f.device, f.check, f.status,
             '\n'.join([f.detail] + ['fix: %s' % c for c in f.fix]))
            for f in report.findings]
    lines = ['host %s (root %s): %s' % (report.hostname, report.root,
                                        report.status),
             output.table(('DEVICE', 'CHECK', 'STATUS', 'DETAIL'), rows)]
    lines.append('summary: %s' % summary(report))
    lines += ['unknown: %s' % line for line in unknowns(report)]
    return '\n'.join(lines)
