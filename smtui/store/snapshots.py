"""Snapshot <-> rows, in bulk.

A snapshot of a large service is ~100k children and ~300k bookings, so rows go in with one Core
executemany per table and come out with one ordered Core select per table, built straight into
the records dataclasses; the ORM's per-object bookkeeping costs several times more per row
(bench/bench_store.py measures it).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Sequence
from itertools import starmap
from operator import attrgetter
from typing import TYPE_CHECKING, TypeVar

from sqlalchemy import Connection, Table, delete, insert, select

from smtui.records import (
    Booking,
    CcmsSnapshot,
    Child,
    PortfolioRoom,
    PortfolioSnapshot,
    Profile,
    Room,
)
from smtui.store.tables import BOOKING, CHILD, CROOM, META, PROFILE, PROOM, columns_for

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

R = TypeVar("R", bound="DataclassInstance")

CCMS_TABLES = (CHILD, CROOM, BOOKING)
PORTFOLIO_TABLES = (PROFILE, PROOM)
#: Every table holding cached personal data, for purging.
CACHE_TABLES = (*CCMS_TABLES, *PORTFOLIO_TABLES, META)


@dataclasses.dataclass(frozen=True, slots=True)
class ReadMarks:
    """What the next read of one side starts from: when it was last read in full, and per list
    the server's ``as_of`` mark to ask ``updated_since`` from (docs/api.md, incremental reads).
    No cursor for a list means that list is read in full next time."""

    full_read_at: dt.datetime | None = None
    cursors: dict[str, str] = dataclasses.field(default_factory=dict)


def save_ccms(
    conn: Connection,
    service_id: int,
    snap: CcmsSnapshot,
    read_at: dt.datetime,
    marks: ReadMarks | None = None,
) -> None:
    _clear(conn, service_id, CCMS_TABLES, "ccms")
    _insert(conn, CHILD, service_id, snap.children)
    _insert(conn, CROOM, service_id, snap.rooms)
    _insert(conn, BOOKING, service_id, snap.bookings)
    _save_meta(conn, service_id, "ccms", read_at, snap.complete, snap.problems, marks)


def save_portfolio(
    conn: Connection,
    service_id: int,
    snap: PortfolioSnapshot,
    read_at: dt.datetime,
    marks: ReadMarks | None = None,
) -> None:
    _clear(conn, service_id, PORTFOLIO_TABLES, "portfolio")
    _insert(conn, PROFILE, service_id, snap.profiles)
    _insert(conn, PROOM, service_id, snap.rooms)
    _save_meta(conn, service_id, "portfolio", read_at, snap.complete, snap.problems, marks)


def load_ccms(conn: Connection, service_id: int) -> CcmsSnapshot | None:
    meta = _meta(conn, service_id, "ccms")
    if meta is None:
        return None
    return CcmsSnapshot(
        _load(conn, CHILD, service_id, Child),
        _load(conn, CROOM, service_id, Room),
        _load(conn, BOOKING, service_id, Booking),
        complete=meta.complete,
        problems=meta.problems,
    )


def load_portfolio(conn: Connection, service_id: int) -> PortfolioSnapshot | None:
    meta = _meta(conn, service_id, "portfolio")
    if meta is None:
        return None
    return PortfolioSnapshot(
        _load(conn, PROFILE, service_id, Profile),
        _load(conn, PROOM, service_id, PortfolioRoom),
        complete=meta.complete,
        problems=meta.problems,
    )


def live_profile_ids(conn: Connection, service_id: int) -> set[str]:
    query = select(PROFILE.c.id).where(PROFILE.c.service_id == service_id, ~PROFILE.c.archived)
    return set(conn.scalars(query))


def is_complete(conn: Connection, service_id: int, side: str) -> bool:
    """Whether a cached read of this side exists and was complete."""
    meta = _meta(conn, service_id, side)
    return meta is not None and meta.complete


def read_at(conn: Connection, service_id: int, side: str) -> dt.datetime | None:
    meta = _meta(conn, service_id, side)
    return meta.read_at if meta else None


def read_marks(conn: Connection, service_id: int, side: str) -> ReadMarks | None:
    """The marks of the cached read of one side, or None when there is no cached read."""
    query = select(META.c.full_read_at, META.c.cursors)
    row = conn.execute(query.where(META.c.service_id == service_id, META.c.side == side)).first()
    if row is None:
        return None
    try:
        cursors = json.loads(row.cursors) if row.cursors else {}
    except ValueError:
        cursors = {}  # unreadable marks only cost a full read
    if not isinstance(cursors, dict):
        cursors = {}
    kept = {str(k): v for k, v in cursors.items() if isinstance(v, str)}
    return ReadMarks(row.full_read_at, kept)


def purge(conn: Connection, service_id: int) -> None:
    for table in CACHE_TABLES:
        conn.execute(delete(table).where(table.c.service_id == service_id))


def _clear(conn: Connection, service_id: int, tables: tuple[Table, ...], side: str) -> None:
    for table in tables:
        conn.execute(delete(table).where(table.c.service_id == service_id))
    conn.execute(delete(META).where(META.c.service_id == service_id, META.c.side == side))


def _insert(
    conn: Connection, table: Table, service_id: int, records: Sequence[DataclassInstance]
) -> None:
    """One executemany of the records as rows, their fields going to the columns of the same
    names (the column types turn tuples and timestamps into text), keyed by their place."""
    if not records:
        return
    names = tuple(f.name for f in dataclasses.fields(records[0]))
    values = attrgetter(*names)
    rows = [
        dict(zip(names, values(r), strict=True), service_id=service_id, seq=seq)
        for seq, r in enumerate(records)
    ]
    conn.execute(insert(table), rows)


def _load(conn: Connection, table: Table, service_id: int, record: type[R]) -> tuple[R, ...]:
    """The rows of one read in the order read, as records (the column types turn text back
    into tuples and timestamps)."""
    query = select(*columns_for(table, record)).where(table.c.service_id == service_id)
    return tuple(starmap(record, conn.execute(query.order_by(table.c.seq))))


@dataclasses.dataclass(frozen=True, slots=True)
class _Meta:
    read_at: dt.datetime
    complete: bool
    problems: tuple[str, ...]


def _save_meta(
    conn: Connection,
    service_id: int,
    side: str,
    read_at: dt.datetime,
    complete: bool,
    problems: tuple[str, ...],
    marks: ReadMarks | None,
) -> None:
    """``marks`` None: a plain full read (read in full at ``read_at``, no cursors)."""
    marks = marks or ReadMarks(read_at if complete else None)
    conn.execute(
        insert(META),
        {
            "service_id": service_id,
            "side": side,
            "read_at": read_at,
            "complete": complete,
            "problems": problems,
            "full_read_at": marks.full_read_at,
            "cursors": json.dumps(marks.cursors, sort_keys=True) if marks.cursors else None,
        },
    )


def _meta(conn: Connection, service_id: int, side: str) -> _Meta | None:
    query = select(*columns_for(META, _Meta))
    row = conn.execute(query.where(META.c.service_id == service_id, META.c.side == side)).first()
    return None if row is None else _Meta(*row)
