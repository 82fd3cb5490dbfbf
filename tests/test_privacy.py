"""Turning a service off with --purge, or removing it, leaves none of its children's names or
birth dates anywhere in the database files: the real CLI, the real sandbox, the raw bytes.

The history is made to carry names everywhere smtui puts them: setup links and creates
profiles, a CCMS rename and a newcomer are synced, and a run whose portfolio writes fail leaves
errors and a run message that quote operation labels. Throughout, another program keeps the
database open, as the app left open in another terminal would: SQLite then keeps the -wal
instead of folding it into the file when the CLI exits, so old row versions in it count too.

On PostgreSQL (``SMTUI_TEST_DB``) the same history is made in a database of its own, and what is
looked at is every value of every table, as any reader of the database sees it: the purged rows
are gone. The server's own files (dead tuples until VACUUM, its WAL) are the server's business
(docs/postgres.md), as is the -wal test below, which is SQLite's.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

from smtui.connectors import CcmsClient, PortfolioClient
from smtui.sandbox.admin import AdminClient
from smtui.sandbox.server import RunningSandbox
from tests import pg_helpers
from tests.cli_helpers import add_service_args, run_cli
from tests.conftest import SANDBOX_SEED, SANDBOX_TODAY

SERVICE = "sunny-hill"
TODAY = SANDBOX_TODAY.isoformat()
NEWCOMER = ("Zephyrine", "Quillfeather", dt.date(2023, 2, 14))


@dataclass(frozen=True)
class History:
    db: str  # a database with the service set up and synced, no connection open on it
    full_names: frozenset[str]
    name_parts: frozenset[str]  # first, preferred and last names of 4 characters or more
    birth_dates: frozenset[str]  # ISO
    emails: frozenset[str]  # guardian email addresses, on either side
    create_ops_pending: frozenset[str]  # child ids a dry run would create a profile for


def _people(sandbox: RunningSandbox) -> list[tuple[str, str, str | None, dt.date | None]]:
    """(first, last, preferred, birth date) of every child on both sides of the service."""
    with CcmsClient(sandbox.ccms_url(SERVICE), sandbox.ccms_token) as ccms:
        children = ccms.children().items
    with PortfolioClient(sandbox.portfolio_url(SERVICE), sandbox.portfolio_token) as portfolio:
        profiles = portfolio.snapshot().profiles
    return [(c.first_name, c.last_name, c.preferred_name, c.birth_date) for c in children] + [
        (p.first_name, p.last_name, None, p.birth_date) for p in profiles
    ]


def _emails(sandbox: RunningSandbox) -> set[str]:
    """Every guardian email address of the service, CCMS contacts and portfolio invitees."""
    with CcmsClient(sandbox.ccms_url(SERVICE), sandbox.ccms_token) as ccms:
        children = ccms.children().items
    with PortfolioClient(sandbox.portfolio_url(SERVICE), sandbox.portfolio_token) as portfolio:
        profiles = portfolio.profiles().items
    return {e for r in (*children, *profiles) for e in r.guardian_emails}


def _pending_creates(db: str) -> frozenset[str]:
    dry = run_cli("sync", SERVICE, "--dry-run", "--as-of", TODAY, "--json", db=db)
    assert dry.returncode in (0, 2), dry.stdout + dry.stderr
    ops = json.loads(dry.stdout)[0]["operations"]
    return frozenset(op["id"].split(":")[1] for op in ops if op["kind"] == "create_profile")


@pytest.fixture(scope="module")
def history_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Where the history is made: a SQLite file, or a PostgreSQL database of this module."""
    if not pg_helpers.on_postgres():
        yield str(tmp_path_factory.mktemp("privacy") / "history.db")
        return
    with pg_helpers.fresh_database() as url:
        yield url


@pytest.fixture(scope="module")
def history(sandbox: RunningSandbox, history_db: str) -> History:
    db = history_db
    people = []
    with AdminClient(sandbox.admin_url, sandbox.admin_token) as admin:
        admin.reset(seed=SANDBOX_SEED, today=SANDBOX_TODAY, services="all")
        admin.clear_faults()
        people += _people(sandbox)
        assert (
            run_cli(*add_service_args(sandbox, SERVICE, "Australia/Sydney"), db=db).returncode == 0
        )
        setup = run_cli("setup", SERVICE, "--accept-proposals", "--as-of", TODAY, db=db)
        assert setup.returncode == 0, setup.stdout + setup.stderr

        with CcmsClient(sandbox.ccms_url(SERVICE), sandbox.ccms_token) as ccms:
            booking = next(b for b in ccms.bookings().items if b.status == "placed")
            renamed = next(c for c in ccms.children().items if c.id == booking.child_id)
        admin.update_child(SERVICE, renamed.id, first_name="Rangimarie")
        first, last, born = NEWCOMER
        admin.enrol(
            SERVICE,
            first_name=first,
            last_name=last,
            birth_date=born,
            room_id=booking.room_id,
            weekdays=[1, 3],
            start_date=SANDBOX_TODAY,
        )
        # refused at once (a Retry-After beyond the client's limit): the writes fail, unretried
        admin.set_faults(
            rate=1, kinds=["429"], retry_after=3600, count=3, scope="write", system="portfolio"
        )
        failed = run_cli("sync", SERVICE, "--as-of", TODAY, db=db)
        assert failed.returncode == 1, failed.stdout + failed.stderr
        admin.clear_faults()
        synced = run_cli("sync", SERVICE, "--as-of", TODAY, db=db)
        assert synced.returncode == 0, synced.stdout + synced.stderr
        people += _people(sandbox)

    summaries = pg_helpers.rows(db, "SELECT summary FROM sync_run")
    messages = [json.loads(str(s))["message"] for (s,) in summaries]
    full = {f"{f} {s}".strip() for f, s, _p, _b in people}
    assert any(any(n in m for n in full) for m in messages), "no run message quotes a name"

    # Dates smtui itself writes (the plan date, today's timestamps) are not birth dates.
    own = {SANDBOX_TODAY, dt.date.today(), dt.datetime.now(dt.UTC).date()}
    own |= {d + dt.timedelta(days=k) for d in list(own) for k in (-1, 1)}
    return History(
        db=db,
        full_names=frozenset(full),
        name_parts=frozenset(
            part for f, s, p, _b in people for part in (f, s, p or "") if len(part.strip()) >= 4
        ),
        birth_dates=frozenset(b.isoformat() for *_n, b in people if b and b not in own),
        emails=frozenset(_emails(sandbox)),
        create_ops_pending=_pending_creates(db),
    )


#: Another program with the database open, idle (as the app in another terminal would be) or
#: in the middle of a read. It must be another process: POSIX locks are per process, and the
#: test's own reads of the raw files would drop the locks of a connection it held itself.
_OPEN_ELSEWHERE = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
if sys.argv[2] == "reading":
    conn.execute("BEGIN")
conn.execute("SELECT count(*) FROM service").fetchall()
print("open", flush=True)
sys.stdin.read()
if sys.argv[2] == "reading":
    conn.execute("COMMIT")
conn.close()
"""


@contextmanager
def _open_elsewhere(db: str, how: str = "idle") -> Iterator[None]:
    if pg_helpers.on_postgres():
        # another session, idle between statements: the purge must neither wait for it nor
        # leave it anything to read
        assert how == "idle"
        engine = sa.create_engine(db, poolclass=sa.NullPool)
        try:
            with engine.connect() as conn:
                conn.exec_driver_sql("SELECT count(*) FROM service").all()
                conn.commit()
                yield
        finally:
            engine.dispose()
        return
    other = subprocess.Popen(
        [sys.executable, "-c", _OPEN_ELSEWHERE, str(db), how],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert other.stdout is not None and other.stdout.readline() == "open\n"
        yield
    finally:
        if other.stdin:
            other.stdin.close()
        assert other.wait(timeout=30) == 0


@pytest.fixture
def db(history: History, tmp_path: Path) -> Iterator[str]:
    """A copy of the history (on PostgreSQL: a database made from it as a template)."""
    if pg_helpers.on_postgres():
        with pg_helpers.fresh_database(template=history.db) as url:
            yield url
        return
    copy = tmp_path / "smtui.db"
    shutil.copyfile(history.db, copy)
    yield str(copy)


def _db_files(db: str) -> list[Path]:
    return [p for p in (Path(db), Path(f"{db}-wal"), Path(f"{db}-shm")) if p.exists()]


def _stored(db: str) -> bytes:
    """What the store holds: the raw bytes of the SQLite files (-wal included), or every value
    of every table of a PostgreSQL database."""
    if pg_helpers.on_postgres():
        return pg_helpers.stored_text(db)
    return b"".join(p.read_bytes() for p in _db_files(db))


def _left_in_files(db: str, history: History) -> dict[str, list[str]]:
    """Which names and birth dates the store holds, as UTF-8 or JSON-escaped text."""
    blob = _stored(db)

    def found(texts: frozenset[str]) -> list[str]:
        forms = {t: {t.encode(), json.dumps(t)[1:-1].encode()} for t in texts}
        return sorted(t for t, encoded in forms.items() if any(e in blob for e in encoded))

    return {
        "full names": found(history.full_names),
        "name parts": found(history.name_parts),
        "birth dates": found(history.birth_dates),
        "guardian emails": found(history.emails),
    }


def _assert_nothing_left(db: str, history: History) -> None:
    left = _left_in_files(db, history)
    assert not any(left.values()), {k: f"{len(v)}: {v[:5]}" for k, v in left.items()}


def _assert_names_are_there(db: str, history: History) -> None:
    """The checks would pass on an empty file: show that they look at real data first."""
    left = _left_in_files(db, history)
    assert len(left["full names"]) >= len(history.full_names) // 2, left
    assert len(left["birth dates"]) >= len(history.birth_dates) // 2, left
    assert len(left["guardian emails"]) >= len(history.emails) // 2, left


def _counts(db: str) -> list[list[tuple[object, ...]]]:
    return [
        pg_helpers.rows(db, f"SELECT count(*) FROM {t}")
        for t in ("audit", "sync_run", "journal_op")
    ]


def test_turning_off_with_purge_leaves_no_name_or_birth_date(db: str, history: History) -> None:
    links = "SELECT child_id, action, profile_id FROM child_mapping ORDER BY child_id"
    links_before = pg_helpers.rows(db, links)
    counts_before = _counts(db)

    with _open_elsewhere(db):
        _assert_names_are_there(db, history)
        off = run_cli("service", "set", SERVICE, "--off", "--purge", db=db)
        assert off.returncode == 0, off.stdout + off.stderr
        _assert_nothing_left(db, history)

    # history keeps ids, kinds, states and counts
    assert links_before and pg_helpers.rows(db, links) == links_before
    assert _counts(db) == counts_before
    labels = [str(label) for (label,) in pg_helpers.rows(db, "SELECT label FROM journal_op")]
    assert "create_profile" in {label.split()[0] for label in labels}
    assert all(label.split()[0].isidentifier() for label in labels), labels[:5]

    # Turned on again, the kept links mean no child gets a second profile.
    assert run_cli("service", "set", SERVICE, "--on", db=db).returncode == 0
    assert _pending_creates(db) == history.create_ops_pending


def test_removing_a_service_leaves_no_name_or_birth_date(db: str, history: History) -> None:
    with _open_elsewhere(db):
        _assert_names_are_there(db, history)
        removed = run_cli("service", "remove", SERVICE, "--yes", db=db)
        assert removed.returncode == 0, removed.stdout + removed.stderr
        _assert_nothing_left(db, history)
    listed = run_cli("service", "list", db=db)
    assert listed.returncode == 0 and "No services yet" in listed.stdout


@pg_helpers.sqlite_only("a reader keeping SQLite's -wal from being emptied")
def test_a_purge_held_back_by_a_reader_says_so(db: str, history: History) -> None:
    """A read in progress elsewhere keeps SQLite from emptying the -wal: the purge is done but
    says where the old bytes still are, and they are gone once that program closes."""
    with _open_elsewhere(db, "reading"):
        off = run_cli("service", "set", SERVICE, "--off", "--purge", db=db)
        assert off.returncode == 1, off.stdout + off.stderr
        assert "Traceback" not in off.stderr
        assert len(off.stderr.splitlines()) == 1, off.stderr
        assert "purged" in off.stderr and f"{db}-wal" in off.stderr, off.stderr
    # the reader was the last connection: closing it folded the -wal into the file
    _assert_nothing_left(db, history)
