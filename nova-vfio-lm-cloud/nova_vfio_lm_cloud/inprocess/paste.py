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

"""Where the installed Nova keeps its ``api-paste.ini``."""

from importlib import metadata
import os


def nova_api_paste_ini():
    """Nova's ``api-paste.ini`` wherever the installed Nova put it.

    A wheel install puts it under ``<prefix>/etc/nova``, not next to the
    package where Nova's default ``state_path`` would look.
    """
    for path in metadata.distribution('nova').files or ():
        if str(path).replace(os.sep, '/').endswith('etc/nova/api-paste.ini'):
            return str(path.locate())
    raise RuntimeError("installed nova has no etc/nova/api-paste.ini")
