"""One applier per service: a run holds the service's lock as a lease, renewed while it works.

The lock names a run (a random token), not a process: the app may run several services' syncs
in one process, and a pid means nothing on another host. A holder that dies anywhere stops
renewing, so its lease runs out and the next run takes over; a holder that finds its lease
gone (taken over, or broken by `smtui service unlock`) starts no further operation.

``sync --all`` does not lock a list it built beforehand: it *claims* the next due service nobody
is running (:func:`claim_due`), re-checks that it is still due, syncs it and claims the next,
so overlapping runs from cron on several machines share the due services out, and a run of
the claimed service in the same thread adopts the claim instead of locking again.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import threading
from collections.abc import Collection, Iterator
from contextlib import contextmanager

from smtui.engine.errors import EngineError, Locked
from smtui.engine.services import host_name, who_am_i
from smtui.store import LockInfo, Store

#: How long a lease lasts without renewal; `SMTUI_LOCK_LEASE_SECONDS` overrides it (tests).
DEFAULT_LEASE = dt.timedelta(seconds=60)

_guard = threading.Lock()
_running: dict[str, str] = {}  # service -> token of the run this process is making
_claimed: dict[str, tuple[int, Lease]] = {}  # service -> (thread, lease) claimed by sync --all


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
    """Hold the service's lock for one run, or raise Locked naming the holder; a service this
    thread has claimed (``claim_due``) is held already, and its claim ends it."""
    with _guard:
        claim = _claimed.get(name)
    if claim is not None and claim[0] == threading.get_ident():
        yield claim[1]
        return
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


@contextmanager
def claim_due(store: Store, skip: Collection[str] = ()) -> Iterator[str | None]:
    """Claim the most overdue due service nobody is running (and not in ``skip``): its name
    while this thread holds its lease, or None when no such service is left.

    After the claim the service is checked to be due still: a run elsewhere may have finished
    it just before (its new next due time is saved before its lease is released), and then it
    is let go and the next one claimed.
    """
    token = secrets.token_hex(16)
    length = lease_length()
    user, host = who_am_i().split("@")[0], host_name()
    passed = set(skip)
    while True:
        name = store.claim_due(
            token=token, user=user, host=host, pid=os.getpid(), lease=length, skip=passed
        )
        if name is None:
            yield None
            return
        due = store.next_due(name)
        if due is not None and due <= dt.datetime.now(dt.UTC):
            break
        store.release_lock(name, token)  # synced (or turned off) meanwhile
        passed.add(name)
    lease = Lease(store, name, token, length)
    with _guard:
        _running[name] = token
        _claimed[name] = (threading.get_ident(), lease)
    lease.start()
    try:
        yield name
    finally:
        lease.stop()
        store.release_lock(name, token)
        with _guard:
            _claimed.pop(name, None)
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
