"""``import libvirt`` in a local-cloud compute: the fake binding.

The harness puts this folder first on a compute's ``PYTHONPATH``, so Nova's
own libvirt driver, unmodified, loads the fake binding as it would load
the real one.
"""

import sys

from nova_vfio_lm.localcloud import fakelibvirt_binding

sys.modules[__name__] = fakelibvirt_binding
