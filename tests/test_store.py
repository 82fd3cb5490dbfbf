"""The store against a real database: settings, migrations, round trips, journal, lock.

The ``store`` fixture opens a fresh SQLite file, or a fresh PostgreSQL database when
``SMTUI_TEST_DB`` is set (tests/conftest.py), so everything here but the tests of SQLite files
themselves (``sqlite_db``/``sqlite_store``, marked below) runs on both stores.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import socket
import sqlite3
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smtui.records import (
    Booking,
    CcmsSnapshot,
    Child,
    ChildMapping,
    PortfolioRoom,
    PortfolioSnapshot,
    Profile,
    Room,
    RoomMapping,
    ServiceSettings,
)
from smtui.store import (
    DatabaseUnavailable,
    OpNotFound,
    ServiceConfig,
    ServiceExists,
    ServiceNotFound,
    Store,
    open_store,
)
from smtui.store.migrate import alembic_config
from smtui.store.tables import UtcDateTime, metadata

SYD = dt.timezone(dt.timedelta(hours=10))
T0 = dt.datetime(2025, 3, 4, 5, 6, 7, 123456, tzinfo=dt.UTC)


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    """A store on a fresh database: SQLite, or PostgreSQL with SMTUI_TEST_DB set."""
    s = open_store(store_url)
    yield s
    s.close()


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Path:
    """A SQLite file path, for the tests of SQLite files themselves (whatever SMTUI_TEST_DB)."""
    return tmp_path / "smtui.db"


@pytest.fixture
def sqlite_store(sqlite_db: Path) -> Iterator[Store]:
    s = open_store(str(sqlite_db))
    yield s
    s.close()


def add(store: Store, name: str = "sunny") -> ServiceConfig:
    return store.add_service(
        ServiceConfig(
            name=name, ccms_url="http://127.0.0.1:1/c", portfolio_url="http://127.0.0.1:1/p"
        )
    )


def ccms_snapshot() -> CcmsSnapshot:
    return CcmsSnapshot(
        children=(
            Child("c2", "Ava", "Nguyen", dt.date(2021, 2, 3), "active", T0, preferred_name="Avi"),
            Child("c1", "Noah", "O'Brien", None, "inactive", T0.astimezone(SYD)),
        ),
        rooms=(Room("r1", "Possums", T0), Room("r0", "Wombats", T0)),
        bookings=(
            Booking("b1", "c2", "r1", dt.date(2025, 1, 6), (1, 3, 5), 1, "permanent", "placed"),
            Booking(
                "b2",
                "c1",
                "r0",
                dt.date(2025, 2, 3),
                (2,),
                2,
                "casual",
                "suspended",
                end_date=dt.date(2025, 6, 30),
                updated_at=T0,
            ),
        ),
        complete=False,
        problems=("page 3 timed out",),
    )


def portfolio_snapshot() -> PortfolioSnapshot:
    return PortfolioSnapshot(
        profiles=(
            Profile(
                "p1", "Ava", "Nguyen", dt.date(2021, 2, 3), False, ("pr1", "pr2"), "c2", "accepted"
            ),
            Profile("p0", "Old", "Kid", None, True),
        ),
        rooms=(PortfolioRoom("pr1", "Possums", False, "r1"), PortfolioRoom("pr2", "Gone", True)),
    )


def count(store: Store, table: str, service_id: int | None = None) -> int:
    query = f"SELECT count(*) FROM {table}"
    with store.engine.connect() as conn:
        if service_id is None:
            return conn.execute(sa.text(query)).scalar_one()
        where = sa.text(query + " WHERE service_id = :sid")
        return conn.execute(where, {"sid": service_id}).scalar_one()


def service_id(store: Store, name: str) -> int:
    with store.engine.connect() as conn:
        query = sa.text("SELECT id FROM service WHERE name = :name")
        return conn.execute(query, {"name": name}).scalar_one()


# --- opening ---------------------------------------------------------------------------------
# The tests of SQLite files (pragmas, file mode, paths, raw sqlite3 reads) are SQLite-only:
# they use sqlite_db / sqlite_store whatever SMTUI_TEST_DB says. tests/test_postgres.py has the
# PostgreSQL side of opening (migrations from several processes at once, time zones).


def test_sqlite_connections_use_wal_busy_timeout_and_foreign_keys(
    sqlite_store: Store, sqlite_db: Path
) -> None:
    store, db = sqlite_store, sqlite_db
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    # WAL is a property of the file: a plain sqlite3 connection sees it too.
    raw = sqlite3.connect(db)
    assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    raw.close()


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_database_file_is_private_to_its_owner(sqlite_store: Store, sqlite_db: Path) -> None:
    assert sqlite_db.stat().st_mode & 0o077 == 0


def test_migration_creates_schema_at_head_and_reopen_is_a_no_op(sqlite_db: Path) -> None:
    db = sqlite_db
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    with open_store(str(db)) as first:
        add(first)

    def schema() -> list[tuple[str, str]]:
        raw = sqlite3.connect(db)
        rows = raw.execute("SELECT name, sql FROM sqlite_master ORDER BY name").fetchall()
        version = raw.execute("SELECT version_num FROM alembic_version").fetchall()
        raw.close()
        return rows, version

    before = schema()
    assert before[1] == [(head,)]
    assert {name for name, _ in before[0]} >= set(metadata.tables)
    with open_store(str(db)) as second:
        assert [s.name for s in second.list_services()] == ["sunny"]
    assert schema() == before


def test_migrated_schema_matches_the_sqlmodel_tables(store: Store) -> None:
    with store.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(ctx, metadata) == []
        # The comparison is live: a column the migrations lack shows up as a difference.
        extended = sa.MetaData()
        for table in metadata.tables.values():
            table.to_metadata(extended)
        extended.tables["service"].append_column(sa.Column("extra", sa.String()))
        assert compare_metadata(ctx, extended) != []


def test_default_location_env_override_and_explicit_url(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.delenv("SMTUI_DB", raising=False)
    with open_store() as s:
        add(s, "default")
    assert (tmp_path / "data" / "smtui" / "smtui.db").exists()

    monkeypatch.setenv("SMTUI_DB", str(tmp_path / "env.db"))
    with open_store() as s:
        assert s.list_services() == []
        add(s, "from-env")
    with open_store(f"sqlite:///{tmp_path / 'env.db'}") as s:
        assert [x.name for x in s.list_services()] == ["from-env"]
    with open_store(str(tmp_path / "data" / "smtui" / "smtui.db")) as s:
        assert [x.name for x in s.list_services()] == ["default"]


def test_explicit_path_in_missing_directory_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DatabaseUnavailable, match=r"directory .*missing"):
        open_store(str(tmp_path / "nope" / "x.db"))


def test_a_file_that_is_not_a_database_is_a_clear_error(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("shopping list\n" * 200)
    with pytest.raises(DatabaseUnavailable, match="not a database"):
        open_store(str(notes))


# --- services --------------------------------------------------------------------------------


def test_services_add_update_and_settings(store: Store) -> None:
    cfg = add(store)
    assert cfg.state == "not set up" and cfg.interval_hours == 12 and cfg.created_at is not None
    with pytest.raises(ServiceExists):
        add(store)
    updated = store.update_service("sunny", state="active", max_remove_rooms_min=5, timezone="UTC")
    assert updated.state == "active" and updated.max_remove_rooms_min == 5
    assert store.settings("sunny") == ServiceSettings(timezone="UTC", max_remove_rooms_min=5)
    with pytest.raises(ValueError, match="created_at"):
        store.update_service("sunny", created_at=T0)
    with pytest.raises(ServiceNotFound, match="nobody"):
        store.get_service("nobody")


# --- snapshots -------------------------------------------------------------------------------


def test_every_service_field_is_stored_as_given(store: Store) -> None:
    """The service table's columns are derived from ServiceConfig's fields: a config with every
    field away from its default comes back equal, each value of the type it went in as."""
    blank = ServiceConfig(name="every", ccms_url="c", portfolio_url="p")
    cfg = ServiceConfig(
        name="every",
        ccms_url="http://c.example/v1",
        portfolio_url="http://p.example/v1",
        display_name="Every Field",
        ccms_token_env="C_TOKEN",
        ccms_token_file="/run/c",
        portfolio_token_env="P_TOKEN",
        portfolio_token_file="/run/p",
        timezone="Australia/Perth",
        interval_hours=6.5,
        enabled=False,
        state="off",
        max_archive_children_pct=12.5,
        max_archive_children_min=4,
        max_remove_rooms_pct=30.5,
        max_remove_rooms_min=3,
        hold_window_days=3.5,
        suspicious_drop_pct=40.5,
        created_at=T0,
        set_up_at=T0 + dt.timedelta(hours=1),
    )
    fields = [f.name for f in dataclasses.fields(ServiceConfig)]
    assert [f for f in fields if getattr(cfg, f) == getattr(blank, f)] == ["name"]
    stored = store.add_service(cfg)
    assert stored == cfg
    assert [type(getattr(stored, f)) for f in fields] == [type(getattr(cfg, f)) for f in fields]
    assert store.settings("every") == cfg.settings()


def test_snapshot_round_trip_equals_input(store: Store) -> None:
    add(store)
    add(store, "other")
    assert store.load_ccms_snapshot("sunny") is None
    assert store.snapshot_read_at("sunny", "ccms") is None
    ccms, portfolio = ccms_snapshot(), portfolio_snapshot()
    store.save_ccms_snapshot("sunny", ccms, read_at=T0)
    store.save_portfolio_snapshot("sunny", portfolio)
    store.save_ccms_snapshot("other", CcmsSnapshot((), (), ()))

    assert store.load_ccms_snapshot("sunny") == ccms
    assert store.load_portfolio_snapshot("sunny") == portfolio
    assert store.snapshot_read_at("sunny", "ccms") == T0
    assert store.load_ccms_snapshot("other") == CcmsSnapshot((), (), ())

    # A new read replaces the old one entirely and leaves other services alone.
    smaller = CcmsSnapshot(ccms.children[:1], (), ccms.bookings[1:])
    store.save_ccms_snapshot("sunny", smaller)
    assert store.load_ccms_snapshot("sunny") == smaller
    assert store.load_portfolio_snapshot("sunny") == portfolio


def test_a_partial_read_never_replaces_a_complete_one(store: Store) -> None:
    add(store)
    ccms = dataclasses.replace(ccms_snapshot(), complete=True, problems=())
    portfolio = dataclasses.replace(portfolio_snapshot(), complete=True, problems=())
    store.save_ccms_snapshot("sunny", ccms)
    store.save_portfolio_snapshot("sunny", portfolio)
    half = CcmsSnapshot(ccms.children[:1], (), (), complete=False, problems=("page 2 failed",))
    assert store.save_ccms_snapshot("sunny", half) is False
    assert store.load_ccms_snapshot("sunny") == ccms, "children must not vanish from the cache"
    half_p = PortfolioSnapshot((), (), complete=False, problems=("page 1 failed",))
    assert store.save_portfolio_snapshot("sunny", half_p) is False
    assert store.load_portfolio_snapshot("sunny") == portfolio

    store.purge_cache("sunny")  # with nothing better cached, a partial read is kept
    assert store.save_ccms_snapshot("sunny", half) is True
    assert store.load_ccms_snapshot("sunny") == half
    assert store.save_ccms_snapshot("sunny", ccms) is True  # and a complete one replaces it


def test_store_works_from_worker_threads(store: Store) -> None:
    add(store)
    snap = ccms_snapshot()
    with ThreadPoolExecutor(max_workers=2) as pool:
        pool.submit(store.save_ccms_snapshot, "sunny", snap).result()
        loaded = [pool.submit(store.load_ccms_snapshot, "sunny") for _ in range(4)]
        assert all(f.result() == snap for f in loaded)


def test_concurrent_read_modify_write_calls_queue_instead_of_failing(store: Store) -> None:
    # Each call reads the current mappings and then writes: without write transactions that
    # start as writers (BEGIN IMMEDIATE), SQLite fails such a call at once with "database is
    # locked" when another writer committed in between, instead of waiting on busy_timeout.
    add(store)

    def decide(worker: int) -> None:
        for i in range(25):
            mapping = ChildMapping(f"c{i % 5}", "link", f"p{worker}-{i}", origin="manual")
            store.set_child_mappings("sunny", [mapping], who=f"w{worker}")

    with ThreadPoolExecutor(max_workers=4) as pool:
        for future in [pool.submit(decide, w) for w in range(4)]:
            future.result()
    assert len(store.audit_log("sunny", limit=1000)) == 100


aware = st.datetimes(
    min_value=dt.datetime(1990, 1, 1), max_value=dt.datetime(2100, 1, 1), timezones=st.just(SYD)
)
dates = st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2100, 1, 1))
text = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12
)
children = st.builds(
    Child,
    id=text,
    first_name=text,
    last_name=text,
    birth_date=st.none() | dates,
    status=st.sampled_from(["active", "inactive", "archived"]),
    updated_at=aware,
    preferred_name=st.none() | text,
)
bookings = st.builds(
    Booking,
    id=text,
    child_id=text,
    room_id=text,
    start_date=dates,
    weekdays=st.lists(st.integers(1, 7), max_size=7).map(tuple),
    every=st.sampled_from([1, 2]),
    kind=st.sampled_from(["permanent", "casual"]),
    status=st.sampled_from(["placed", "suspended", "cancelled"]),
    end_date=st.none() | dates,
    updated_at=st.none() | aware,
)
profiles = st.builds(
    Profile,
    id=text,
    first_name=text,
    last_name=text,
    birth_date=st.none() | dates,
    archived=st.booleans(),
    room_ids=st.lists(text, max_size=3).map(tuple),
    external_ref=st.none() | text,
    invitation_status=st.sampled_from(["none", "pending", "accepted"]),
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    kids=st.lists(children, max_size=6),
    books=st.lists(bookings, max_size=6),
    profs=st.lists(profiles, max_size=6),
    problems=st.lists(text, max_size=2),
)
def test_any_snapshot_round_trips(store: Store, kids, books, profs, problems) -> None:
    if not store.list_services():
        add(store)
    ccms = CcmsSnapshot(tuple(kids), (Room("r", "R", T0),), tuple(books), False, tuple(problems))
    portfolio = PortfolioSnapshot(tuple(profs), (), True, tuple(problems))
    store.save_ccms_snapshot("sunny", ccms)
    store.save_portfolio_snapshot("sunny", portfolio)
    assert store.load_ccms_snapshot("sunny") == ccms
    assert store.load_portfolio_snapshot("sunny") == portfolio


def test_purge_cache_deletes_personal_data_but_keeps_mappings(store: Store) -> None:
    add(store)
    store.save_ccms_snapshot("sunny", ccms_snapshot())
    store.save_portfolio_snapshot("sunny", portfolio_snapshot())
    store.set_child_mappings("sunny", [ChildMapping("c2", "link", "p1")], who="kim")
    store.set_room_mappings("sunny", [RoomMapping("r1", "link", "pr1")], who="kim")

    store.purge_cache("sunny")

    assert store.load_ccms_snapshot("sunny") is None
    assert store.load_portfolio_snapshot("sunny") is None
    for table in ("ccms_child", "ccms_room", "ccms_booking", "portfolio_profile", "portfolio_room"):
        assert count(store, table) == 0, table
    assert store.child_mappings("sunny") == {"c2": ChildMapping("c2", "link", "p1")}
    assert store.room_mappings("sunny") == {"r1": RoomMapping("r1", "link", "pr1")}


# --- mappings and audit ----------------------------------------------------------------------


def test_mapping_upsert_audits_only_actual_changes(store: Store) -> None:
    add(store)
    first = [
        ChildMapping("c1", "review", "p9", score=0.8, reason="name"),
        ChildMapping("c2", "create", synced_birth_date=dt.date(2021, 2, 3)),
    ]
    store.set_child_mappings("sunny", first, who="auto")
    assert store.child_mappings("sunny") == {m.child_id: m for m in first}
    assert len(store.audit_log("sunny")) == 2

    store.set_child_mappings("sunny", first, who="kim")  # nothing changed
    assert len(store.audit_log("sunny")) == 2

    decided = ChildMapping("c1", "link", "p9", origin="manual", score=0.8, reason="name")
    store.set_child_mappings("sunny", [decided, first[1]], who="kim", reason="same child")
    log = store.audit_log("sunny")
    assert len(log) == 3
    latest = log[0]
    assert (latest.who, latest.subject, latest.subject_id, latest.reason) == (
        "kim",
        "child",
        "c1",
        "same child",
    )
    assert latest.before["action"] == "review" and latest.after["action"] == "link"
    assert store.child_mappings("sunny")["c1"] == decided
    (created,) = store.audit_log("sunny", subject_id="c2")
    assert created.before is None and created.after["synced_birth_date"] == "2021-02-03"


def test_room_mapping_unlink_is_audited(store: Store) -> None:
    add(store)
    store.set_room_mappings("sunny", [RoomMapping("r1", "link", "pr1")], who="auto")
    store.set_room_mappings("sunny", [RoomMapping("r1", "link", "pr1")], who="kim")
    unlinked = RoomMapping("r1", "ignore", "pr1", origin="manual")
    store.set_room_mappings("sunny", [unlinked], who="kim", reason="holiday closure")
    assert store.room_mappings("sunny") == {"r1": unlinked}
    log = store.audit_log("sunny", subject_id="r1")
    assert [(e.subject, e.who) for e in log] == [("room", "kim"), ("room", "auto")]
    assert log[0].before["action"] == "link" and log[0].after["action"] == "ignore"


# --- runs and journal ------------------------------------------------------------------------


def test_journal_records_runs_and_op_states(store: Store) -> None:
    add(store)
    assert store.last_success("sunny") is None
    run_id = store.start_run(
        "sunny", kind="sync", dry_run=False, as_of=dt.date(2025, 3, 4), fingerprint="f1", who="cron"
    )
    store.record_ops(
        run_id,
        "sunny",
        [
            {
                "op_id": "a",
                "kind": "create_profile",
                "label": "Create A",
                "payload": {"d": dt.date(2025, 1, 1)},
            },
            {"op_id": "b", "kind": "archive_profile", "label": "Archive B"},
        ],
    )
    store.set_op_state(run_id, "a", "in_flight")
    store.set_op_state(run_id, "a", "done", result={"profile_id": "p7"})
    store.set_op_state(run_id, "b", "failed", error="HTTP 500")
    with pytest.raises(OpNotFound):
        store.set_op_state(run_id, "zzz", "done")

    ops = {o.op_id: o for o in store.run_ops(run_id)}
    assert ops["a"].state == "done" and ops["a"].result == {"profile_id": "p7"}
    assert ops["a"].payload == {"d": "2025-01-01"}
    assert ops["b"].state == "failed" and ops["b"].error == "HTTP 500"
    assert store.run(run_id).result == "running"

    store.finish_run(run_id, "partial", {"done": 1, "failed": 1})
    run = store.run(run_id)
    assert (run.result, run.summary, run.fingerprint, run.who) == (
        "partial",
        {"done": 1, "failed": 1},
        "f1",
        "cron",
    )
    assert run.finished_at is not None and run.finished_at >= run.started_at
    assert store.last_success("sunny") is None

    ok = store.start_run(
        "sunny", kind="sync", dry_run=False, as_of=None, fingerprint=None, who="cron"
    )
    store.finish_run(ok, "ok", {})
    assert [r.id for r in store.runs("sunny")] == [ok, run_id]
    assert store.last_success("sunny") == store.run(ok).finished_at


def test_unfinished_ops_of_a_killed_run_are_found(store: Store) -> None:
    add(store)
    killed = store.start_run(
        "sunny", kind="sync", dry_run=False, as_of=None, fingerprint="f", who="cron"
    )
    store.record_ops(
        killed,
        "sunny",
        [
            {"op_id": x, "kind": "move", "label": f"Move {x}"}
            for x in ("done", "flying", "waiting", "lost")
        ],
    )
    store.set_op_state(killed, "done", "done")
    store.set_op_state(killed, "flying", "in_flight")
    store.set_op_state(killed, "lost", "unknown")
    dry = store.start_run(
        "sunny", kind="sync", dry_run=True, as_of=None, fingerprint="f", who="kim"
    )
    store.record_ops(dry, "sunny", [{"op_id": "preview", "kind": "move", "label": "Move"}])
    current = store.start_run(
        "sunny", kind="sync", dry_run=False, as_of=None, fingerprint="g", who="cron"
    )
    store.record_ops(current, "sunny", [{"op_id": "new", "kind": "move", "label": "Move"}])

    unfinished = store.unfinished_ops("sunny", exclude_run=current)
    assert [(o.run_id, o.op_id, o.state) for o in unfinished] == [
        (killed, "flying", "in_flight"),
        (killed, "waiting", "planned"),
        (killed, "lost", "unknown"),
    ]
    assert {o.op_id for o in store.unfinished_ops("sunny")} == {"flying", "waiting", "lost", "new"}


# --- lock ------------------------------------------------------------------------------------


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


LEASE = dt.timedelta(seconds=60)


def lock(store: Store, service: str, token: str, **who: object) -> object:
    values = {"user": "kim", "host": "box", "pid": os.getpid(), **who}
    return store.acquire_lock(service, token=token, lease=LEASE, **values)  # type: ignore[arg-type]


def test_held_lock_names_its_holder_and_a_second_run_of_the_same_process_is_refused(
    store: Store,
) -> None:
    add(store)
    assert lock(store, "sunny", "run-1") is None
    assert lock(store, "sunny", "run-1") is None  # the same run asking again
    # the same process, another run: refused (the lock belongs to a run, not to a pid)
    holder = lock(store, "sunny", "run-2")
    assert holder is not None
    assert (holder.user, holder.host, holder.pid, holder.token) == (
        "kim",
        "box",
        os.getpid(),
        "run-1",
    )
    assert holder.since.tzinfo is not None and holder.expires_at > holder.since
    assert "kim@box" in holder.describe() and str(os.getpid()) in holder.describe()
    assert store.lock_holder("sunny") == holder

    assert not store.release_lock("sunny", "run-2")  # not the holder
    assert store.release_lock("sunny", "run-1")
    assert store.lock_holder("sunny") is None
    assert lock(store, "sunny", "run-2", user="lee") is None


def test_an_expired_lease_is_taken_over_from_any_host_and_a_live_one_is_not(store: Store) -> None:
    add(store)
    add(store, "other")
    short = dt.timedelta(seconds=0.2)
    assert (
        store.acquire_lock("sunny", token="a", user="cron", host="elsewhere", pid=1, lease=short)
        is None
    )
    assert lock(store, "sunny", "b", host=socket.gethostname()) is not None  # lease still live
    time.sleep(0.3)
    assert lock(store, "sunny", "b", host=socket.gethostname()) is None  # expired: taken over
    assert store.lock_holder("sunny").token == "b"
    assert not store.renew_lock("sunny", "a", LEASE)  # the old holder learns it lost the lock
    assert store.renew_lock("sunny", "b", LEASE, run_id=7)
    assert store.lock_holder("sunny").run_id == 7

    assert lock(store, "other", "c", host="elsewhere", pid=dead_pid()) is None
    holder = lock(store, "other", "d", host=socket.gethostname())
    assert holder is not None and holder.host == "elsewhere"  # another host's pid means nothing


def test_a_dead_process_on_this_host_is_taken_over_at_once(store: Store) -> None:
    add(store)
    here = socket.gethostname()
    assert lock(store, "sunny", "a", user="cron", host=here, pid=dead_pid()) is None
    assert lock(store, "sunny", "b", host=here) is None
    assert store.lock_holder("sunny").user == "kim"


def test_break_lock_frees_the_service_and_says_who_held_it(store: Store) -> None:
    add(store)
    assert store.break_lock("sunny") is None
    assert lock(store, "sunny", "a", user="cron", host="far") is None
    holder = store.break_lock("sunny")
    assert holder is not None and (holder.user, holder.host) == ("cron", "far")
    assert store.lock_holder("sunny") is None
    assert not store.renew_lock("sunny", "a", LEASE)


CONTENDER = textwrap.dedent(
    """
    import datetime, os, socket, sys
    from smtui.store import open_store
    store = open_store(sys.argv[1])
    sys.stdin.readline()  # wait for the start signal
    holder = store.acquire_lock(
        "sunny", token=str(os.getpid()), user="u", host=socket.gethostname(), pid=os.getpid(),
        lease=datetime.timedelta(seconds=60),
    )
    print("got" if holder is None else f"held {holder.pid}", flush=True)
    sys.stdin.read()  # stay alive (holding the lock) until told to exit
    """
)


def test_contending_processes_get_exactly_one_lock(store: Store, store_url: str) -> None:
    add(store)
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", CONTENDER, store_url],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    try:
        for p in procs:
            p.stdin.write("go\n")
            p.stdin.flush()
        answers = [p.stdout.readline().strip() for p in procs]
    finally:
        for p in procs:
            p.stdin.close()
            p.wait(timeout=30)
    winners = [p.pid for p, a in zip(procs, answers, strict=True) if a == "got"]
    assert len(winners) == 1, answers
    assert all(a == f"held {winners[0]}" for a in answers if a != "got"), answers


# --- removal ---------------------------------------------------------------------------------


def test_remove_service_leaves_nothing_behind(store: Store) -> None:
    for name in ("sunny", "other"):
        add(store, name)
        store.save_ccms_snapshot(name, ccms_snapshot())
        store.save_portfolio_snapshot(name, portfolio_snapshot())
        store.set_child_mappings(name, [ChildMapping("c1", "create")], who="kim")
        store.set_room_mappings(name, [RoomMapping("r1", "create")], who="kim")
        run_id = store.start_run(
            name, kind="setup", dry_run=False, as_of=None, fingerprint="f", who="kim"
        )
        store.record_ops(run_id, name, [{"op_id": "x", "kind": "k", "label": "l"}])
        lock(store, name, "run-1")
    sid = service_id(store, "sunny")
    other = service_id(store, "other")
    child_tables = [t for t in metadata.tables if t != "service"]
    assert all(count(store, t, sid) > 0 for t in child_tables)

    store.remove_service("sunny")

    assert [s.name for s in store.list_services()] == ["other"]
    assert {t: count(store, t, sid) for t in child_tables} == dict.fromkeys(child_tables, 0)
    assert all(count(store, t, other) > 0 for t in child_tables)
    with pytest.raises(ServiceNotFound):
        store.remove_service("sunny")


# --- what is due -----------------------------------------------------------------------------


def test_due_services_is_due_at_once_after_setup_then_an_interval_after_success(
    store: Store,
) -> None:
    now = dt.datetime.now(dt.UTC)
    for name in ("fresh", "synced", "dry", "failed", "off", "never"):
        add(store, name)
        if name != "never":
            store.update_service(name, set_up_at=now - dt.timedelta(hours=1), state="active")
    store.update_service("off", enabled=False)
    finished = (("synced", "ok", False), ("dry", "ok", True), ("failed", "failed", False))
    for name, result, dry in finished:
        run_id = store.start_run(
            name, kind="sync", dry_run=dry, as_of=None, fingerprint=None, who="cron"
        )
        store.finish_run(run_id, result, {})

    assert sorted(store.due_services(now)) == ["dry", "failed", "fresh"]
    assert sorted(store.due_services(now + dt.timedelta(hours=11))) == ["dry", "failed", "fresh"]
    assert "synced" in store.due_services(now + dt.timedelta(hours=13))
    synced_at = store.last_success("synced")
    assert synced_at is not None
    assert store.next_due("synced") == synced_at + dt.timedelta(hours=12)
    assert store.next_due("never") is None and store.next_due("off") is None

    store.update_service("synced", interval_hours=1)  # a shorter interval: due sooner
    assert "synced" in store.due_services(now + dt.timedelta(hours=2))
    store.update_service("off", enabled=True)
    assert "off" in store.due_services(now)


def test_the_next_due_migration_fills_in_existing_services(store_url: str) -> None:
    from alembic import command

    # A database as an older smtui left it (revision 0003): one service synced, one set up and
    # never synced, one not set up.
    url = store_url if "://" in store_url else f"sqlite:///{store_url}"
    older = sa.create_engine(url, poolclass=sa.NullPool)
    cfg = alembic_config()
    with older.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0003")
    synced_at = dt.datetime(2026, 11, 30, 8, 0, tzinfo=dt.UTC)
    set_up_at = synced_at - dt.timedelta(days=1)
    row = {
        "ccms_url": "c",
        "portfolio_url": "p",
        "timezone": "UTC",
        "interval_hours": 12.0,
        "enabled": True,
        "state": "active",
        "max_archive_children_pct": 10.0,
        "max_archive_children_min": 3,
        "max_remove_rooms_pct": 25.0,
        "max_remove_rooms_min": 2,
        "created_at": set_up_at,
    }
    times = {"created_at", "set_up_at", "started_at", "finished_at"}

    def table(name: str, columns: Iterable[str]) -> sa.TableClause:
        typed = (sa.column(k, UtcDateTime() if k in times else None) for k in columns)
        return sa.table(name, *typed)

    service = table("service", [*row, "id", "name", "set_up_at"])
    run_row = {
        "service_id": 1,
        "started_at": synced_at,
        "finished_at": synced_at,
        "kind": "sync",
        "dry_run": False,
        "result": "ok",
        "summary": "{}",
        "who": "cron",
    }
    run = table("sync_run", run_row)
    with older.begin() as conn:
        conn.execute(sa.insert(service), {**row, "id": 1, "name": "synced", "set_up_at": set_up_at})
        conn.execute(sa.insert(service), {**row, "id": 2, "name": "new", "set_up_at": set_up_at})
        conn.execute(sa.insert(service), {**row, "id": 3, "name": "never", "set_up_at": None})
        conn.execute(sa.insert(run), run_row)
    older.dispose()

    with open_store(store_url) as store:
        assert store.next_due("synced") == synced_at + dt.timedelta(hours=12)
        assert store.next_due("new") == set_up_at
        assert store.next_due("never") is None
        assert store.due_services(synced_at) == ["new"]
