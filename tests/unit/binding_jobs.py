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

"""Live-migration jobs of the local cloud's libvirt binding, end to end.

Run as ``python -m tests.unit.binding_jobs FOLDER`` by
``test_binding_jobs``: importing the binding changes Nova's fake libvirt
for the whole process, which the in-process tests beside it must not
see. Each case moves one guest holding a VF from compute1 to compute2
through ``migrateToURI3`` and prints, as JSON, what each host's
hypervisor keeps afterwards and what the source's domain object reports.
"""

import json
import os
import sys
import threading
import time

from nova_vfio_lm_cloud import hypervisor as hypervisor_mod
from nova_vfio_lm_cloud import layout
from nova_vfio_lm_cloud import nova as nova_mod
from nova_vfio_lm_cloud import runfolder
from nova_vfio_lm_cloud import stand_in_gate

HOSTS = ('compute1', 'compute2')
UUID = '6f1d0c2e-6a1b-4d3c-9a57-0c1e0d7b9f21'
OTHER = '0a9b8c7d-1e2f-4a5b-8c6d-7e8f9a0b1c2d'
#: A bound on every wait here (seconds).
WAIT = 60

GUEST_XML = """<domain type='kvm'>
  <name>%(name)s</name>
  <uuid>%(uuid)s</uuid>
  <memory>131072</memory>
  <vcpu>1</vcpu>
  <os><type>hvm</type></os>
  <devices>
    <hostdev mode='subsystem' type='pci' managed='no'>
      <source><address domain='0x0000' bus='0x81' slot='0x00'
        function='%(function)s'/></source>
    </hostdev>
  </devices>
</domain>"""


def guest_xml(function, uuid=UUID, name='instance-00000001'):
    return GUEST_XML % {'name': name, 'uuid': uuid, 'function': function}


def write_hosts(folder):
    """Host files as the cloud writes them; returns compute1's."""
    hypervisor_dir = os.path.join(folder, 'hypervisor')
    paths = {}
    for host in HOSTS:
        paths[host] = os.path.join(folder, host + '.json')
        with open(paths[host], 'w') as f:
            json.dump({'hostname': host,
                       'cards': layout.default_layout()[host],
                       'hypervisor_dir': hypervisor_dir,
                       'libvirt_version': nova_mod.LIBVIRT_VERSION,
                       'qemu_version': nova_mod.QEMU_VERSION,
                       'cpus': 4, 'memory_mb': 16384}, f)
    return paths['compute1']


def wait_held(hyper):
    deadline = time.monotonic() + WAIT
    while not hyper.held():
        if time.monotonic() > deadline:
            raise RuntimeError('the migration was never held')
        time.sleep(0.05)


def run_case(libvirt, folder, case):
    """Move the guest as ``case`` says; what each host then keeps."""
    hyper = hypervisor_mod.Hypervisor(os.path.join(folder, 'hypervisor'))
    for host in HOSTS:  # a fresh hypervisor per case
        for uuid in hyper.host(host).all():
            hyper.host(host).remove(uuid)
    connection = libvirt.openAuth('qemu:///system', None)
    domain = connection.defineXML(guest_xml('0x1'))
    domain.createWithFlags(0)
    flags = (libvirt.VIR_MIGRATE_LIVE | libvirt.VIR_MIGRATE_PEER2PEER |
             libvirt.VIR_MIGRATE_PERSIST_DEST)
    if case != 'complete-keeping-definition':
        flags |= libvirt.VIR_MIGRATE_UNDEFINE_SOURCE
    if case == 'destination-vf-in-use':
        hyper.host('compute2').save(
            OTHER, guest_xml('0x2', OTHER, 'instance-00000002'), True)
    hyper.set_mode({'fail': 'fail', 'release': 'hold',
                    'abort': 'hold'}.get(case, 'complete'))
    error = []

    def migrate():
        try:
            domain.migrateToURI3(
                'qemu+tcp://compute2/system',
                {'destination_xml': guest_xml('0x2')}, flags)
        except libvirt.libvirtError as e:
            error.append(str(e))
    job = threading.Thread(target=migrate)
    job.start()
    if case in ('release', 'abort'):
        wait_held(hyper)
        if case == 'release':
            hyper.decide(UUID, 'release')
        else:
            domain.abortJob()
    job.join(WAIT)
    defined = {}
    for host in HOSTS:
        defined[host] = {uuid: data['running'] for uuid, data in
                         hyper.host(host).all().items()}
    return {'hosts': defined, 'error': error[0] if error else None,
            'active': domain.isActive(),
            'job': domain.jobStats()['type'],
            'listed': [d.UUIDString() for d in connection.listAllDomains(
                libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE |
                libvirt.VIR_CONNECT_LIST_DOMAINS_INACTIVE)]}


CASES = ('complete', 'release', 'complete-keeping-definition', 'fail',
         'abort', 'destination-vf-in-use')


def main(folder):
    os.environ['NOVA_VFIO_LM_FAKE_HOST'] = write_hosts(folder)
    # the binding loads only in a test cloud's process: this folder is one
    runfolder.RunFolder(folder).create()
    os.environ.update(stand_in_gate.env(runfolder.RunFolder(folder)))
    from nova_vfio_lm_cloud import fakelibvirt_binding as libvirt
    print(json.dumps({case: run_case(libvirt, folder, case)
                      for case in CASES}))


if __name__ == '__main__':
    main(sys.argv[1])
