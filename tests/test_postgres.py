"""The store on PostgreSQL where it differs from SQLite: time zones, several processes at once.

Runs only with ``SMTUI_TEST_DB=postgresql+psycopg://user@127.0.0.1:PORT/db`` (``.ci/run`` starts
a throwaway server on Australia/Sydney time); every test skips with the reason otherwise. Each
test gets a fresh database (tests/pg_helpers.py). tests/test_store.py runs the rest of the
store's contract on PostgreSQL under the same switch.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory

from smtui.records import CcmsSnapshot, Child, ChildMapping, Room
from smtui.sandbox.server import RunningSandbox
from smtui.store import ServiceConfig, Store, open_store
from smtui.store.migrate import alembic_config
from tests import pg_helpers
from tests.cli_helpers import add_service_args, cli_env, run_cli

pytestmark = pytest.mark.skipif(pg_helpers.server_url() is None, reason=pg_helpers.skip_reason())

SYDNEY = "Australia/Sydney"
T0 = dt.datetime(2026, 1, 15, 1, 2, 3, 456789, tzinfo=dt.UTC)  # Sydney is UTC+11 then
CHECKOUT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture
def sydney_url() -> Iterator[str]:
    """A fresh database whose sessions run on Australia/Sydney time, whatever the server's."""
    with pg_helpers.fresh_database(timezone=SYDNEY) as url:
        yield url


@pytest.fixture
def sydney(sydney_url: str) -> Iterator[Store]:
    s = open_store(sydney_url)
    yield s
    s.close()


def add(store: Store, name: str = "sunny") -> ServiceConfig:
    return store.add_service(
        ServiceConfig(
            name=name,
            ccms_url="http://127.0.0.1:1/c",
            portfolio_url="http://127.0.0.1:1/p",
            created_at=T0,
        )
    )


def spawn(code: str, *args: str) -> subprocess.Popen[str]:
    """A Python process running ``code`` with this checkout's smtui, talking over pipes."""
    env = {**os.environ, "PYTHONPATH": CHECKOUT}
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


# --- time zones --------------------------------------------------------------------------------


def test_a_server_time_zone_other_than_utc_shifts_no_timestamp(
    sydney: Store, sydney_url: str
) -> None:
    with sydney.engine.connect() as conn:
        assert conn.exec_driver_sql("SHOW timezone").scalar() == SYDNEY
    cfg = add(sydney)
    assert cfg.created_at == T0 and cfg.created_at.tzinfo is dt.UTC
    naive = sydney.update_service("sunny", set_up_at=T0.replace(tzinfo=None))  # naive = UTC
    assert naive.set_up_at == T0
    # The instant stored is T0 itself, not T0 read as Sydney wall time.
    with sydney.engine.connect() as conn:
        epoch = conn.exec_driver_sql("SELECT extract(epoch FROM created_at) FROM service").scalar()
        conn.exec_driver_sql("SET TIME ZONE 'UTC'")
        as_utc = conn.exec_driver_sql("SELECT created_at::text FROM service").scalar()
    assert float(epoch) == pytest.approx(T0.timestamp())
    assert as_utc == "2026-01-15 01:02:03.456789+00"

    run_id = sydney.start_run(
        "sunny", kind="sync", dry_run=False, as_of=None, fingerprint=None, who="cron"
    )
    sydney.finish_run(run_id, "ok", {})
    finished = sydney.last_success("sunny")
    assert finished is not None and abs(dt.datetime.now(dt.UTC) - finished) < dt.timedelta(
        minutes=1
    )
    sydney.save_ccms_snapshot("sunny", CcmsSnapshot((), (), ()), read_at=T0)
    assert sydney.snapshot_read_at("sunny", "ccms") == T0


def test_a_live_lease_holds_and_an_expired_one_is_taken_over_on_sydney_time(
    sydney: Store,
) -> None:
    # With naive UTC times in a timestamptz, Sydney would store every expiry ~11 h early: a
    # live lease would look expired at once and any run would take it over.
    add(sydney)
    got = sydney.acquire_lock(
        "sunny", token="a", user="cron", host="far", pid=1, lease=dt.timedelta(seconds=60)
    )
    assert got is None
    holder = sydney.acquire_lock(
        "sunny", token="b", user="kim", host="near", pid=2, lease=dt.timedelta(seconds=60)
    )
    assert holder is not None and holder.token == "a"
    assert holder.expires_at - dt.datetime.now(dt.UTC) > dt.timedelta(seconds=50)
    assert sydney.break_lock("sunny") is not None
    short = dt.timedelta(seconds=0.5)
    assert sydney.acquire_lock("sunny", token="c", user="u", host="far", pid=1, lease=short) is None
    time.sleep(0.7)
    again = sydney.acquire_lock("sunny", token="d", user="u", host="near", pid=2, lease=short)
    assert again is None and sydney.lock_holder("sunny").token == "d"
    assert not sydney.renew_lock("sunny", "c", short)


LEASE_HOLDER = """
    import datetime, os, socket, sys
    from smtui.store import open_store
    store = open_store(sys.argv[1])
    lease = datetime.timedelta(seconds=float(sys.argv[2]))
    holder = store.acquire_lock(
        "sunny", token="first", user="cron", host=socket.gethostname(), pid=os.getpid(),
        lease=lease,
    )
    print("got" if holder is None else "held", flush=True)
    sys.stdin.readline()  # renew when told
    print("renewed" if store.renew_lock("sunny", "first", lease) else "lost", flush=True)
    sys.stdin.read()
"""


def test_the_lease_between_two_processes(sydney: Store, sydney_url: str) -> None:
    """A live process keeps its lease until it stops renewing; then another takes it over,
    and the first learns at its next renewal that the lock is gone."""
    add(sydney)
    first = spawn(LEASE_HOLDER, sydney_url, "2")
    try:
        assert first.stdout.readline().strip() == "got", first.stderr.read()
        here = socket.gethostname()
        second = dict(token="second", user="kim", host=here, pid=os.getpid())
        holder = sydney.acquire_lock("sunny", lease=dt.timedelta(seconds=60), **second)
        assert holder is not None and holder.pid == first.pid  # alive, on this host: held
        time.sleep(2.3)  # it has not renewed
        assert sydney.acquire_lock("sunny", lease=dt.timedelta(seconds=60), **second) is None
        first.stdin.write("renew\n")
        first.stdin.flush()
        assert first.stdout.readline().strip() == "lost"
        assert sydney.lock_holder("sunny").token == "second"
    finally:
        first.stdin.close()
        first.wait(timeout=30)


# --- several processes at once -----------------------------------------------------------------

OPENER = """
    import sys
    from smtui.store import open_store
    sys.stdin.readline()  # wait for the start signal
    with open_store(sys.argv[1]) as store:
        print(len(store.list_services()), flush=True)
"""


def test_several_processes_open_a_fresh_database_at_once(pg_url: str) -> None:
    procs = [spawn(OPENER, pg_url) for _ in range(4)]
    for p in procs:
        p.stdin.write("go\n")
        p.stdin.flush()
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0 and out.strip() == "0", err
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    engine = sa.create_engine(pg_url, poolclass=sa.NullPool)
    with engine.connect() as conn:
        versions = conn.exec_driver_sql("SELECT version_num FROM alembic_version").all()
    engine.dispose()
    assert versions == [(head,)]
    with open_store(pg_url) as again:  # and a later open is a no-op
        assert again.list_services() == []


def snapshot(tag: int) -> CcmsSnapshot:
    children = tuple(
        Child(f"c{i}", f"Kid{tag}", "Lee", None, "active", T0) for i in range(40 + tag)
    )
    return CcmsSnapshot(children, (Room("r1", f"Room {tag}", T0),), ())


def test_concurrent_snapshot_saves_of_one_service_all_succeed(pg_url: str) -> None:
    # Four stores (four connection pools, as four processes would have) replace one service's
    # cached read at once: delete-then-insert would hit the primary key without the lock.
    stores = [open_store(pg_url) for _ in range(4)]
    try:
        add(stores[0])
        barrier = threading.Barrier(4)

        def refresh(worker: int) -> None:
            barrier.wait()
            for _ in range(10):
                assert stores[worker].save_ccms_snapshot("sunny", snapshot(worker))

        with ThreadPoolExecutor(max_workers=4) as pool:
            for future in [pool.submit(refresh, w) for w in range(4)]:
                future.result()
        assert stores[0].load_ccms_snapshot("sunny") in [snapshot(w) for w in range(4)]
    finally:
        for s in stores:
            s.close()


def test_concurrent_mapping_writes_of_one_service_all_succeed_and_audit_each_change(
    pg_url: str,
) -> None:
    stores = [open_store(pg_url) for _ in range(4)]
    try:
        add(stores[0])
        barrier = threading.Barrier(4)

        def decide(worker: int) -> None:
            barrier.wait()
            for i in range(20):
                mapping = ChildMapping(f"c{i % 3}", "link", f"p{worker}-{i}", origin="manual")
                stores[worker].set_child_mappings("sunny", [mapping], who=f"w{worker}")

        with ThreadPoolExecutor(max_workers=4) as pool:
            for future in [pool.submit(decide, w) for w in range(4)]:
                future.result()
        log = stores[0].audit_log("sunny", limit=1000)
        assert len(log) == 80
        # Each change's "before" is the mapping the previous change left: none was lost.
        for child in ("c0", "c1", "c2"):
            chain = [e for e in reversed(log) if e.subject_id == child]
            assert chain[0].before is None
            for earlier, later in itertools.pairwise(chain):
                assert later.before == earlier.after
            assert (
                stores[0].child_mappings("sunny")[child].profile_id == chain[-1].after["profile_id"]
            )
    finally:
        for s in stores:
            s.close()


def test_two_refreshes_of_one_service_at_once_both_succeed(
    sandbox_world: RunningSandbox, pg_url: str, tmp_path: Path
) -> None:
    # The CLI helpers want a directory for the store's neighbours (its absent config file);
    # SMTUI_DB points the commands at PostgreSQL.
    here, on_pg = tmp_path / "unused.db", {"SMTUI_DB": pg_url}
    added = run_cli(*add_service_args(sandbox_world, "sunny-hill", SYDNEY), db=here, env=on_pg)
    assert added.returncode == 0, added.stderr
    env = cli_env(here, **on_pg)
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "smtui", "refresh", "sunny-hill"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=180) for p in procs]
    for p, (_out, err) in zip(procs, outputs, strict=True):
        assert p.returncode == 0, err
        assert "Traceback" not in err
    assert outputs[0][0] == outputs[1][0]  # the same counts


# --- text --------------------------------------------------------------------------------------


def test_nul_characters_are_dropped_before_they_reach_postgresql(pg_url: str) -> None:
    with open_store(pg_url) as store:
        add(store)
        odd = Child("c\x001", "A\x00va", "Ng\x00", None, "active", T0, preferred_name="\x00")
        snap = CcmsSnapshot((odd,), (Room("r1", "Pos\x00sums", T0),), ())
        assert store.save_ccms_snapshot("sunny", snap)
        loaded = store.load_ccms_snapshot("sunny")
        (child,) = loaded.children
        assert (child.id, child.first_name, child.last_name, child.preferred_name) == (
            "c1",
            "Ava",
            "Ng",
            "",
        )
        assert loaded.rooms[0].name == "Possums"
        run_id = store.start_run(
            "sunny", kind="sync", dry_run=False, as_of=None, fingerprint=None, who="c\x00ron"
        )
        store.record_ops(run_id, "sunny", [{"op_id": "a", "kind": "k", "label": "L\x00"}])
        store.set_op_state(run_id, "a", "failed", error="HTTP 500: bad\x00 body")
        (op,) = store.run_ops(run_id)
        assert (op.label, op.error) == ("L", "HTTP 500: bad body")
        assert store.run(run_id).who == "cron"
        # A query parameter is cleaned the same way, so what was stored is found again.
        assert store.get_service("sun\x00ny").name == "sunny"


# --- workers (smtui/worker.py, on procrastinate) -------------------------------------------------

WORKER_SERVICES = ("little-wattle", "gumnut-grove")
TODAY = dt.date(2026, 11, 23)


def _set_up_and_make_due(sandbox: RunningSandbox, url: str) -> None:
    """Two services set up against the sandbox, whose last success was 13 hours ago."""
    from smtui import engine

    with open_store(url) as store:
        for name in WORKER_SERVICES:
            engine.add_service(
                store,
                ServiceConfig(
                    name=name,
                    ccms_url=sandbox.ccms_url(name),
                    portfolio_url=sandbox.portfolio_url(name),
                    ccms_token_env="SMTUI_TEST_CCMS",
                    portfolio_token_env="SMTUI_TEST_PORTFOLIO",
                ),
            )
            engine.refresh(store, name)
            assert engine.run_sync(store, name, setup=True, as_of=TODAY).run.result == "ok"
        assert store.due_services() == []
        with store.engine.begin() as conn:
            conn.exec_driver_sql("UPDATE sync_run SET finished_at = finished_at - interval '13h'")
        for name in WORKER_SERVICES:
            store.update_service(name, interval_hours=12)  # recomputes next_due_at
        assert sorted(store.due_services()) == sorted(WORKER_SERVICES)


WORKER_ONCE = """
    import sys
    from smtui.worker import run_once
    sys.stdin.readline()  # wait for the start signal
    report = run_once(sys.argv[1])
    print(sorted(report.queued), sorted(report.outcomes.items()), flush=True)
"""


def test_two_workers_sync_each_due_service_exactly_once(
    sandbox_world: RunningSandbox, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("procrastinate", reason="smtui worker needs procrastinate>=3.10")
    monkeypatch.setenv("SMTUI_TEST_CCMS", sandbox_world.ccms_token)
    monkeypatch.setenv("SMTUI_TEST_PORTFOLIO", sandbox_world.portfolio_token)
    _set_up_and_make_due(sandbox_world, pg_url)

    workers = [spawn(WORKER_ONCE, pg_url) for _ in range(2)]
    for w in workers:
        w.stdin.write("go\n")
        w.stdin.flush()
    outputs = [w.communicate(timeout=300) for w in workers]
    for w, (_out, err) in zip(workers, outputs, strict=True):
        assert w.returncode == 0, err

    with open_store(pg_url) as store:
        for name in WORKER_SERVICES:
            syncs = [r for r in store.runs(name) if r.kind == "sync"]
            assert [r.result for r in syncs] == ["ok"], (name, outputs)
            assert syncs[0].who == "worker"
        assert store.due_services() == []

    from smtui.worker import run_once

    again = run_once(pg_url)  # nothing is due any more: nothing queued, nothing run
    assert again.queued == () and again.outcomes == {}


def test_a_queued_job_whose_service_was_synced_meanwhile_does_nothing(
    sandbox_world: RunningSandbox, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("procrastinate", reason="smtui worker needs procrastinate>=3.10")
    from smtui import engine
    from smtui.worker import Worker

    monkeypatch.setenv("SMTUI_TEST_CCMS", sandbox_world.ccms_token)
    monkeypatch.setenv("SMTUI_TEST_PORTFOLIO", sandbox_world.portfolio_token)
    _set_up_and_make_due(sandbox_world, pg_url)
    worker = Worker(pg_url)
    try:
        due_at = worker.store.next_due("little-wattle")
        assert due_at is not None
        # cron (or a person) syncs it after the job was queued, before a worker takes it
        engine.run_sync(worker.store, "little-wattle", as_of=TODAY)
        assert worker.sync_one("little-wattle", due_at.isoformat()) == "synced already"
        worker.store.update_service("gumnut-grove", enabled=False)
        assert worker.sync_one("gumnut-grove", None) == "not due"
    finally:
        worker.close()


def test_a_worker_refuses_a_sqlite_store(tmp_path) -> None:
    pytest.importorskip("procrastinate", reason="smtui worker needs procrastinate>=3.10")
    from smtui.worker import WorkerError, run_once

    with pytest.raises(WorkerError, match="needs a PostgreSQL store"):
        run_once(str(tmp_path / "smtui.db"))


# --- lock waits ----------------------------------------------------------------------------------

ADD_SECOND = (
    *("service", "add", "second", "--ccms-url", "http://127.0.0.1:1/c"),
    *("--ccms-token-env", "X_TOKEN", "--portfolio-url", "http://127.0.0.1:1/p"),
    *("--portfolio-token-env", "Y_TOKEN"),
)


def test_a_write_behind_another_sessions_lock_gives_up_after_smtui_pg_lock_timeout(
    pg_url: str,
) -> None:
    """An operator shortens (or lengthens) the wait: the write gives up after about that long,
    in one line that says how long it waited; a value that is not seconds is one line too."""
    with open_store(pg_url) as store:
        add(store)
    holder = sa.create_engine(pg_url, poolclass=sa.NullPool)
    with holder.connect() as conn:
        conn.exec_driver_sql("LOCK TABLE service IN EXCLUSIVE MODE")
        try:
            started = time.monotonic()
            added = run_cli(*ADD_SECOND, db=pg_url, env={"SMTUI_PG_LOCK_TIMEOUT": "1"}, timeout=60)
            waited = time.monotonic() - started
        finally:
            conn.rollback()
    holder.dispose()
    assert added.returncode == 1 and "Traceback" not in added.stderr, added.stderr
    assert "busy" in added.stderr and "more than 1 s" in added.stderr, added.stderr
    assert waited < 8, f"gave up after {waited:.1f} s, not about 1 s"

    bad = run_cli("service", "list", db=pg_url, env={"SMTUI_PG_LOCK_TIMEOUT": "soon"})
    assert bad.returncode == 1 and len(bad.stderr.strip().splitlines()) == 1, bad.stderr
    assert "SMTUI_PG_LOCK_TIMEOUT" in bad.stderr, bad.stderr
    with open_store(pg_url) as store:
        assert [s.name for s in store.list_services()] == ["sunny"]
