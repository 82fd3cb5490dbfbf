"""Snapshot <-> rows, in bulk.

A snapshot of a large service is ~100k children and ~300k bookings, so rows go in with one Core
executemany per table and come out with one ordered Core select per table, built straight into
the records dataclasses; the ORM's per-object bookkeeping costs several times more per row
(bench/bench_store.py measures it).
"""

from __future__ import annotations

import datetime as dt
import functools
import gc
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Row, Table, delete, insert, select

from smtui.records import (
    Booking,
    CcmsSnapshot,
    Child,
    PortfolioRoom,
    PortfolioSnapshot,
    Profile,
    Room,
)
from smtui.store.tables import BOOKING, CHILD, CROOM, META, PROFILE, PROOM

from_iso = dt.datetime.fromisoformat

CCMS_TABLES = (CHILD, CROOM, BOOKING)
PORTFOLIO_TABLES = (PROFILE, PROOM)
#: Every table holding cached personal data, for purging.
CACHE_TABLES = (*CCMS_TABLES, *PORTFOLIO_TABLES, META)


@contextmanager
def _bulk() -> Iterator[None]:
    """Pause the cyclic GC while building or reading hundreds of thousands of rows.

    Every allocation would otherwise keep triggering collections that walk all those live,
    acyclic objects again; pausing it takes about a third off a large save or load.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@_bulk()
def save_ccms(conn: Connection, service_id: int, snap: CcmsSnapshot, read_at: dt.datetime) -> None:
    _clear(conn, service_id, CCMS_TABLES, "ccms")
    _insert(
        conn,
        CHILD,
        [
            {
                "service_id": service_id,
                "seq": i,
                "id": c.id,
                "first_name": c.first_name,
                "last_name": c.last_name,
                "preferred_name": c.preferred_name,
                "birth_date": c.birth_date,
                "status": c.status,
                "updated_at": c.updated_at.isoformat(),
            }
            for i, c in enumerate(snap.children)
        ],
    )
    _insert(
        conn,
        CROOM,
        [
            {
                "service_id": service_id,
                "seq": i,
                "id": r.id,
                "name": r.name,
                "updated_at": r.updated_at.isoformat(),
            }
            for i, r in enumerate(snap.rooms)
        ],
    )
    _insert(
        conn,
        BOOKING,
        [
            {
                "service_id": service_id,
                "seq": i,
                "id": b.id,
                "child_id": b.child_id,
                "room_id": b.room_id,
                "start_date": b.start_date,
                "end_date": b.end_date,
                "weekdays": ",".join(map(str, b.weekdays)),
                "every": b.every,
                "kind": b.kind,
                "status": b.status,
                "updated_at": None if b.updated_at is None else b.updated_at.isoformat(),
            }
            for i, b in enumerate(snap.bookings)
        ],
    )
    _save_meta(conn, service_id, "ccms", read_at, snap.complete, snap.problems)


@_bulk()
def save_portfolio(
    conn: Connection, service_id: int, snap: PortfolioSnapshot, read_at: dt.datetime
) -> None:
    _clear(conn, service_id, PORTFOLIO_TABLES, "portfolio")
    _insert(
        conn,
        PROFILE,
        [
            {
                "service_id": service_id,
                "seq": i,
                "id": p.id,
                "first_name": p.first_name,
                "last_name": p.last_name,
                "birth_date": p.birth_date,
                "archived": p.archived,
                "room_ids": json.dumps(list(p.room_ids)),
                "external_ref": p.external_ref,
                "invitation_status": p.invitation_status,
            }
            for i, p in enumerate(snap.profiles)
        ],
    )
    _insert(
        conn,
        PROOM,
        [
            {
                "service_id": service_id,
                "seq": i,
                "id": r.id,
                "name": r.name,
                "archived": r.archived,
                "external_ref": r.external_ref,
            }
            for i, r in enumerate(snap.rooms)
        ],
    )
    _save_meta(conn, service_id, "portfolio", read_at, snap.complete, snap.problems)


@_bulk()
def load_ccms(conn: Connection, service_id: int) -> CcmsSnapshot | None:
    meta = _meta(conn, service_id, "ccms")
    if meta is None:
        return None
    c = CHILD.c
    children = tuple(
        Child(
            id=r[0],
            first_name=r[1],
            last_name=r[2],
            birth_date=r[3],
            status=r[4],
            updated_at=from_iso(r[5]),
            preferred_name=r[6],
        )
        for r in _rows(
            conn,
            CHILD,
            service_id,
            c.id,
            c.first_name,
            c.last_name,
            c.birth_date,
            c.status,
            c.updated_at,
            c.preferred_name,
        )
    )
    rc = CROOM.c
    rooms = tuple(
        Room(id=r[0], name=r[1], updated_at=from_iso(r[2]))
        for r in _rows(conn, CROOM, service_id, rc.id, rc.name, rc.updated_at)
    )
    b = BOOKING.c
    bookings = tuple(
        Booking(
            id=r[0],
            child_id=r[1],
            room_id=r[2],
            start_date=r[3],
            weekdays=_weekdays(r[4]),
            every=r[5],
            kind=r[6],
            status=r[7],
            end_date=r[8],
            updated_at=None if r[9] is None else from_iso(r[9]),
        )
        for r in _rows(
            conn,
            BOOKING,
            service_id,
            b.id,
            b.child_id,
            b.room_id,
            b.start_date,
            b.weekdays,
            b.every,
            b.kind,
            b.status,
            b.end_date,
            b.updated_at,
        )
    )
    complete, problems = meta[1], meta[2]
    return CcmsSnapshot(children, rooms, bookings, complete=complete, problems=problems)


@_bulk()
def load_portfolio(conn: Connection, service_id: int) -> PortfolioSnapshot | None:
    meta = _meta(conn, service_id, "portfolio")
    if meta is None:
        return None
    p = PROFILE.c
    profiles = tuple(
        Profile(
            id=r[0],
            first_name=r[1],
            last_name=r[2],
            birth_date=r[3],
            archived=r[4],
            room_ids=tuple(json.loads(r[5])),
            external_ref=r[6],
            invitation_status=r[7],
        )
        for r in _rows(
            conn,
            PROFILE,
            service_id,
            p.id,
            p.first_name,
            p.last_name,
            p.birth_date,
            p.archived,
            p.room_ids,
            p.external_ref,
            p.invitation_status,
        )
    )
    rc = PROOM.c
    rooms = tuple(
        PortfolioRoom(id=r[0], name=r[1], archived=r[2], external_ref=r[3])
        for r in _rows(conn, PROOM, service_id, rc.id, rc.name, rc.archived, rc.external_ref)
    )
    return PortfolioSnapshot(profiles, rooms, complete=meta[1], problems=meta[2])


def archived_profile_ids(conn: Connection, service_id: int) -> set[str]:
    query = select(PROFILE.c.id).where(PROFILE.c.service_id == service_id, PROFILE.c.archived)
    return set(conn.scalars(query))


def is_complete(conn: Connection, service_id: int, side: str) -> bool:
    """Whether a cached read of this side exists and was complete."""
    meta = _meta(conn, service_id, side)
    return meta is not None and meta[1]


def read_at(conn: Connection, service_id: int, side: str) -> dt.datetime | None:
    meta = _meta(conn, service_id, side)
    return meta[0] if meta else None


def purge(conn: Connection, service_id: int) -> None:
    for table in CACHE_TABLES:
        conn.execute(delete(table).where(table.c.service_id == service_id))


def _clear(conn: Connection, service_id: int, tables: tuple[Table, ...], side: str) -> None:
    for table in tables:
        conn.execute(delete(table).where(table.c.service_id == service_id))
    conn.execute(delete(META).where(META.c.service_id == service_id, META.c.side == side))


def _insert(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    if rows:
        conn.execute(insert(table), rows)


def _save_meta(
    conn: Connection,
    service_id: int,
    side: str,
    read_at: dt.datetime,
    complete: bool,
    problems: tuple[str, ...],
) -> None:
    conn.execute(
        insert(META),
        {
            "service_id": service_id,
            "side": side,
            "read_at": read_at,
            "complete": complete,
            "problems": json.dumps(list(problems)),
        },
    )


def _meta(
    conn: Connection, service_id: int, side: str
) -> tuple[dt.datetime, bool, tuple[str, ...]] | None:
    row = conn.execute(
        select(META.c.read_at, META.c.complete, META.c.problems).where(
            META.c.service_id == service_id, META.c.side == side
        )
    ).first()
    if row is None:
        return None
    return row[0], bool(row[1]), tuple(json.loads(row[2]))


@functools.lru_cache(maxsize=1024)
def _weekdays(text: str) -> tuple[int, ...]:
    # A service has a handful of distinct patterns across 300k bookings: parse each once.
    return tuple(int(d) for d in text.split(",")) if text else ()


def _rows(
    conn: Connection, table: Table, service_id: int, *columns: Any
) -> Sequence[Row[*tuple[Any, ...]]]:
    return conn.execute(
        select(*columns).where(table.c.service_id == service_id).order_by(table.c.seq)
    ).all()
