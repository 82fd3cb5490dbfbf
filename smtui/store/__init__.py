"""The SQLModel store: services, cached snapshots, mappings, audit, run journal, sync lock.

Open it with :func:`open_store`; everything else goes through the returned :class:`Store`.

The package is lazy, like ``smtui.engine``: a name's module is imported when the name is first
used, so code that only needs a record or an error (``LockInfo`` for the engine's ``Locked``,
``StoreError`` for the CLI's one-line errors) does not load SQLAlchemy and SQLModel.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

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

    def __getattr__(name: str) -> object:
        """Import the name's module on first use; the name is kept here for the next."""
        if name not in _HOME:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        globals()[name] = value = getattr(import_module(_HOME[name]), name)
        return value
