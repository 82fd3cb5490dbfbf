"""Errors the store raises for things a user can cause and fix.

Each message is one line meant to be shown as is (the CLI prints it without a traceback).
"""

from __future__ import annotations


class StoreError(Exception):
    """Base for store problems a front end reports to the user."""


class ServiceExists(StoreError):
    def __init__(self, name: str) -> None:
        super().__init__(f"service {name!r} already exists")
        self.name = name


class ServiceNotFound(StoreError):
    def __init__(self, name: str) -> None:
        super().__init__(f"no service named {name!r}: see `smtui service list`")
        self.name = name


class RunNotFound(StoreError):
    def __init__(self, run_id: int) -> None:
        super().__init__(f"no sync run with id {run_id}")
        self.run_id = run_id


class OpNotFound(StoreError):
    def __init__(self, run_id: int, op_id: str) -> None:
        super().__init__(f"sync run {run_id} has no operation {op_id!r}")
        self.run_id = run_id
        self.op_id = op_id


class DatabaseUnavailable(StoreError):
    """The database could not be opened or migrated (bad path, permissions, corrupt file)."""
