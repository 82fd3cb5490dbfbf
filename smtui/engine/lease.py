"""One applier per service: a run holds the service's lock as a lease, renewed while it works.

The lock names a run (a random token), not a process: the app may run several services' syncs
in one process, and a pid means nothing on another host. A holder that dies anywhere stops
renewing, so its lease runs out and the next run takes over; a holder that finds its lease
gone (taken over, or broken by `smtui service unlock`) starts no further operation.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from smtui.engine.errors import EngineError, Locked
from smtui.engine.services import host_name
from smtui.store import LockInfo, Store

#: How long a lease lasts without renewal; `SMTUI_LOCK_LEASE_SECONDS` overrides it (tests).
DEFAULT_LEASE = dt.timedelta(seconds=60)

_guard = threading.Lock()
_running: dict[str, str] = {}  # service -> token of the run this process is making


def lease_length() -> dt.timedelta:
    raw = os.environ.get("SMTUI_LOCK_LEASE_SECONDS")
    try:
        seconds = float(raw) if raw else DEFAULT_LEASE.total_seconds()
    except ValueError:
        raise EngineError(f"SMTUI_LOCK_LEASE_SECONDS={raw!r} is not a number of seconds") from None
    return dt.timedelta(seconds=max(1.0, seconds))


class Lease:
    """The lock one run holds; a daemon thread renews it every third of its length."""

    def __init__(self, store: Store, service: str, token: str, length: dt.timedelta) -> None:
        self.store, self.service, self.token, self.length = store, service, token, length
        self.run_id: int | None = None
        self._lost = threading.Event()
        self._stopped = threading.Event()
        self._thread = threading.Thread(
            target=self._renew_until_stopped, name=f"lease-{service}", daemon=True
        )

    @property
    def lost(self) -> bool:
        return self._lost.is_set()

    def attach(self, run_id: int) -> None:
        """Name the run in the lock, so `smtui service unlock` and Locked can say which."""
        self.run_id = run_id
        self.renew()

    def renew(self) -> None:
        try:
            if not self.store.renew_lock(self.service, self.token, self.length, run_id=self.run_id):
                self._lost.set()
        except Exception:
            # A store we cannot write to cannot prove the lease is ours: stop working.
            self._lost.set()

    def _renew_until_stopped(self) -> None:
        every = self.length.total_seconds() / 3
        while not self._stopped.wait(every):
            self.renew()
            if self._lost.is_set():
                return

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)


@contextmanager
def hold(store: Store, name: str, who: str) -> Iterator[Lease]:
    """Hold the service's lock for one run, or raise Locked naming the holder."""
    token = secrets.token_hex(16)
    with _guard:
        if name in _running:
            holder = store.lock_holder(name)
            if holder is not None:
                raise Locked(name, holder)
            raise EngineError(f"{name} is already being synced from this app; wait for it")
        _running[name] = token
    try:
        length = lease_length()
        holder = store.acquire_lock(
            name,
            token=token,
            user=who.split("@")[0],
            host=host_name(),
            pid=os.getpid(),
            lease=length,
        )
        if holder is not None:
            raise Locked(name, holder)
        lease = Lease(store, name, token, length)
        lease.start()
        try:
            yield lease
        finally:
            lease.stop()
            store.release_lock(name, token)
    finally:
        with _guard:
            _running.pop(name, None)


def running_here(name: str) -> bool:
    """Whether this process is syncing the service now (the app shows it and refuses another)."""
    with _guard:
        return name in _running


def unlock(store: Store, name: str) -> LockInfo | None:
    """A person frees a service whose run is gone; returns who held it (None if nobody).

    The run that held it, if still alive, notices at its next renewal and starts nothing more.
    """
    return store.break_lock(name)
