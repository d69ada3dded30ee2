"""How the tests run the plugin's console scripts, as an operator would."""

import os
import sys


def argv(script, module):
    """The installed ``script`` beside this Python, else ``python -m``."""
    path = os.path.join(os.path.dirname(sys.executable), script)
    if os.path.exists(path):
        return [path]
    return [sys.executable, '-m', module]


def nova_vfio_lm():
    return argv('nova-vfio-lm', 'nova_vfio_lm.cmd.manage')


def launcher():
    return argv('nova-vfio-lm-run', 'nova_vfio_lm.cmd.run')
