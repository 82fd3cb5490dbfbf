"""Sync workers on procrastinate (a PostgreSQL task queue): N machines, one database.

On SQLite, cron + ``smtui sync --all`` is the embedded default. On PostgreSQL each machine runs a
worker instead; the queue lives in the same database as the store. Rather than every process
building its own due list (and syncing what another just synced), the work is shared out:

- a periodic task (every five minutes, once across all workers: procrastinate's periodic
  deferrer) enqueues each due service *once*: the job's queueing lock is the service, so a
  service already waiting in the queue is not queued again;
- a job syncs one service; its lock is the service too, so procrastinate never runs two jobs
  of one service at once anywhere, and the store's lease still keeps out a cron run or a
  person's run from the app. The job carries the ``next_due_at`` it was queued for and does
  nothing if that has moved on (a run succeeded since), so a service is synced once per due
  period however many workers queued it;
- a failure that may pass (the database or a vendor unreachable, a read that stopped part way)
  is retried with exponential backoff; one a person must fix (held for approval, turned off)
  is not;
- a worker that died mid-job stops its heartbeat; a periodic task puts its stalled jobs back
  in the queue (the journal makes the retried sync resume without duplicates).

``run_once`` enqueues what is due, works until the queue is empty and returns (for tests and
hosts driven by a timer); ``run_forever`` is the long-running worker. The CLI's ``smtui worker``
calls them. Needs ``procrastinate>=3.10`` (with psycopg 3).
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
import threading
from typing import Any

import procrastinate
import psycopg
from procrastinate.exceptions import AlreadyEnqueued

from smtui.store import DatabaseUnavailable, Store, open_store, resolve_url

log = logging.getLogger(__name__)

QUEUE = "smtui"
SYNC_TASK = "smtui.sync_service"
#: Advisory lock key for installing procrastinate's schema once ("smtui-pq").
SCHEMA_LOCK_KEY = 0x736D7475692D7071
#: Seconds without a heartbeat after which a running job's worker is taken for dead.
STALLED_AFTER = 60.0
RETRY = procrastinate.RetryStrategy(max_attempts=6, exponential_wait=30)


class WorkerError(Exception):
    """A worker cannot run here (wrong database, procrastinate missing): one line to show."""


class TransientSyncFailure(Exception):
    """A sync that ended failed or partial: worth another go later (the journal resumes it)."""


@dataclasses.dataclass(frozen=True)
class OnceReport:
    """What ``run_once`` queued (services due, not already waiting) and what the jobs did."""

    queued: tuple[str, ...]
    outcomes: dict[str, str]


def conninfo(db_url: str) -> str:
    """The libpq URL for a store URL (``postgresql+psycopg://…`` -> ``postgresql://…``)."""
    url = resolve_url(db_url)
    if url.get_backend_name() != "postgresql":
        raise WorkerError(
            "smtui worker needs a PostgreSQL store (--db or SMTUI_DB postgresql+psycopg://...); "
            "on SQLite run `smtui sync --all` from cron"
        )
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


class Worker:
    """One process's worker: the procrastinate app, its tasks, and the store they sync in."""

    def __init__(self, db_url: str) -> None:
        self.db_url = db_url
        self.conninfo = conninfo(db_url)
        self._store: Store | None = None
        self._store_guard = threading.Lock()
        self.outcomes: dict[str, str] = {}
        self.app = procrastinate.App(
            connector=procrastinate.PsycopgConnector(conninfo=self.conninfo)
        )
        self._define_tasks()

    # --- the store ------------------------------------------------------------------------------

    @property
    def store(self) -> Store:
        with self._store_guard:
            if self._store is None:
                self._store = open_store(self.db_url)
            return self._store

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None

    # --- tasks ----------------------------------------------------------------------------------

    def _define_tasks(self) -> None:
        app = self.app

        @app.task(name=SYNC_TASK, queue=QUEUE, retry=RETRY)
        def sync_service(service: str, due_at: str | None) -> str:
            outcome = self.sync_one(service, due_at)
            self.outcomes[service] = outcome
            return outcome

        @app.periodic(cron="*/5 * * * *", periodic_id="enqueue-due")
        @app.task(name="smtui.enqueue_due", queue=QUEUE, queueing_lock="smtui.enqueue_due")
        async def enqueue_due(timestamp: int) -> int:
            return len(await self.enqueue_due())

        @app.periodic(cron="*/5 * * * *", periodic_id="retry-stalled")
        @app.task(name="smtui.retry_stalled", queue=QUEUE, queueing_lock="smtui.retry_stalled")
        async def retry_stalled(timestamp: int) -> int:
            return await self.retry_stalled()

        self.sync_task = sync_service

    def sync_one(self, service: str, due_at: str | None) -> str:
        """Sync one service if it is still as due as when it was queued; how it went.

        Runs in procrastinate's thread for synchronous tasks, so the blocking engine is fine.
        """
        from smtui import engine  # the engine is heavy: imported where a job needs it

        try:
            current = self.store.next_due(service)
        except DatabaseUnavailable:
            raise  # retried: the database may come back
        except Exception as exc:  # the service was removed meanwhile
            log.info("%s: not synced: %s", service, exc)
            return "gone"
        if current is None:
            return "not due"  # turned off or not set up since it was queued
        if due_at is not None and current > dt.datetime.fromisoformat(due_at):
            return "synced already"  # a run succeeded since: its next due moved on
        try:
            result = engine.run_sync(self.store, service, who="worker")
        except engine.Locked:
            return "locked"  # someone else's run (cron, the app) has it now: theirs counts
        except engine.EngineError as exc:
            log.warning("%s: %s", service, exc)
            return "refused"
        outcome = result.run.result
        if outcome in ("failed", "partial"):
            raise TransientSyncFailure(f"{service}: sync ended {outcome}")
        return outcome

    async def enqueue_due(self, now: dt.datetime | None = None) -> list[str]:
        """Queue a sync of every due service not already waiting; the names queued."""
        store = self.store
        queued = []
        for service in store.due_services(now):
            due_at = store.next_due(service)
            job = self.sync_task.configure(
                queueing_lock=f"sync:{service}", lock=f"sync:{service}", queue=QUEUE
            )
            try:
                await job.defer_async(
                    service=service, due_at=None if due_at is None else due_at.isoformat()
                )
            except AlreadyEnqueued:
                continue
            queued.append(service)
        return queued

    async def retry_stalled(self) -> int:
        """Put back in the queue the jobs of workers that stopped their heartbeat."""
        manager = self.app.job_manager
        stalled = list(await manager.get_stalled_jobs(seconds_since_heartbeat=STALLED_AFTER))
        for job in stalled:
            await manager.retry_job(job)
        await manager.prune_stalled_workers(seconds_since_heartbeat=STALLED_AFTER)
        return len(stalled)

    # --- running --------------------------------------------------------------------------------

    def ensure_schema(self) -> None:
        """Install procrastinate's tables once (several workers may start at once)."""
        with psycopg.connect(self.conninfo) as conn:
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK_KEY,))
            exists = conn.execute("SELECT to_regclass('procrastinate_jobs')").fetchone()
            if exists is None or exists[0] is None:
                conn.execute(self.app.schema_manager.get_schema())  # type: ignore[arg-type]

    def run_once(self, now: dt.datetime | None = None, concurrency: int = 1) -> OnceReport:
        """Queue what is due, work until the queue is empty, and return what happened."""
        self.ensure_schema()
        self.store  # open (and migrate) the store before any job needs it  # noqa: B018

        async def once() -> list[str]:
            async with self.app.open_async():
                await self.retry_stalled()
                queued = await self.enqueue_due(now)
                await self.app.run_worker_async(**_worker_options(concurrency, wait=False))
                return queued

        queued = asyncio.run(once())
        return OnceReport(tuple(queued), dict(self.outcomes))

    def run_forever(self, concurrency: int = 1) -> None:
        """The long-running worker (periodic tasks included) until SIGINT/SIGTERM."""
        self.ensure_schema()
        self.store  # noqa: B018
        self.app.run_worker(**_worker_options(concurrency, wait=True))


def _worker_options(concurrency: int, *, wait: bool) -> dict[str, Any]:
    return {
        "queues": [QUEUE],
        "concurrency": max(1, concurrency),
        "wait": wait,
        "install_signal_handlers": wait,
        "delete_jobs": "successful",
        "stalled_worker_timeout": STALLED_AFTER,
        "listen_notify": wait,
        "fetch_job_polling_interval": 1.0,
    }


def run_once(db_url: str, *, now: dt.datetime | None = None, concurrency: int = 1) -> OnceReport:
    """``smtui worker --once``: queue what is due, work the queue empty, exit."""
    worker = Worker(db_url)
    try:
        return worker.run_once(now, concurrency)
    finally:
        worker.close()


def run_forever(db_url: str, *, concurrency: int = 1) -> None:
    """``smtui worker``: work the queue until stopped."""
    worker = Worker(db_url)
    try:
        worker.run_forever(concurrency)
    finally:
        worker.close()
