"""The Store: the one door to the database for the engine, the CLI and the TUI.

It holds an engine and opens a short transaction per call, so it can be called from any thread
(the TUI syncs in a worker thread) and no transaction outlives the call that opened it. Everything
it returns is a plain dataclass.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
from collections.abc import Collection, Iterable, Iterator
from contextlib import contextmanager
from itertools import starmap
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    Select,
    Table,
    bindparam,
    delete,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError

from smtui.records import (
    CcmsSnapshot,
    ChildMapping,
    PortfolioSnapshot,
    RoomMapping,
    ServiceSettings,
)
from smtui.store import postgres, snapshots
from smtui.store.due import DUE_QUERY
from smtui.store.entities import (
    OP_STATES,
    RUN_KINDS,
    RUN_RESULTS,
    SERVICE_STATES,
    UNFINISHED_OP_STATES,
    AuditEntry,
    LockInfo,
    OpRecord,
    RunRecord,
    ServiceConfig,
    Side,
)
from smtui.store.errors import (
    OpNotFound,
    RunNotFound,
    ServiceExists,
    ServiceNotFound,
)
from smtui.store.tables import (
    AUDIT,
    CHILD_MAP,
    LOCK,
    OP,
    ROOM_MAP,
    RUN,
    SERVICE,
    UtcDateTime,
    columns_for,
)

#: Execution option marking a transaction that will write; the SQLite module starts those with
#: BEGIN IMMEDIATE. Other databases ignore it.
WRITE_OPTION = "smtui_write"

_UPDATABLE = frozenset(f.name for f in dataclasses.fields(ServiceConfig)) - {"name", "created_at"}
#: Removal order for a service's rows: children before parents.
_SERVICE_TABLES = (
    OP,
    RUN,
    AUDIT,
    CHILD_MAP,
    ROOM_MAP,
    LOCK,
    *snapshots.CACHE_TABLES,
)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Store:
    """Services, cached snapshots, mappings with audit, the run journal and the per-service lock."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.write_engine = engine.execution_options(**{WRITE_OPTION: True})

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with self.engine.begin() as conn:
            yield conn

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        with self.write_engine.begin() as conn:
            yield conn

    @contextmanager
    def _write_service(self, name: str) -> Iterator[tuple[Connection, int]]:
        """A write transaction that reads a service's rows and then replaces them.

        SQLite already queues every writer (BEGIN IMMEDIATE); on PostgreSQL a per-service
        advisory lock, taken before anything is read, makes two such writes to one service
        (two refreshes, two people deciding mappings) take turns instead of both deleting and
        then both inserting the same keys.
        """
        with self._write() as conn:
            sid = _service_id(conn, name)
            postgres.lock_service(conn, sid)
            yield conn, sid

    # --- services ------------------------------------------------------------------------------

    def add_service(self, cfg: ServiceConfig) -> ServiceConfig:
        """Register a service; raises ServiceExists if the name is taken."""
        if not cfg.name.strip():
            raise ValueError("a service needs a name")
        _check(cfg.state, SERVICE_STATES, "service state")
        values = dataclasses.asdict(cfg)
        values["created_at"] = cfg.created_at or utcnow()
        try:
            with self._write() as conn:
                sid = conn.execute(insert(SERVICE).returning(SERVICE.c.id), values).scalar_one()
                _refresh_next_due(conn, sid)
        except IntegrityError:
            raise ServiceExists(cfg.name) from None
        return self.get_service(cfg.name)

    def get_service(self, name: str) -> ServiceConfig:
        with self._read() as conn:
            row = conn.execute(_service_select().where(SERVICE.c.name == name)).first()
        if row is None:
            raise ServiceNotFound(name)
        return ServiceConfig(**row._mapping)

    def list_services(self) -> list[ServiceConfig]:
        with self._read() as conn:
            rows = conn.execute(_service_select().order_by(SERVICE.c.name)).all()
        return [ServiceConfig(**row._mapping) for row in rows]

    def update_service(self, name: str, **fields: Any) -> ServiceConfig:
        """Change some of a service's settings (any ServiceConfig field but name and created_at)."""
        unknown = set(fields) - _UPDATABLE
        if unknown:
            raise ValueError(f"cannot update service field(s): {', '.join(sorted(unknown))}")
        if "state" in fields:
            _check(fields["state"], SERVICE_STATES, "service state")
        with self._write() as conn:
            sid = _service_id(conn, name)
            if fields:
                conn.execute(update(SERVICE).where(SERVICE.c.id == sid).values(**fields))
                _refresh_next_due(conn, sid)
        return self.get_service(name)

    def due_services(self, now: dt.datetime | None = None) -> list[str]:
        """Enabled, set-up services due by ``now``, most overdue first: one indexed query,
        the text the cron path also runs on the file alone (``smtui.store.due``).

        The same rule as ``engine.services.due_services`` (due at once after setup until a
        run succeeds, then one interval after the last success), without a transaction per
        service.
        """
        query = text(DUE_QUERY).bindparams(bindparam("now", type_=UtcDateTime()))
        with self._read() as conn:
            return list(conn.scalars(query, {"now": now or utcnow()}))

    def next_due(self, name: str) -> dt.datetime | None:
        """When the service is next due (None when off or not set up)."""
        with self._read() as conn:
            sid = _service_id(conn, name)
            return conn.execute(select(SERVICE.c.next_due_at).where(SERVICE.c.id == sid)).scalar()

    def remove_service(self, name: str) -> None:
        """Delete the service and everything recorded about it, then compact the file so the
        deleted rows leave no bytes behind (raises NotCompacted if a reader prevented that)."""
        from smtui.store.errors import NotCompacted

        with self._write() as conn:
            sid = _service_id(conn, name)
            for table in _SERVICE_TABLES:
                conn.execute(delete(table).where(table.c.service_id == sid))
            conn.execute(delete(SERVICE).where(SERVICE.c.id == sid))
        if not self.compact():
            raise NotCompacted(f"{name} was removed", self.engine.url.database or "")

    def settings(self, name: str) -> ServiceSettings:
        """The settings the pure rules need (ServiceConfig.settings)."""
        return self.get_service(name).settings()

    # --- cached snapshots ---------------------------------------------------------------------

    def save_ccms_snapshot(
        self,
        service: str,
        snap: CcmsSnapshot,
        *,
        read_at: dt.datetime | None = None,
        marks: snapshots.ReadMarks | None = None,
    ) -> bool:
        """Replace the cached CCMS read of a service, atomically; False when kept (below).
        ``marks``: where the next incremental read starts (None: a full read, no cursors)."""
        with self._write_service(service) as (conn, sid):
            if _keeps_complete(conn, sid, "ccms", snap.complete):
                return False
            snapshots.save_ccms(conn, sid, snap, read_at or utcnow(), marks)
            return True

    def save_portfolio_snapshot(
        self,
        service: str,
        snap: PortfolioSnapshot,
        *,
        read_at: dt.datetime | None = None,
        marks: snapshots.ReadMarks | None = None,
    ) -> bool:
        """Replace the cached portfolio read of a service, atomically; False when kept."""
        with self._write_service(service) as (conn, sid):
            if _keeps_complete(conn, sid, "portfolio", snap.complete):
                return False
            snapshots.save_portfolio(conn, sid, snap, read_at or utcnow(), marks)
            return True

    def load_ccms_snapshot(self, service: str) -> CcmsSnapshot | None:
        with self._read() as conn:
            return snapshots.load_ccms(conn, _service_id(conn, service))

    def load_portfolio_snapshot(self, service: str) -> PortfolioSnapshot | None:
        with self._read() as conn:
            return snapshots.load_portfolio(conn, _service_id(conn, service))

    def live_profile_ids(self, service: str) -> set[str]:
        """Profiles not archived in the last portfolio read: counting integrated children
        without loading the whole snapshot (the home screen asks for every service)."""
        with self._read() as conn:
            return snapshots.live_profile_ids(conn, _service_id(conn, service))

    def snapshot_read_at(self, service: str, side: Side) -> dt.datetime | None:
        """When the cached read of one side was taken, or None if there is none."""
        _check(side, {"ccms", "portfolio"}, "side")
        with self._read() as conn:
            return snapshots.read_at(conn, _service_id(conn, service), side)

    def read_marks(self, service: str, side: Side) -> snapshots.ReadMarks | None:
        """Where the next incremental read of one side starts (None: no cached read)."""
        _check(side, {"ccms", "portfolio"}, "side")
        with self._read() as conn:
            return snapshots.read_marks(conn, _service_id(conn, service), side)

    def purge_cache(self, service: str) -> None:
        """Forget both cached reads (personal data); mappings, runs and audit stay.

        For a service that is turned off, also de-identify what stays (smtui.store.privacy:
        synced names and birth dates, names in audit, journal and run messages) and compact the
        file so none of it is left in its free space or -wal (raises NotCompacted if a reader
        prevented that). A live service keeps its synced values: the next sync compares
        against them.
        """
        from smtui.store import privacy
        from smtui.store.errors import NotCompacted

        with self._write() as conn:
            sid = _service_id(conn, service)
            forget = privacy.is_turned_off(conn, sid)
            if forget:
                privacy.forget_children(conn, sid)
            else:
                snapshots.purge(conn, sid)
        if forget and not self.compact():
            where = self.engine.url.database or ""
            raise NotCompacted(f"{service}'s personal data was purged", where)

    def compact(self) -> bool:
        """Leave no bytes of deleted rows in the database files (SQLite: VACUUM and an emptied
        -wal; other databases manage their own storage). False when another program's read
        kept the -wal from being emptied."""
        if self.engine.dialect.name != "sqlite":
            return True
        from smtui.store import sqlite  # it imports this module

        return sqlite.compact(self.engine)

    # --- mappings and audit -------------------------------------------------------------------

    def child_mappings(self, service: str) -> dict[str, ChildMapping]:
        with self._read() as conn:
            return _load_child_mappings(conn, _service_id(conn, service))

    def room_mappings(self, service: str) -> dict[str, RoomMapping]:
        with self._read() as conn:
            return _load_room_mappings(conn, _service_id(conn, service))

    def set_child_mappings(
        self, service: str, mappings: Iterable[ChildMapping], *, who: str, reason: str = ""
    ) -> None:
        """Upsert child mappings; each one that actually changes gets an audit row."""
        wanted = {m.child_id: m for m in mappings}
        with self._write_service(service) as (conn, sid):
            current = _load_child_mappings(conn, sid, wanted.keys())
            _upsert_mappings(
                conn, sid, CHILD_MAP, "child_id", "child", current, wanted, who=who, reason=reason
            )

    def set_room_mappings(
        self, service: str, mappings: Iterable[RoomMapping], *, who: str, reason: str = ""
    ) -> None:
        """Upsert room mappings; each one that actually changes gets an audit row."""
        wanted = {m.room_id: m for m in mappings}
        with self._write_service(service) as (conn, sid):
            current = _load_room_mappings(conn, sid, wanted.keys())
            _upsert_mappings(
                conn, sid, ROOM_MAP, "room_id", "room", current, wanted, who=who, reason=reason
            )

    def audit_log(
        self, service: str, *, limit: int = 100, subject_id: str | None = None
    ) -> list[AuditEntry]:
        """Mapping changes, newest first (optionally of one child or room)."""
        with self._read() as conn:
            sid = _service_id(conn, service)
            query = select(AUDIT).where(AUDIT.c.service_id == sid)
            if subject_id is not None:
                query = query.where(AUDIT.c.subject_id == subject_id)
            rows = conn.execute(query.order_by(AUDIT.c.id.desc()).limit(limit)).all()
        return [
            AuditEntry(
                service=service,
                at=r.at,
                who=r.who,
                subject=r.subject,
                subject_id=r.subject_id,
                before=_loads(r.before),
                after=_loads(r.after),
                reason=r.reason,
            )
            for r in rows
        ]

    # --- runs and journal ---------------------------------------------------------------------

    def start_run(
        self,
        service: str,
        *,
        kind: str,
        dry_run: bool,
        as_of: dt.date | None,
        fingerprint: str | None,
        who: str,
    ) -> int:
        """Record a run as 'running' before it touches anything; returns its id."""
        _check(kind, RUN_KINDS, "run kind")
        with self._write() as conn:
            sid = _service_id(conn, service)
            run_id = conn.execute(
                insert(RUN)
                .returning(RUN.c.id)
                .values(
                    service_id=sid,
                    started_at=utcnow(),
                    kind=kind,
                    dry_run=dry_run,
                    as_of=as_of,
                    plan_fingerprint=fingerprint,
                    result="running",
                    summary="{}",
                    who=who,
                )
            ).scalar_one()
            return int(run_id)

    def finish_run(self, run_id: int, result: str, summary: dict[str, Any]) -> None:
        _check(result, RUN_RESULTS - {"running"}, "run result")
        with self._write() as conn:
            done = conn.execute(
                update(RUN)
                .where(RUN.c.id == run_id)
                .values(finished_at=utcnow(), result=result, summary=_dumps(summary))
            )
            if done.rowcount == 0:
                raise RunNotFound(run_id)
            sid = conn.execute(select(RUN.c.service_id).where(RUN.c.id == run_id)).scalar_one()
            _refresh_next_due(conn, sid)

    def record_ops(self, run_id: int, service: str, ops: list[dict[str, Any]]) -> None:
        """Journal a run's planned ops in one go.

        Each dict needs ``op_id``, ``kind``, ``label``; ``payload`` (JSON-able dict, default {})
        and ``state`` (default 'planned') are optional.
        """
        if not ops:
            return
        now = utcnow()
        with self._write() as conn:
            sid = _service_id(conn, service)
            rows = []
            for op in ops:
                state = op.get("state", "planned")
                _check(state, OP_STATES, "op state")
                rows.append(
                    {
                        "run_id": run_id,
                        "service_id": sid,
                        "op_id": op["op_id"],
                        "kind": op["kind"],
                        "label": op["label"],
                        "payload": _dumps(op.get("payload", {})),
                        "state": state,
                        "error": op.get("error"),
                        "result": None,
                        "updated_at": now,
                    }
                )
            conn.execute(insert(OP), rows)

    def set_op_state(
        self,
        run_id: int,
        op_id: str,
        state: str,
        *,
        error: str | None = None,
        result: dict[str, Any] | None = None,
    ) -> None:
        """Move one op on (committed at once, so a kill leaves the journal truthful)."""
        _check(state, OP_STATES, "op state")
        with self._write() as conn:
            done = conn.execute(
                update(OP)
                .where(OP.c.run_id == run_id, OP.c.op_id == op_id)
                .values(
                    state=state,
                    error=error,
                    result=None if result is None else _dumps(result),
                    updated_at=utcnow(),
                )
            )
            if done.rowcount == 0:
                raise OpNotFound(run_id, op_id)

    def finish_op(
        self,
        run_id: int,
        service: str,
        op_id: str,
        state: str,
        *,
        error: str | None = None,
        mapping: ChildMapping | RoomMapping | None = None,
        who: str = "",
    ) -> None:
        """Close one applied op and save the link it made, in one transaction.

        Apply's one journal write per operation: the op's outcome and the mapping it leaves
        (with its audit row) commit together, so a kill leaves either both or neither, and the
        eight apply threads take the write lock once per operation instead of three times.
        """
        _check(state, OP_STATES, "op state")
        with self._write_service(service) as (conn, sid):
            done = conn.execute(
                update(OP)
                .where(OP.c.run_id == run_id, OP.c.op_id == op_id)
                .values(state=state, error=error, updated_at=utcnow())
            )
            if done.rowcount == 0:
                raise OpNotFound(run_id, op_id)
            if mapping is None:
                return
            current: dict[str, Any]
            if isinstance(mapping, ChildMapping):
                table, key, subject = CHILD_MAP, "child_id", "child"
                current = dict(_load_child_mappings(conn, sid, [mapping.child_id]))
            else:
                table, key, subject = ROOM_MAP, "room_id", "room"
                current = dict(_load_room_mappings(conn, sid, [mapping.room_id]))
            wanted = {getattr(mapping, key): mapping}
            _upsert_mappings(
                conn,
                sid,
                table,
                key,
                subject,
                current,
                wanted,
                who=who,
                reason=f"sync run {run_id}",
            )

    def prune_runs(self, older_than: dt.datetime, *, dry_run: bool = False) -> tuple[int, int]:
        """Delete finished runs that ended before ``older_than`` with their journal ops, so the
        journal does not grow by a run per sync for ever; returns (runs, ops) deleted (or that
        would be, with ``dry_run``).

        Kept whatever their age: each service's last successful real run (next due counts
        from it); a run with an op still planned, in flight, unknown or held (the next run
        settles or approves those); and a run with a done create, since the count of a
        create's successes is part of its Idempotency-Key (smtui.apply.idempotency_key).
        """
        last_ok = (
            select(func.max(RUN.c.id))
            .where(RUN.c.result == "ok", RUN.c.dry_run.is_(False))
            .group_by(RUN.c.service_id)
        )
        needed = select(OP.c.run_id).where(
            OP.c.state.in_([*UNFINISHED_OP_STATES, "held"])
            | (OP.c.kind.in_(_COUNTED_CREATES) & (OP.c.state == "done"))
        )
        doomed = select(RUN.c.id).where(
            RUN.c.result != "running",
            RUN.c.finished_at < older_than,
            RUN.c.id.not_in(last_ok),
            RUN.c.id.not_in(needed),
        )
        with self._write() as conn:
            ids = list(conn.scalars(doomed))
            ops = 0
            for start in range(0, len(ids), _FEW_KEYS):
                chunk = ids[start : start + _FEW_KEYS]
                ops += int(
                    conn.execute(select(func.count()).where(OP.c.run_id.in_(chunk))).scalar() or 0
                )
                if not dry_run:
                    conn.execute(delete(OP).where(OP.c.run_id.in_(chunk)))
                    conn.execute(delete(RUN).where(RUN.c.id.in_(chunk)))
        return len(ids), ops

    def runs(self, service: str, limit: int = 50) -> list[RunRecord]:
        """A service's runs, newest first."""
        with self._read() as conn:
            sid = _service_id(conn, service)
            rows = conn.execute(
                select(RUN).where(RUN.c.service_id == sid).order_by(RUN.c.id.desc()).limit(limit)
            ).all()
        return [_run_record(r, service) for r in rows]

    def run(self, run_id: int) -> RunRecord:
        with self._read() as conn:
            row = conn.execute(
                select(RUN, SERVICE.c.name.label("service_name"))
                .join(SERVICE, SERVICE.c.id == RUN.c.service_id)
                .where(RUN.c.id == run_id)
            ).first()
        if row is None:
            raise RunNotFound(run_id)
        return _run_record(row, row.service_name)

    def run_ops(self, run_id: int) -> list[OpRecord]:
        """A run's ops in the order they were planned."""
        with self._read() as conn:
            rows = conn.execute(_op_select().where(OP.c.run_id == run_id).order_by(OP.c.id)).all()
        return [_op_record(r) for r in rows]

    def unfinished_ops(self, service: str, *, exclude_run: int | None = None) -> list[OpRecord]:
        """Ops of real (not dry) runs left planned, in flight or unknown, oldest first.

        After a kill these may or may not have happened; the engine checks and resolves them
        before planning afresh. ``exclude_run`` leaves out the caller's own current run.
        """
        with self._read() as conn:
            sid = _service_id(conn, service)
            query = (
                _op_select()
                .join(RUN, RUN.c.id == OP.c.run_id)
                .where(
                    OP.c.service_id == sid,
                    OP.c.state.in_(UNFINISHED_OP_STATES),
                    RUN.c.dry_run.is_(False),
                )
                .order_by(OP.c.id)
            )
            if exclude_run is not None:
                query = query.where(OP.c.run_id != exclude_run)
            rows = conn.execute(query).all()
        return [_op_record(r) for r in rows]

    def done_counts(self, service: str, kinds: Collection[str]) -> dict[str, int]:
        """How many times each operation of these kinds was done (op id -> count)."""
        with self._read() as conn:
            sid = _service_id(conn, service)
            rows = conn.execute(
                select(OP.c.op_id, func.count())
                .where(OP.c.service_id == sid, OP.c.kind.in_(list(kinds)), OP.c.state == "done")
                .group_by(OP.c.op_id)
            ).all()
        return {op_id: int(n) for op_id, n in rows}

    def done_since(self, service: str, kind: str, since: dt.datetime) -> int:
        """How many operations of this kind were done since then (the holds' rolling window)."""
        with self._read() as conn:
            sid = _service_id(conn, service)
            return int(
                conn.execute(
                    select(func.count()).where(
                        OP.c.service_id == sid,
                        OP.c.kind == kind,
                        OP.c.state == "done",
                        OP.c.updated_at >= since,
                    )
                ).scalar()
                or 0
            )

    def last_success(self, service: str) -> dt.datetime | None:
        """When the last real run that finished 'ok' ended (for "next due")."""
        with self._read() as conn:
            sid = _service_id(conn, service)
            return conn.execute(
                select(RUN.c.finished_at)
                .where(RUN.c.service_id == sid, RUN.c.result == "ok", RUN.c.dry_run.is_(False))
                .order_by(RUN.c.finished_at.desc())
                .limit(1)
            ).scalar()

    # --- lock ---------------------------------------------------------------------------------

    def acquire_lock(
        self,
        service: str,
        *,
        token: str,
        user: str,
        host: str,
        pid: int,
        lease: dt.timedelta,
    ) -> LockInfo | None:
        """Take the service's sync lock for the run ``token``: None if now ours, else the holder.

        The row's primary key makes the insert the arbiter, so two processes racing get exactly
        one lock; an expired lease is taken over by a conditional update, which is atomic on
        SQLite and PostgreSQL alike. A holder on this host whose process is gone is taken over
        at once rather than at the end of its lease.
        """
        for _attempt in range(5):
            now = utcnow()
            row = _lease_row(token, user, host, pid, now, lease)
            try:
                with self._write() as conn:
                    sid = _service_id(conn, service)
                    conn.execute(insert(LOCK).values(service_id=sid, **row))
                return None
            except IntegrityError:
                pass
            with self._write() as conn:
                sid = _service_id(conn, service)
                taken = conn.execute(
                    update(LOCK)
                    .where(LOCK.c.service_id == sid, LOCK.c.expires_at < now)
                    .values(**row)
                ).rowcount
            if taken:
                return None
            holder = self.lock_holder(service)
            if holder is None:
                continue  # released meanwhile: try again
            if holder.token == token:
                return None
            if holder.host != host or _pid_alive(holder.pid):
                return holder
            self._delete_lock(service, holder.token)  # its process is gone
        return self.lock_holder(service)

    def claim_due(
        self,
        *,
        token: str,
        user: str,
        host: str,
        pid: int,
        lease: dt.timedelta,
        skip: Collection[str] = (),
    ) -> str | None:
        """Take the lease of the most overdue due service nobody is running (and not in
        ``skip``) for the run ``token``: its name, or None when no such service is left.

        ``sync --all`` claims one service at a time this way, so overlapping runs (cron on
        several machines) share the due services out instead of each syncing all of them. On
        PostgreSQL the pick is ``FOR UPDATE SKIP LOCKED``, so claimers pass over the service
        another is claiming; the lease row's insert (or the takeover of an expired one) is the
        arbiter as in ``acquire_lock``, and a claimer that loses it picks again. On SQLite the
        write transaction makes the pick and the claim one step. A lease whose holder on this
        host is gone is broken first, as ``acquire_lock`` would.
        """
        self._break_dead_locks(host)
        skipped = list(skip)
        while True:
            now = utcnow()
            row = _lease_row(token, user, host, pid, now, lease)
            held = select(LOCK.c.service_id).where(
                LOCK.c.service_id == SERVICE.c.id, LOCK.c.expires_at >= now
            )
            pick = (
                select(SERVICE.c.id, SERVICE.c.name)
                .where(
                    SERVICE.c.enabled,
                    SERVICE.c.set_up_at.is_not(None),
                    SERVICE.c.next_due_at <= now,
                    ~held.exists(),
                )
                .order_by(SERVICE.c.next_due_at, SERVICE.c.name)
                .limit(1)
            )
            if skipped:
                pick = pick.where(SERVICE.c.name.not_in(skipped))
            with self._write() as conn:
                if postgres.is_postgres(conn.dialect.name):
                    pick = pick.with_for_update(skip_locked=True, of=SERVICE)
                found = conn.execute(pick).first()
                if found is None:
                    return None
                if _claim_lock(conn, found.id, row, now):
                    return str(found.name)
            # another run claimed it between the pick and the insert: pick again

    def _break_dead_locks(self, host: str) -> None:
        """Free the leases held by runs on this host whose process is gone."""
        with self._read() as conn:
            held = conn.execute(
                select(SERVICE.c.name, LOCK.c.token, LOCK.c.pid)
                .join(LOCK, LOCK.c.service_id == SERVICE.c.id)
                .where(LOCK.c.host == host)
            ).all()
        for name, token, pid in held:
            if not _pid_alive(pid):
                self._delete_lock(name, token)

    def renew_lock(
        self, service: str, token: str, lease: dt.timedelta, *, run_id: int | None = None
    ) -> bool:
        """Extend the lease of the run ``token`` (and note its run); False if it is not ours
        any more (expired and taken over, or broken by ``smtui service unlock``)."""
        values: dict[str, Any] = {"expires_at": utcnow() + lease}
        if run_id is not None:
            values["run_id"] = run_id
        with self._write() as conn:
            sid = _service_id(conn, service)
            return (
                conn.execute(
                    update(LOCK)
                    .where(LOCK.c.service_id == sid, LOCK.c.token == token)
                    .values(**values)
                ).rowcount
                > 0
            )

    def release_lock(self, service: str, token: str) -> bool:
        """Release the lock if the run ``token`` holds it; True if released."""
        return self._delete_lock(service, token)

    def break_lock(self, service: str) -> LockInfo | None:
        """Free the service whoever holds it (a person's decision); returns who held it."""
        holder = self.lock_holder(service)
        if holder is not None and not self._delete_lock(service, holder.token):
            return self.break_lock(service)  # changed hands meanwhile: break the new holder
        return holder

    def lock_holder(self, service: str) -> LockInfo | None:
        with self._read() as conn:
            sid = _service_id(conn, service)
            row = conn.execute(select(LOCK).where(LOCK.c.service_id == sid)).first()
        if row is None:
            return None
        return LockInfo(
            service=service,
            user=row.user,
            host=row.host,
            pid=row.pid,
            since=row.since,
            token=row.token,
            expires_at=row.expires_at,
            run_id=row.run_id,
        )

    def _delete_lock(self, service: str, token: str) -> bool:
        # Only that holder's row: if another run took the lock meanwhile, its row survives.
        with self._write() as conn:
            sid = _service_id(conn, service)
            query = delete(LOCK).where(LOCK.c.service_id == sid, LOCK.c.token == token)
            return conn.execute(query).rowcount > 0


# --- helpers -----------------------------------------------------------------------------------


def _claim_lock(conn: Connection, sid: int, row: dict[str, Any], now: dt.datetime) -> bool:
    """Insert the service's lease row, or take over an expired one; whether it is now ours."""
    dialect_insert = pg_insert if postgres.is_postgres(conn.dialect.name) else sqlite_insert
    upsert = (
        dialect_insert(LOCK)
        .values(service_id=sid, **row)
        .on_conflict_do_update(
            index_elements=[LOCK.c.service_id], set_=row, where=LOCK.c.expires_at < now
        )
        .returning(LOCK.c.service_id)
    )
    return conn.execute(upsert).first() is not None


def _lease_row(
    token: str, user: str, host: str, pid: int, now: dt.datetime, lease: dt.timedelta
) -> dict[str, Any]:
    """A new lease row for the run ``token`` (``acquire_lock`` and ``claim_due`` alike)."""
    return {
        "token": token,
        "user": user,
        "host": host,
        "pid": pid,
        "run_id": None,
        "since": now,
        "expires_at": now + lease,
    }


def _check(value: str, allowed: Iterable[str], what: str) -> None:
    if value not in allowed:
        raise ValueError(f"unknown {what} {value!r}; expected one of {sorted(allowed)}")


def _service_id(conn: Connection, name: str) -> int:
    sid = conn.execute(select(SERVICE.c.id).where(SERVICE.c.name == name)).scalar()
    if sid is None:
        raise ServiceNotFound(name)
    return int(sid)


def _refresh_next_due(conn: Connection, sid: int) -> None:
    """Recompute a service's ``next_due_at`` after what it depends on changed (its settings,
    a run finishing): due at once once set up, then one interval after the last success."""
    row = conn.execute(
        select(SERVICE.c.enabled, SERVICE.c.set_up_at, SERVICE.c.interval_hours).where(
            SERVICE.c.id == sid
        )
    ).one()
    due = None
    if row.enabled and row.set_up_at is not None:
        last_ok = conn.execute(
            select(func.max(RUN.c.finished_at)).where(
                RUN.c.service_id == sid, RUN.c.result == "ok", RUN.c.dry_run.is_(False)
            )
        ).scalar()
        if isinstance(last_ok, str):  # SQLite hands max() of a timestamp back as text
            last_ok = dt.datetime.fromisoformat(last_ok).replace(tzinfo=dt.UTC)
        due = row.set_up_at if last_ok is None else last_ok + dt.timedelta(hours=row.interval_hours)
    conn.execute(update(SERVICE).where(SERVICE.c.id == sid).values(next_due_at=due))


def _service_select() -> Select[Any]:
    return select(*columns_for(SERVICE, ServiceConfig))


def _json_default(value: Any) -> Any:
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, tuple | set | frozenset):
        return list(value)
    raise TypeError(f"cannot store {type(value).__name__} as JSON")


def _dumps(value: Any) -> str:
    return json.dumps(value, default=_json_default, sort_keys=True)


def _loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)


#: Create kinds whose done count is part of their Idempotency-Key (smtui.apply.CREATES): pruning
#: keeps the runs holding them.
_COUNTED_CREATES = ("create_room", "create_profile")

# Up to this many keys, an upsert reads back only the rows it touches (apply writes one at a time).
_FEW_KEYS = 500


def _load_child_mappings(
    conn: Connection, sid: int, only: Collection[str] | None = None
) -> dict[str, ChildMapping]:
    c = CHILD_MAP.c
    query = select(*columns_for(CHILD_MAP, ChildMapping)).where(c.service_id == sid)
    if only is not None and len(only) <= _FEW_KEYS:
        query = query.where(c.child_id.in_(list(only)))
    return {m.child_id: m for m in starmap(ChildMapping, conn.execute(query))}


def _load_room_mappings(
    conn: Connection, sid: int, only: Collection[str] | None = None
) -> dict[str, RoomMapping]:
    c = ROOM_MAP.c
    query = select(*columns_for(ROOM_MAP, RoomMapping)).where(c.service_id == sid)
    if only is not None and len(only) <= _FEW_KEYS:
        query = query.where(c.room_id.in_(list(only)))
    return {m.room_id: m for m in starmap(RoomMapping, conn.execute(query))}


def _upsert_mappings(
    conn: Connection,
    sid: int,
    table: Table,
    key: str,
    subject: str,
    current: dict[str, Any],
    wanted: dict[str, Any],
    *,
    who: str,
    reason: str,
) -> None:
    """Replace changed mapping rows (delete + insert, portable) and audit each change.

    The caller holds the service's write lock (``Store._write_service``), so ``current`` is
    still current and no other transaction inserts these keys meanwhile.
    """
    changed = [m for k, m in wanted.items() if current.get(k) != m]
    if not changed:
        return
    now = utcnow()
    keys = [{"k": getattr(m, key)} for m in changed]
    conn.execute(
        delete(table).where(table.c.service_id == sid, table.c[key] == bindparam("k")), keys
    )
    conn.execute(
        insert(table),
        [
            {**dataclasses.asdict(m), "service_id": sid, "who": who, "updated_at": now}
            for m in changed
        ],
    )
    conn.execute(
        insert(AUDIT),
        [
            {
                "service_id": sid,
                "at": now,
                "who": who,
                "subject": subject,
                "subject_id": getattr(m, key),
                "before": _mapping_json(current.get(getattr(m, key))),
                "after": _mapping_json(m),
                "reason": reason,
            }
            for m in changed
        ],
    )


def _mapping_json(mapping: Any) -> str | None:
    return None if mapping is None else _dumps(dataclasses.asdict(mapping))


def _op_select() -> Any:
    return select(OP, SERVICE.c.name.label("service_name")).join(
        SERVICE, SERVICE.c.id == OP.c.service_id
    )


def _run_record(row: Any, service: str) -> RunRecord:
    return RunRecord(
        id=row.id,
        service=service,
        kind=row.kind,
        started_at=row.started_at,
        finished_at=row.finished_at,
        dry_run=bool(row.dry_run),
        as_of=row.as_of,
        fingerprint=row.plan_fingerprint,
        result=row.result,
        who=row.who,
        summary=json.loads(row.summary),
    )


def _op_record(row: Any) -> OpRecord:
    return OpRecord(
        run_id=row.run_id,
        service=row.service_name,
        op_id=row.op_id,
        kind=row.kind,
        label=row.label,
        state=row.state,
        payload=json.loads(row.payload),
        updated_at=row.updated_at,
        error=row.error,
        result=_loads(row.result),
    )


def _pid_alive(pid: int) -> bool:
    """Whether a process with this pid exists on this host (signal 0 checks without sending)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    except OSError:
        return True  # cannot tell: never break a lock we are unsure about
    return True


def _keeps_complete(conn: Connection, service_id: int, side: str, complete: bool) -> bool:
    """A read that stopped part way never replaces a complete one: the cache feeds explain,
    invitations and the mapping grids, and half a list would make children vanish from them."""
    return not complete and snapshots.is_complete(conn, service_id, side)
