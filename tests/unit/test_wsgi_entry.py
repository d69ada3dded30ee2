import subprocess
import sys

import testtools


class ComputeApiEntryTest(testtools.TestCase):
    """The WSGI entry sets Nova up as Nova's own entry does, per release."""

    def test_concurrency_set_up_and_api_package_imported(self):
        # a fresh interpreter: monkey-patching cannot be undone
        code = ('from nova_vfio_lm import wsgi\n'
                'wsgi._patch_as_nova_wsgi_does()\n'
                'from nova.api.openstack import wsgi_app\n'
                'print("ok")\n')
        result = subprocess.run([sys.executable, '-c', code],
                                capture_output=True, text=True, timeout=120)
        self.assertEqual((0, 'ok'), (result.returncode,
                                     result.stdout.strip()), result.stderr)
