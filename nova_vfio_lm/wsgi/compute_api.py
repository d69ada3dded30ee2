"""WSGI entry for Nova's compute API with the plugin active.

Point uwsgi (``module = nova_vfio_lm.wsgi.compute_api:application``) or
mod_wsgi at this module instead of Nova's own compute API entry. It lets
Nova set up its concurrency first, activates the plugin, then builds Nova's
compute API application.
"""

import threading

from nova_vfio_lm import series as series_mod

NAME = 'osapi_compute'
PROG = 'nova-api-os-compute'


def init_application():
    import nova_vfio_lm

    nova_series = series_mod.detect()
    if nova_series.major == 29:
        # nova 29 has no nova.wsgi package; importing its compute wsgi
        # module runs Nova's monkey-patching, as its own entry does.
        from nova.api.openstack.compute import wsgi as nova_wsgi
        nova_vfio_lm.activate()
        return nova_wsgi.init_application()
    if nova_series.native:
        from nova import monkey_patch
        monkey_patch.patch(backend='threading')
    from nova.api.openstack import wsgi_app
    nova_vfio_lm.activate()
    if nova_series.native:
        return wsgi_app.init_application(NAME, PROG)
    return wsgi_app.init_application(NAME)


application = None
with threading.Lock():
    if application is None:
        application = init_application()
