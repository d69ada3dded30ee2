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

"""A one-machine OpenStack cloud of separate processes, plugin on.

Every service runs as its own process, as operators deploy them: MariaDB
and RabbitMQ (Debian packages), Keystone, Glance, placement and the compute
API under uwsgi, nova-conductor, nova-scheduler and the computes started
through ``nova-vfio-lm-run``. The only stand-in is the hypervisor: Nova's
own libvirt driver runs over the fake libvirt binding in
:mod:`nova_vfio_lm_cloud.fakelibvirt_binding`.

One module per service (as devstack's ``lib/`` keeps one file per
service), each a small class with the same verbs: ``configure``, ``init``,
``start``, ``stop``. :mod:`.runfolder` holds the state of one cloud,
:mod:`.supervisor` the processes, :mod:`.cloud` puts them in order.
"""
