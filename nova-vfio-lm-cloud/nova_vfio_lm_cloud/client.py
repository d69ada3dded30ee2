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

"""The ``openstack`` client, as an operator or a tenant runs it.

Scenarios and the set-up of the cloud's flavors use only this public
interface. Each call runs the client of the cloud's Python environment
with the cloud's ``clouds.yaml``.
"""

import json
import os
import subprocess

from nova_vfio_lm_cloud import service

ADMIN = 'nova-vfio-lm'
MEMBER = 'nova-vfio-lm-member'
#: Compute API microversion the scenarios speak (live migration to a
#: given host, abort, migration listing, instance action event details).
COMPUTE_API_VERSION = '2.84'


class ClientError(RuntimeError):
    """The client exited non-zero; ``output`` has what it said."""

    def __init__(self, argv, returncode, output):
        super().__init__('%s exited %d: %s' % (
            ' '.join(argv), returncode, output.strip()[-2000:]))
        self.returncode = returncode
        self.output = output


class OpenStack:
    """``openstack --os-cloud CLOUD ...`` with this cloud's clouds.yaml."""

    def __init__(self, clouds_yaml, cloud=ADMIN, bindir=None, timeout=180):
        self.clouds_yaml = clouds_yaml
        self.cloud = cloud
        self.bindir = bindir or service.default_bindir()
        self.timeout = timeout

    def as_cloud(self, cloud):
        return OpenStack(self.clouds_yaml, cloud, self.bindir, self.timeout)

    def run(self, *args):
        """Run a command; its standard output (``ClientError`` if failed)."""
        argv = [os.path.join(self.bindir, 'openstack'), '--os-cloud',
                self.cloud, '--os-compute-api-version',
                COMPUTE_API_VERSION] + [str(a) for a in args]
        env = dict(os.environ, OS_CLIENT_CONFIG_FILE=self.clouds_yaml)
        for name in list(env):
            if name.startswith('OS_') and name != 'OS_CLIENT_CONFIG_FILE':
                del env[name]
        result = subprocess.run(
            argv, stdin=subprocess.DEVNULL, capture_output=True, text=True,
            env=env, timeout=self.timeout)
        if result.returncode:
            raise ClientError(argv, result.returncode,
                              result.stderr + result.stdout)
        return result.stdout

    def json(self, *args):
        """Run a command with ``-f json``; its parsed output."""
        output = self.run(*(list(args) + ['-f', 'json']))
        return json.loads(output) if output.strip() else None


class Rest:
    """The same clouds read through openstacksdk's REST sessions.

    For the many small reads a scenario polls with (a server's state, its
    migrations, placement allocations): the ``openstack`` client costs
    about two seconds of start-up per call, a REST call some
    milliseconds. Actions an operator types stay with :class:`OpenStack`.
    """

    def __init__(self, clouds_yaml, cloud=ADMIN):
        import openstack.config  # noqa: H306 - only where it is used

        config = openstack.config.OpenStackConfig(
            config_files=[clouds_yaml])
        self.conn = openstack.connection.Connection(
            config=config.get_one(cloud))

    def compute(self, path, **params):
        return self.conn.compute.get(
            path, params=params, microversion=COMPUTE_API_VERSION).json()

    def exists(self, path):
        """Whether a compute API resource is there (not 404)."""
        return self.conn.compute.get(
            path, microversion=COMPUTE_API_VERSION).status_code != 404

    def network(self, path, **params):
        """A Neutron API read (``path`` under ``/v2.0``)."""
        return self.conn.network.get(path, params=params).json()

    def placement(self, path, **params):
        return self.conn.placement.get(
            path, params=params,
            headers={'OpenStack-API-Version': 'placement 1.28'}).json()
