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

"""WSGI entry for Nova's compute API with the plugin active.

For uwsgi or mod_wsgi, serve ``nova_vfio_lm.wsgi.osapi_compute:application``
(or the ``nova-vfio-lm-api-wsgi`` script) in place of Nova's own compute API
entry. Nova sets up its concurrency first, then the plugin is activated, then
Nova builds its compute API application.
"""

import inspect

from nova_vfio_lm import series as series_mod

NAME = 'osapi_compute'
PROG = 'nova-api-os-compute'


def _patch_as_nova_wsgi_does():
    """Choose the concurrency backend as Nova's own compute API entry does.

    From 2026.1 (nova 33) Nova's ``nova.wsgi.osapi_compute`` runs the API
    with native threads (``monkey_patch.patch(backend='threading')``);
    2025.1 and 2025.2 have no backend choice and patch eventlet when
    ``nova.api.openstack`` is imported, which the caller does next.
    """
    from nova import monkey_patch

    patch = getattr(monkey_patch, 'patch', None)
    if patch is not None and 'backend' in inspect.signature(
            patch).parameters:
        patch(backend='threading')


def init_compute_api():
    """Activate the plugin and build Nova's compute API application."""
    import nova_vfio_lm

    nova_series = series_mod.detect()
    if nova_series.major == 29:
        # nova 29 has no nova.wsgi package; importing its compute wsgi
        # module runs Nova's monkey-patching, as its own entry does.
        from nova.api.openstack.compute import wsgi as nova_wsgi
        nova_vfio_lm.activate()
        return nova_wsgi.init_application()
    if nova_series.native:
        _patch_as_nova_wsgi_does()
    from nova.api.openstack import wsgi_app
    nova_vfio_lm.activate()
    if len(inspect.signature(wsgi_app.init_application).parameters) > 1:
        return wsgi_app.init_application(NAME, PROG)  # nova 33 and newer
    return wsgi_app.init_application(NAME)
