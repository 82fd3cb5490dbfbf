"""The SQLModel store: services, cached snapshots, mappings, audit, run journal, sync lock.

Open it with :func:`open_store`; everything else goes through the returned :class:`Store`.
"""

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
