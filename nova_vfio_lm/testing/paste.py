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
