"""The store's tables (SQLModel, SQLAlchemy 2).

The tables hold what the engine needs between runs: each service's settings, the last read of
both systems (a cache, so the TUI opens instantly and a failed read can be compared), the decisions
people made (mappings and their audit trail), and the run journal that lets a killed sync resume.

Everything hangs off ``service.id`` with ON DELETE CASCADE. Snapshot rows are keyed by their
position in the read (``seq``) rather than by id: the cache keeps a read exactly as it was read,
order included, and a load is one ordered scan. The systems' own timestamps in snapshot rows are
kept as the ISO 8601 text they were read as (offset and all, and cheap to convert in bulk); the
store's own timestamps are UTC.

The service table is not spelled out here: its columns are ServiceConfig's fields (see
``_service_table``), the one definition of a service's settings. The store reaches every table
through ``table_of`` and the constants at the end, as Core tables.

The schema is created by Alembic migrations (``migrations/versions``); a test checks that they
match these tables. Change a table here and add a revision there.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import json
import types
import typing
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    inspect,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import registry
from sqlalchemy.types import TypeDecorator, TypeEngine
from sqlmodel import Field, SQLModel

from smtui.store.entities import ServiceConfig

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

#: The store's own metadata, so tables other packages declare with SQLModel never mix in.
metadata = MetaData(naming_convention=NAMING_CONVENTION)


class StoreModel(SQLModel, registry=registry(metadata=metadata)):
    """Base of the store's tables."""


class UtcDateTime(TypeDecorator[dt.datetime]):
    """A timestamp that always comes back timezone-aware in UTC, whatever the server's zone.

    Values are normalised to UTC on the way in (a naive value is taken to be UTC already). SQLite
    has no time zones, so it is given the naive UTC time (the text it has always stored).
    Everywhere else the column is a ``timestamptz`` and is given the aware UTC value: a naive
    one would be read in the *session's* time zone, so a server on Australia/Sydney would store
    every time 10-11 hours early (next due wrong, every live lease already expired). On the way
    out the value is marked (SQLite) or converted (PostgreSQL hands it back in its zone) to UTC.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        utc = value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


class IsoText(TypeDecorator[dt.datetime]):
    """A vendor's own timestamp, kept as the ISO 8601 text it was read as (offset and all):
    cheap to write and to parse back in bulk, and never shifted to another zone."""

    impl = String
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> str | None:
        return None if value is None else value.isoformat()

    def process_result_value(self, value: str | None, dialect: Dialect) -> dt.datetime | None:
        return None if value is None else dt.datetime.fromisoformat(value)


class Weekdays(TypeDecorator[tuple[int, ...]]):
    """A booking's ISO weekdays as text joined by commas, e.g. "1,3,5"."""

    impl = String
    cache_ok = True

    def process_bind_param(self, value: tuple[int, ...] | None, dialect: Dialect) -> str | None:
        return None if value is None else ",".join(map(str, value))

    def process_result_value(self, value: str | None, dialect: Dialect) -> tuple[int, ...] | None:
        return None if value is None else _weekdays(value)


@functools.lru_cache(maxsize=1024)
def _weekdays(text: str) -> tuple[int, ...]:
    # A service has a handful of distinct patterns across 300k bookings: parse each once.
    return tuple(int(d) for d in text.split(",")) if text else ()


class JsonTuple(TypeDecorator[tuple[str, ...]]):
    """A tuple of strings (a profile's rooms, a read's problems) as a JSON list."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: tuple[str, ...] | None, dialect: Dialect) -> str | None:
        return None if value is None else json.dumps(list(value))

    def process_result_value(self, value: str | None, dialect: Dialect) -> tuple[str, ...] | None:
        return None if value is None else tuple(json.loads(value))


def _service_table() -> Table:
    """The service table: the store's id, one column per ServiceConfig field, and when the
    service is next due.

    ServiceConfig (and the ServiceSettings it extends) is the one definition of a service's
    settings: each field's annotation gives its column type and whether it may be NULL, so a new
    setting is one field there (and a migration), never also a column here.
    """
    hints = typing.get_type_hints(ServiceConfig)
    columns = [_column(f.name, hints[f.name]) for f in dataclasses.fields(ServiceConfig)]
    return Table(
        "service",
        metadata,
        Column("id", Integer, primary_key=True),
        *columns,
        # When ``sync --all`` next picks the service up (None: off or not set up); kept by the
        # store (``Store._refresh_next_due``) and indexed, so "what is due" is one query.
        Column("next_due_at", UtcDateTime, nullable=True, index=True),
    )


_SQL_TYPES: dict[object, type[TypeEngine[Any]]] = {
    str: String,
    float: Float,
    int: Integer,
    bool: Boolean,
    dt.datetime: UtcDateTime,
}
#: NULL in a ServiceConfig that is not stored yet; the store fills it in (created_at: now).
_FILLED_BY_THE_STORE = frozenset({"created_at"})


def _column(name: str, annotation: object) -> Column[Any]:
    """A column for one ServiceConfig field: ``str | None`` is a nullable text column, a
    Literal is text, ``dt.datetime`` a UTC timestamp."""
    value_type, nullable = annotation, False
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        (value_type,) = (a for a in typing.get_args(annotation) if a is not type(None))
        nullable = name not in _FILLED_BY_THE_STORE
    if typing.get_origin(value_type) is typing.Literal:
        value_type = type(typing.get_args(value_type)[0])
    return Column(name, _SQL_TYPES[value_type](), nullable=nullable, unique=name == "name")


SERVICE = _service_table()
SERVICE_FK = "service.id"


# --- cached snapshots ------------------------------------------------------------------------


class CcmsChildRow(StoreModel, table=True):
    __tablename__ = "ccms_child"

    service_id: int = Field(foreign_key=SERVICE_FK, ondelete="CASCADE", primary_key=True)
    seq: int = Field(primary_key=True)
    id: str
    first_name: str
    last_name: str
    preferred_name: str | None = None
    birth_date: dt.date | None = None
    status: str
    updated_at: dt.datetime = Field(sa_type=IsoText)
    guardian_emails: tuple[str, ...] = Field(default=(), sa_type=JsonTuple)


class CcmsRoomRow(StoreModel, table=True):
    __tablename__ = "ccms_room"

    service_id: int = Field(foreign_key=SERVICE_FK, ondelete="CASCADE", primary_key=True)
    seq: int = Field(primary_key=True)
    id: str
    name: str
    updated_at: dt.datetime = Field(sa_type=IsoText)


class CcmsBookingRow(StoreModel, table=True):
    __tablename__ = "ccms_booking"

    service_id: int = Field(foreign_key=SERVICE_FK, ondelete="CASCADE", primary_key=True)
    seq: int = Field(primary_key=True)
    id: str
    child_id: str
    room_id: str
    start_date: dt.date
    end_date: dt.date | None = None
    weekdays: tuple[int, ...] = Field(sa_type=Weekdays)
    every: int
    kind: str
    status: str
    updated_at: dt.datetime | None = Field(default=None, sa_type=IsoText)


class PortfolioProfileRow(StoreModel, table=True):
    __tablename__ = "portfolio_profile"

    service_id: int = Field(foreign_key=SERVICE_FK, ondelete="CASCADE", primary_key=True)
    seq: int = Field(primary_key=True)
    id: str
    first_name: str
    last_name: str
    birth_date: dt.date | None = None
    archived: bool
    room_ids: tuple[str, ...] = Field(sa_type=JsonTuple)
    external_ref: str | None = None
    invitation_status: str
    guardian_emails: tuple[str, ...] = Field(default=(), sa_type=JsonTuple)


class PortfolioRoomRow(StoreModel, table=True):
    __tablename__ = "portfolio_room"

    service_id: int = Field(foreign_key=SERVICE_FK, ondelete="CASCADE", primary_key=True)
    seq: int = Field(primary_key=True)
    id: str
    name: str
    archived: bool
    external_ref: str | None = None


class SnapshotMetaRow(StoreModel, table=True):
    __tablename__ = "snapshot_meta"

    service_id: int = Field(foreign_key=SERVICE_FK, ondelete="CASCADE", primary_key=True)
    side: str = Field(primary_key=True)  # "ccms" | "portfolio"
    read_at: dt.datetime = Field(sa_type=UtcDateTime)
    complete: bool
    problems: tuple[str, ...] = Field(sa_type=JsonTuple)
    #: When this side was last read in full (an incremental read keeps it; None: never).
    full_read_at: dt.datetime | None = Field(default=None, sa_type=UtcDateTime)
    #: Per list, the high-water mark an incremental read asks from (JSON object; None: none).
    cursors: str | None = Field(default=None, sa_type=Text)


# --- decisions ---------------------------------------------------------------------------------


class ChildMappingRow(StoreModel, table=True):
    __tablename__ = "child_mapping"

    service_id: int = Field(foreign_key=SERVICE_FK, ondelete="CASCADE", primary_key=True)
    child_id: str = Field(primary_key=True)
    action: str
    profile_id: str | None = None
    origin: str
    score: float
    reason: str
    synced_first_name: str | None = None
    synced_last_name: str | None = None
    synced_birth_date: dt.date | None = None
    release_profile_id: str | None = None
    reason_kind: str | None = None
    who: str
    updated_at: dt.datetime = Field(sa_type=UtcDateTime)


class RoomMappingRow(StoreModel, table=True):
    __tablename__ = "room_mapping"

    service_id: int = Field(foreign_key=SERVICE_FK, ondelete="CASCADE", primary_key=True)
    room_id: str = Field(primary_key=True)
    action: str
    portfolio_room_id: str | None = None
    origin: str
    release_room_id: str | None = None
    who: str
    updated_at: dt.datetime = Field(sa_type=UtcDateTime)


class AuditRow(StoreModel, table=True):
    __tablename__ = "audit"

    id: int | None = Field(default=None, primary_key=True)
    service_id: int = Field(foreign_key=SERVICE_FK, ondelete="CASCADE", index=True)
    at: dt.datetime = Field(sa_type=UtcDateTime)
    who: str
    subject: str  # "child" | "room"
    subject_id: str
    before: str | None = Field(default=None, sa_type=Text)  # JSON object
    after: str | None = Field(default=None, sa_type=Text)  # JSON object
    reason: str


# --- runs, journal, lock -----------------------------------------------------------------------


class SyncRunRow(StoreModel, table=True):
    __tablename__ = "sync_run"

    id: int | None = Field(default=None, primary_key=True)
    service_id: int = Field(foreign_key=SERVICE_FK, ondelete="CASCADE", index=True)
    started_at: dt.datetime = Field(sa_type=UtcDateTime)
    finished_at: dt.datetime | None = Field(default=None, sa_type=UtcDateTime)
    kind: str
    dry_run: bool
    as_of: dt.date | None = None
    plan_fingerprint: str | None = None
    result: str
    summary: str = Field(sa_type=Text)  # JSON object
    who: str


class JournalOpRow(StoreModel, table=True):
    __tablename__ = "journal_op"
    __table_args__ = (UniqueConstraint("run_id", "op_id"),)

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="sync_run.id", ondelete="CASCADE")
    service_id: int = Field(foreign_key=SERVICE_FK, ondelete="CASCADE", index=True)
    op_id: str
    kind: str
    label: str
    payload: str = Field(sa_type=Text)  # JSON object
    state: str
    error: str | None = None
    result: str | None = Field(default=None, sa_type=Text)  # JSON object
    updated_at: dt.datetime = Field(sa_type=UtcDateTime)


class ServiceLockRow(StoreModel, table=True):
    """At most one row per service: the primary key is the lock.

    The holder is its ``token`` (one per run, never a pid: one process may run several syncs,
    and pids are reused); the lease ends at ``expires_at`` unless the holder renews it, so a
    holder that died anywhere, on any host, frees the service within one lease.
    """

    __tablename__ = "service_lock"

    service_id: int = Field(foreign_key=SERVICE_FK, ondelete="CASCADE", primary_key=True)
    token: str
    user: str
    host: str
    pid: int
    run_id: int | None = None
    since: dt.datetime = Field(sa_type=UtcDateTime)
    expires_at: dt.datetime = Field(sa_type=UtcDateTime)


def columns_for(table: Table, record: type[DataclassInstance]) -> list[Column[Any]]:
    """The table's columns named like the record's fields, in the record's order: a row
    selected with them is the record's arguments, matched by name, never by a position kept
    by hand."""
    return [table.c[f.name] for f in dataclasses.fields(record)]


def table_of(model: type[StoreModel]) -> Table:
    """The Core table SQLModel declared for ``model``: the store reads and writes in bulk with
    Core, and SQLModel's classes do not say in their types that they carry one."""
    table = inspect(model).local_table
    if not isinstance(table, Table):
        raise TypeError(f"{model.__name__} is not a table")
    return table


CHILD = table_of(CcmsChildRow)
CROOM = table_of(CcmsRoomRow)
BOOKING = table_of(CcmsBookingRow)
PROFILE = table_of(PortfolioProfileRow)
PROOM = table_of(PortfolioRoomRow)
META = table_of(SnapshotMetaRow)
CHILD_MAP = table_of(ChildMappingRow)
ROOM_MAP = table_of(RoomMappingRow)
AUDIT = table_of(AuditRow)
RUN = table_of(SyncRunRow)
OP = table_of(JournalOpRow)
LOCK = table_of(ServiceLockRow)
