"""Turning a service off with --purge, or removing it, leaves none of its children's names or
birth dates anywhere in the database files: the real CLI, the real sandbox, the raw bytes.

The history is made to carry names everywhere smtui puts them: setup links and creates
profiles, a CCMS rename and a newcomer are synced, and a run whose portfolio writes fail leaves
errors and a run message that quote operation labels. Throughout, another program keeps the
database open, as the app left open in another terminal would: SQLite then keeps the -wal
instead of folding it into the file when the CLI exits, so old row versions in it count too.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from smtui.connectors import CcmsClient, PortfolioClient
from smtui.sandbox.admin import AdminClient
from smtui.sandbox.server import RunningSandbox
from tests.cli_helpers import add_service_args, run_cli
from tests.conftest import SANDBOX_SEED, SANDBOX_TODAY

SERVICE = "sunny-hill"
TODAY = SANDBOX_TODAY.isoformat()
NEWCOMER = ("Zephyrine", "Quillfeather", dt.date(2023, 2, 14))


@dataclass(frozen=True)
class History:
    db: Path  # a database with the service set up and synced, no connection open on it
    full_names: frozenset[str]
    name_parts: frozenset[str]  # first, preferred and last names of 4 characters or more
    birth_dates: frozenset[str]  # ISO
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


def _pending_creates(db: Path) -> frozenset[str]:
    dry = run_cli("sync", SERVICE, "--dry-run", "--as-of", TODAY, "--json", db=db)
    assert dry.returncode in (0, 2), dry.stdout + dry.stderr
    ops = json.loads(dry.stdout)[0]["operations"]
    return frozenset(op["id"].split(":")[1] for op in ops if op["kind"] == "create_profile")


@pytest.fixture(scope="module")
def history(sandbox: RunningSandbox, tmp_path_factory: pytest.TempPathFactory) -> History:
    db = tmp_path_factory.mktemp("privacy") / "history.db"
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

    raw = sqlite3.connect(db)
    messages = [json.loads(s)["message"] for (s,) in raw.execute("SELECT summary FROM sync_run")]
    raw.close()
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
def _open_elsewhere(db: Path, how: str = "idle") -> Iterator[None]:
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
def db(history: History, tmp_path: Path) -> Path:
    """A copy of the history."""
    copy = tmp_path / "smtui.db"
    shutil.copyfile(history.db, copy)
    return copy


def _db_files(db: Path) -> list[Path]:
    return [p for p in (db, Path(f"{db}-wal"), Path(f"{db}-shm")) if p.exists()]


def _left_in_files(db: Path, history: History) -> dict[str, list[str]]:
    """Which names and birth dates appear in the raw bytes, as UTF-8 or JSON-escaped text."""
    blob = b"".join(p.read_bytes() for p in _db_files(db))

    def found(texts: frozenset[str]) -> list[str]:
        forms = {t: {t.encode(), json.dumps(t)[1:-1].encode()} for t in texts}
        return sorted(t for t, encoded in forms.items() if any(e in blob for e in encoded))

    return {
        "full names": found(history.full_names),
        "name parts": found(history.name_parts),
        "birth dates": found(history.birth_dates),
    }


def _assert_nothing_left(db: Path, history: History) -> None:
    left = _left_in_files(db, history)
    assert left == {"full names": [], "name parts": [], "birth dates": []}, {
        k: f"{len(v)}: {v[:5]}" for k, v in left.items()
    }


def _assert_names_are_there(db: Path, history: History) -> None:
    """The checks would pass on an empty file: show that they look at real data first."""
    left = _left_in_files(db, history)
    assert len(left["full names"]) >= len(history.full_names) // 2, left
    assert len(left["birth dates"]) >= len(history.birth_dates) // 2, left


def test_turning_off_with_purge_leaves_no_name_or_birth_date(db: Path, history: History) -> None:
    raw = sqlite3.connect(db)
    links_before = raw.execute(
        "SELECT child_id, action, profile_id FROM child_mapping ORDER BY child_id"
    ).fetchall()
    counts_before = [
        raw.execute(f"SELECT count(*) FROM {t}").fetchone()
        for t in ("audit", "sync_run", "journal_op")
    ]
    raw.close()

    with _open_elsewhere(db):
        _assert_names_are_there(db, history)
        off = run_cli("service", "set", SERVICE, "--off", "--purge", db=db)
        assert off.returncode == 0, off.stdout + off.stderr
        _assert_nothing_left(db, history)

    # history keeps ids, kinds, states and counts
    raw = sqlite3.connect(db)
    assert (
        raw.execute(
            "SELECT child_id, action, profile_id FROM child_mapping ORDER BY child_id"
        ).fetchall()
        == links_before
    )
    assert [
        raw.execute(f"SELECT count(*) FROM {t}").fetchone()
        for t in ("audit", "sync_run", "journal_op")
    ] == counts_before
    labels = [label for (label,) in raw.execute("SELECT label FROM journal_op")]
    assert "create_profile" in {label.split()[0] for label in labels}
    assert all(label.split()[0].isidentifier() for label in labels), labels[:5]
    raw.close()

    # Turned on again, the kept links mean no child gets a second profile.
    assert run_cli("service", "set", SERVICE, "--on", db=db).returncode == 0
    assert _pending_creates(db) == history.create_ops_pending


def test_removing_a_service_leaves_no_name_or_birth_date(db: Path, history: History) -> None:
    with _open_elsewhere(db):
        _assert_names_are_there(db, history)
        removed = run_cli("service", "remove", SERVICE, "--yes", db=db)
        assert removed.returncode == 0, removed.stdout + removed.stderr
        _assert_nothing_left(db, history)
    listed = run_cli("service", "list", db=db)
    assert listed.returncode == 0 and "No services yet" in listed.stdout


def test_a_purge_held_back_by_a_reader_says_so(db: Path, history: History) -> None:
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
