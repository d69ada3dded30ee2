"""``application``: Nova's compute API with the plugin, built on import."""

import threading

from nova_vfio_lm import wsgi

application = None
with threading.Lock():
    if application is None:
        application = wsgi.init_compute_api()
