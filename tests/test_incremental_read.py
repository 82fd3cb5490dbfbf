"""Incremental reads against the real sandbox: a sync reads only what changed, and whatever a
centre or an educator does, the plan after reading the changes is the plan a full read gives."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from smtui import engine
from smtui.connectors import CcmsClient, PortfolioClient
from smtui.engine.reading import ENV_FULL_READ_HOURS
from smtui.sandbox.admin import AdminClient
from smtui.sandbox.server import RunningSandbox
from smtui.store import Store, open_store
from smtui.store.snapshots import ReadMarks
from tests.cli_helpers import add_service_args, run_cli

SERVICE = "sunny-hill"
BIG = "harbour-city"


@pytest.fixture
def tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    """The sandbox tokens where the services added by add_service_args look for them."""
    monkeypatch.setenv("SMTUI_CCMS_TOKEN", "ccms-sandbox-token")
    monkeypatch.setenv("SMTUI_PORTFOLIO_TOKEN", "portfolio-sandbox-token")
    monkeypatch.delenv(ENV_FULL_READ_HOURS, raising=False)


def _set_up(sandbox: RunningSandbox, db: str, today: dt.date, service: str) -> Store:
    assert run_cli(*add_service_args(sandbox, service, "Australia/Sydney"), db=db).returncode == 0
    done = run_cli("setup", service, "--accept-proposals", "--as-of", str(today), db=db)
    assert done.returncode == 0, done.stdout + done.stderr
    return open_store(db)


@pytest.fixture
def set_up(
    sandbox_world: RunningSandbox, store_url: str, sandbox_today: dt.date, tokens: None
) -> Iterator[Store]:
    store = _set_up(sandbox_world, store_url, sandbox_today, SERVICE)
    yield store
    store.close()


def _plans(store: Store, today: dt.date, monkeypatch: pytest.MonkeyPatch) -> tuple[list[str], ...]:
    """(operations after reading the changes, operations after a full read, progress lines of
    the first read). Dry runs change neither system, so both plans see the same world."""
    lines: list[str] = []
    delta = engine.dry_run(store, SERVICE, as_of=today, progress=lines.append).plan
    monkeypatch.setenv(ENV_FULL_READ_HOURS, "0")
    full = engine.dry_run(store, SERVICE, as_of=today).plan
    monkeypatch.delenv(ENV_FULL_READ_HOURS)
    return [op.label for op in delta.operations], [op.label for op in full.operations], lines


def test_a_sync_after_changes_reads_only_the_changes_and_plans_as_a_full_read(
    set_up: Store,
    sandbox_world: RunningSandbox,
    sandbox_admin: AdminClient,
    sandbox_today: dt.date,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store, today = set_up, sandbox_today
    with CcmsClient(sandbox_world.ccms_url(SERVICE), sandbox_world.ccms_token) as ccms:
        children = [c for c in ccms.children().items if c.status == "active"]

    # a child leaves (status and bookings change)
    sandbox_admin.leave(SERVICE, children[0].id, today - dt.timedelta(days=1))
    delta, full, lines = _plans(store, today, monkeypatch)
    assert delta == full
    assert any("archive" in label for label in delta)  # the leaver's profile, as a full read
    assert "CCMS children: 1 changed, " in "\n".join(lines)

    # a room is added in the CCMS
    sandbox_admin.add_room(SERVICE, "Kookaburras")
    delta, full, lines = _plans(store, today, monkeypatch)
    assert delta == full
    assert any(line.startswith("CCMS rooms: 1 changed") for line in lines), lines

    # an educator archives a profile in the portfolio app
    with PortfolioClient(
        sandbox_world.portfolio_url(SERVICE), sandbox_world.portfolio_token
    ) as portfolio:
        live = [p for p in portfolio.profiles().items if p.external_ref and not p.archived]
        portfolio.archive_profile(live[0].id)
    delta, full, lines = _plans(store, today, monkeypatch)
    assert delta == full
    assert any(line.startswith("Portfolio profiles: 1 changed") for line in lines), lines


def test_a_deleted_booking_makes_the_count_drop_and_that_list_is_read_in_full(
    set_up: Store,
    sandbox_world: RunningSandbox,
    sandbox_admin: AdminClient,
    sandbox_today: dt.date,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A delta never carries what is gone: the merged count against the server's total does."""
    store, today = set_up, sandbox_today
    with CcmsClient(sandbox_world.ccms_url(SERVICE), sandbox_world.ccms_token) as ccms:
        placed = [b for b in ccms.bookings().items if b.status == "placed" and b.end_date is None]
    for booking in placed[:5]:
        sandbox_admin.delete_booking(SERVICE, booking.id)
    delta, full, lines = _plans(store, today, monkeypatch)
    assert delta == full
    read = "\n".join(lines)
    assert "CCMS bookings: " in read and "read in full (changes not used: " in read
    assert "records after merging the changes, the server holds" in read
    cached = store.load_ccms_snapshot(SERVICE)
    assert cached is not None
    assert not {b.id for b in placed[:5]} & {b.id for b in cached.bookings}


def test_a_refused_mark_or_an_old_full_read_means_a_full_read(
    set_up: Store, sandbox_admin: AdminClient, tokens: None
) -> None:
    store = set_up
    lines: list[str] = []
    engine.refresh(store, SERVICE, progress=lines.append)
    assert lines[-1] == "Read changes only"

    marks = store.read_marks(SERVICE, "ccms")
    cached = store.load_ccms_snapshot(SERVICE)
    assert marks is not None and marks.full_read_at is not None and cached is not None
    garbled = ReadMarks(marks.full_read_at, {**marks.cursors, "children": "not-a-mark"})
    store.save_ccms_snapshot(SERVICE, cached, marks=garbled)
    lines.clear()
    engine.refresh(store, SERVICE, progress=lines.append)
    children = next(line for line in lines if line.startswith("CCMS children: "))
    assert "read in full (changes not used: " in children and "HTTP 410" in children
    assert lines[-1] == "Read changes only, 1 of 5 in full"

    marks = store.read_marks(SERVICE, "ccms")
    assert marks is not None and marks.full_read_at is not None
    day_old = ReadMarks(marks.full_read_at - dt.timedelta(hours=25), marks.cursors)
    store.save_ccms_snapshot(SERVICE, cached, marks=day_old)  # the last full read: 25 h ago
    lines.clear()
    engine.refresh(store, SERVICE, progress=lines.append)
    assert [ln for ln in lines if ln.startswith("CCMS ")] == [
        ln for ln in lines if ln.startswith("CCMS ") and " read in full" in ln
    ]
    assert any(line.startswith("Portfolio profiles: ") and "changed" in line for line in lines)


def test_after_a_sandbox_reset_the_changes_still_give_what_a_full_read_gives(
    set_up: Store, sandbox_admin: AdminClient, tokens: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reset rebuilds the world: its marks still mean "everything written since"."""
    store = set_up
    sandbox_admin.reset()
    engine.refresh(store, SERVICE)
    merged = (store.load_ccms_snapshot(SERVICE), store.load_portfolio_snapshot(SERVICE))
    monkeypatch.setenv(ENV_FULL_READ_HOURS, "0")
    engine.refresh(store, SERVICE)
    assert merged == (store.load_ccms_snapshot(SERVICE), store.load_portfolio_snapshot(SERVICE))


def test_a_no_op_sync_of_2000_children_makes_at_most_6_requests(
    sandbox_world: RunningSandbox,
    store_url: str,
    sandbox_today: dt.date,
    tokens: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Issue 11's target: a no-op sync's requests do not grow with the service (a full read of
    the same service takes 15)."""
    store = _set_up(sandbox_world, store_url, sandbox_today, BIG)
    try:
        first = engine.run_sync(store, BIG, as_of=sandbox_today)
        again = engine.run_sync(store, BIG, as_of=sandbox_today)
        assert (first.run.result, again.run.result) == ("ok", "ok")
        assert not again.plan.operations
        assert again.requests <= 6, again.requests
        monkeypatch.setenv(ENV_FULL_READ_HOURS, "0")
        full = engine.run_sync(store, BIG, as_of=sandbox_today)
        assert not full.plan.operations and full.requests >= 15
    finally:
        store.close()
