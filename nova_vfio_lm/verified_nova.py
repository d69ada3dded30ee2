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

"""Which Nova code the plugin was verified on, callable by callable.

The plugin wraps Nova's own functions and relies on some of their
internals. Releases are told apart by Nova's major version only, so a
point release that changes a wrapped function would fail only when a live
migration calls it. For each release series, ``verified/<series>.json``
records, for every Nova callable the plugin wraps and the few internals it
relies on (:data:`RELIED_ON`), its signature and a SHA-256 of its source,
as the pinned Nova release had them. Activation compares the running Nova
with that record (:func:`differences`); ``tools/record_verified_nova.py``
writes the records from an installed Nova.
"""

import hashlib
import importlib
import inspect
import json
import os

#: Nova internals whose meaning the plugin relies on without wrapping
#: them: the compute's waiting live migrations, the PCI tracker's books,
#: the alias schema the plugin extends, and the compute's private steps
#: the plugin calls (a migration's status, its allocation moved back or
#: deleted, an abort's notification, the clean-up flags, the tracker's
#: report).
RELIED_ON = (
    'nova.compute.manager.ComputeManager.__init__',
    'nova.compute.manager.ComputeManager._delete_allocation_after_move',
    'nova.compute.manager.ComputeManager._live_migration_cleanup_flags',
    'nova.compute.manager.ComputeManager._notify_live_migrate_abort_end',
    'nova.compute.manager.ComputeManager._revert_allocation',
    'nova.compute.manager.ComputeManager._set_migration_status',
    'nova.compute.resource_tracker.ResourceTracker._update',
    'nova.pci.manager.PciDevTracker.__init__',
    'nova.pci.request._ALIAS_SCHEMA',
)

RECORDS = os.path.join(os.path.dirname(__file__), 'verified')


def record_path(series_name):
    return os.path.join(RECORDS, '%s.json' % series_name)


def load(series_name):
    """The record of ``series_name`` (``{}`` if there is none)."""
    try:
        with open(record_path(series_name)) as f:
            return json.load(f)
    except FileNotFoundError:
        return {}


def resolve(name):
    """The object a dotted ``name`` names, under every plugin wrapper."""
    from nova_vfio_lm.changes import base

    parts = name.split('.')
    for cut in range(len(parts) - 1, 0, -1):
        try:
            found = importlib.import_module('.'.join(parts[:cut]))
        except ImportError:
            continue
        for attr in parts[cut:]:
            found = inspect.getattr_static(found, attr)
            if isinstance(found, (staticmethod, classmethod)):
                found = found.__func__
        return base.stock(found)
    raise LookupError('no module in %r' % name)


def fingerprint(obj):
    """``{'signature': ..., 'source_sha256': ...}`` of a callable or value."""
    if callable(obj):
        try:
            signature = str(inspect.signature(obj))
        except (TypeError, ValueError):
            signature = None
        try:
            source = inspect.getsource(obj)
        except (OSError, TypeError):
            source = None
    else:
        signature = None
        source = json.dumps(obj, sort_keys=True, default=repr)
    return {'signature': signature,
            'source_sha256': source and hashlib.sha256(
                source.encode('utf-8')).hexdigest()}


def current(names):
    """``{name: fingerprint}`` of the running Nova."""
    return {name: fingerprint(resolve(name)) for name in sorted(names)}


def differences(series_name, found):
    """What the running Nova has that its series' record does not.

    :param found: ``{name: fingerprint}`` of the running Nova.
    :returns: one line per difference, naming the callable.
    """
    recorded = load(series_name).get('callables', {})
    if not recorded:
        return ['no record of the Nova code the plugin was verified on for '
                'series %s' % series_name]
    lines = []
    for name, now in sorted(found.items()):
        then = recorded.get(name)
        if then is None:
            lines.append('%s: not in the record' % name)
        elif now['signature'] != then['signature']:
            lines.append('%s: signature %s, verified %s' % (
                name, now['signature'], then['signature']))
        elif now['source_sha256'] != then['source_sha256']:
            lines.append('%s: its source differs from the verified one'
                         % name)
    return lines
