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

"""Keystone: identity, the service catalog and the cloud's accounts.

Runs under uwsgi like devstack's, with its config, fernet and credential
keys in the run folder (``keystone-manage`` is always given
``--config-file``, or it would use /etc/keystone). The accounts follow
devstack: ``admin``, the ``service`` project with one user per service
holding ``admin`` and ``service``, and a ``demo`` member. This module is
also the one place that knows how a service authenticates to Keystone
(:meth:`Keystone.auth_options`, :meth:`Keystone.authtoken_options`).
"""

import grp
import os
import pwd

import openstack.connection
import yaml

from nova_vfio_lm_cloud import runfolder
from nova_vfio_lm_cloud import service

REGION = 'RegionOne'
SERVICE_USERS = ('nova', 'placement', 'glance', 'neutron')
CLOUD = 'nova-vfio-lm'
MEMBER_CLOUD = 'nova-vfio-lm-member'


class Keystone(service.Service):
    """Keystone under uwsgi on 127.0.0.1:``run.port('keystone')``.

    Order: :meth:`configure`, :meth:`init` (offline: database, keys,
    bootstrap), :meth:`start`, then :meth:`create_accounts` (through the
    API; idempotent, as is :meth:`register_service`).

    :param db: the :class:`~.mariadb.MariaDB` holding its database.
    """

    name = 'keystone'

    def __init__(self, run, sup, db, bindir=None):
        super().__init__(run, sup, bindir=bindir)
        self.db = db

    def conf_path(self):
        return os.path.join(self.config_dir(), 'keystone.conf')

    def url(self, path=''):
        return self.run.url(self.name, path)

    def configure(self):
        keys = self.run.sub('keystone')
        runfolder.write_ini(self.conf_path(), {
            'DEFAULT': {'use_stderr': True},
            'database': {
                'connection': self.db.create_database('keystone')},
            'token': {'provider': 'fernet'},
            'fernet_tokens': {
                'key_repository': os.path.join(keys, 'fernet-keys')},
            'fernet_receipts': {
                'key_repository': os.path.join(keys, 'fernet-keys')},
            'credential': {
                'key_repository': os.path.join(keys, 'credential-keys')},
            # a test cloud: cheap bcrypt keeps account set-up and every
            # password login fast; 72 is bcrypt's limit (no warning)
            'identity': {'password_hash_rounds': 4,
                         'max_password_length': 72},
        })

    def manage(self, *args, env=None):
        self.execute([self.bin('keystone-manage'), '--config-file',
                      self.conf_path()] + list(args), env=env)

    def init(self):
        """Database, fernet and credential keys, admin and catalog entry."""
        owner = ['--keystone-user', pwd.getpwuid(os.geteuid()).pw_name,
                 '--keystone-group', grp.getgrgid(os.getegid()).gr_name]
        self.manage('db_sync')
        self.manage('fernet_setup', *owner)
        self.manage('credential_setup', *owner)
        # the password in the environment: not in the process list nor
        # in the set-up log, which prints the command
        self.manage(
            'bootstrap', '--bootstrap-username', 'admin',
            '--bootstrap-project-name', 'admin',
            '--bootstrap-role-name', 'admin',
            '--bootstrap-service-name', 'keystone',
            '--bootstrap-region-id', REGION,
            '--bootstrap-admin-url', self.url('/v3'),
            '--bootstrap-internal-url', self.url('/v3'),
            '--bootstrap-public-url', self.url('/v3'),
            env={'OS_BOOTSTRAP_PASSWORD': self.password('admin')})

    def start(self, timeout=90):
        self.start_wsgi('keystone-wsgi-public',
                        'keystone.wsgi.api:application',
                        {'OS_KEYSTONE_CONFIG_DIR': self.config_dir()},
                        path='/v3', timeout=timeout)

    # -- accounts and catalog, through the API ------------------------------

    def password(self, user):
        """The password of Keystone user ``user``."""
        return super().password('keystone-%s' % user)

    def connection(self):
        """openstacksdk as ``admin`` in project ``admin``.

        A new one each call: a connection keeps the catalog of its first
        token, and services register between calls.
        """
        return openstack.connection.Connection(
            auth_url=self.url(), username='admin',
            password=self.password('admin'), project_name='admin',
            user_domain_name='Default', project_domain_name='Default',
            region_name=REGION, identity_api_version='3')

    def create_accounts(self):
        """Projects ``service`` and ``demo``, service users, ``demo``."""
        identity = self.connection().identity
        roles = {role.name: role.id for role in identity.roles()}
        for name in ('admin', 'member', 'reader', 'service'):
            if name not in roles:  # bootstrap makes ``service`` from 2023.2
                roles[name] = identity.create_role(name=name).id
        service_id = _ensure(identity.projects, identity.create_project,
                             name='service', domain_id='default',
                             description='Service users')
        demo_id = _ensure(identity.projects, identity.create_project,
                          name='demo', domain_id='default',
                          description='A member')
        for name in SERVICE_USERS:
            self._user(identity, name, service_id,
                       (roles['admin'], roles['service']))
        self._user(identity, 'demo', demo_id,
                   (roles['member'], roles['reader']))

    def _user(self, identity, name, project_id, role_ids):
        user_id = _ensure(identity.users, identity.create_user, name=name,
                          domain_id='default', password=self.password(name),
                          default_project_id=project_id)
        for role_id in role_ids:
            identity.assign_project_role_to_user(project_id, user_id,
                                                 role_id)

    def register_service(self, service_type, name, url):
        """A catalog entry: service plus public/internal/admin endpoints."""
        identity = self.connection().identity
        service_id = _ensure(identity.services, identity.create_service,
                             type=service_type, name=name)
        for interface in ('public', 'internal', 'admin'):
            endpoint = next(identity.endpoints(
                service_id=service_id, interface=interface,
                region_id=REGION), None)
            if endpoint is None:
                identity.create_endpoint(
                    service_id=service_id, interface=interface,
                    region_id=REGION, url=url)
            elif endpoint.url != url:
                identity.update_endpoint(endpoint, url=url)

    # -- how services and clients authenticate ------------------------------

    def auth_options(self, user):
        """keystoneauth options of ``user`` in project ``service``.

        For sections such as ``[placement]``, ``[glance]``,
        ``[service_user]``, ``[neutron]``.
        """
        return {
            'auth_type': 'password',
            'auth_url': self.url(),
            'username': user,
            'password': self.password(user),
            'project_name': 'service',
            'user_domain_name': 'Default',
            'project_domain_name': 'Default',
            'region_name': REGION,
        }

    def authtoken_options(self, user):
        """A service's ``[keystone_authtoken]`` (no memcached)."""
        return dict(self.auth_options(user),
                    www_authenticate_uri=self.url(),
                    service_token_roles_required=True)

    def write_clouds_yaml(self, path):
        """clouds.yaml with ``nova-vfio-lm`` (admin) and ``-member``."""
        def cloud(user, project):
            return {
                'auth': {'auth_url': self.url(), 'username': user,
                         'password': self.password(user),
                         'project_name': project,
                         'user_domain_name': 'Default',
                         'project_domain_name': 'Default'},
                'region_name': REGION,
                'identity_api_version': 3,
                'interface': 'public',
            }

        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        with runfolder.open_private(path) as f:
            yaml.safe_dump({'clouds': {
                CLOUD: cloud('admin', 'admin'),
                MEMBER_CLOUD: cloud('demo', 'demo')}}, f,
                default_flow_style=False)
        return path


def _ensure(find, create, name=None, type=None, **attrs):
    """The id of the entry ``find`` lists by name (and type), else a new one.

    Makes :meth:`Keystone.create_accounts` and ``register_service`` safe to
    run again; an existing entry is left as it is.
    """
    filters = {key: value for key, value in (('name', name), ('type', type))
               if value is not None}
    for entry in find(**filters):
        return entry.id
    return create(**dict(attrs, **filters)).id
