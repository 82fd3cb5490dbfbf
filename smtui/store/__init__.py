"""The SQLModel store: services, cached snapshots, mappings, audit, run journal, sync lock.

Open it with :func:`open_store`; everything else goes through the returned :class:`Store`.

The package is lazy, like ``smtui.engine``: a name's module is imported when the name is first
used, so code that only needs a record or an error (``LockInfo`` for the engine's ``Locked``,
``StoreError`` for the CLI's one-line errors) does not load SQLAlchemy and SQLModel.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from smtui.lazy import lazy_getattr

if TYPE_CHECKING:
    from smtui.store.connect import open_store, resolve_url
    from smtui.store.entities import AuditEntry, LockInfo, OpRecord, RunRecord, ServiceConfig
    from smtui.store.errors import (
        DatabaseUnavailable,
        OpNotFound,
        RunNotFound,
        ServiceExists,
        ServiceNotFound,
        StoreError,
    )
    from smtui.store.store import Store

__all__ = [
    "AuditEntry",
    "DatabaseUnavailable",
    "LockInfo",
    "OpNotFound",
    "OpRecord",
    "RunNotFound",
    "RunRecord",
    "ServiceConfig",
    "ServiceExists",
    "ServiceNotFound",
    "Store",
    "StoreError",
    "open_store",
    "resolve_url",
]

#: the module each name of ``__all__`` is imported from on first use (tests/test_cron_path.py
#: checks it against ``__all__`` and the ``TYPE_CHECKING`` imports, so they cannot drift apart)
_NAMES = {
    "smtui.store.connect": ("open_store", "resolve_url"),
    "smtui.store.entities": ("AuditEntry", "LockInfo", "OpRecord", "RunRecord", "ServiceConfig"),
    "smtui.store.errors": (
        "DatabaseUnavailable",
        "OpNotFound",
        "RunNotFound",
        "ServiceExists",
        "ServiceNotFound",
        "StoreError",
    ),
    "smtui.store.store": ("Store",),
}
_HOME = {name: module for module, names in _NAMES.items() for name in names}

if not TYPE_CHECKING:  # type checkers read the imports above, so a misspelt name stays an error
    __getattr__ = lazy_getattr(__name__, _HOME, globals())
