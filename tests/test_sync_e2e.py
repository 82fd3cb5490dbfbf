"""The sync engine as a new user meets it: the real CLI, the real sandbox, a real SQLite file."""

from __future__ import annotations

import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter

import pytest

from smtui import engine
from smtui.connectors import CcmsClient, PortfolioClient
from smtui.records import PortfolioSnapshot
from smtui.sandbox.admin import AdminClient
from smtui.sandbox.server import RunningSandbox
from smtui.store import open_store
from tests.cli_helpers import add_service_args, cli_env, run_cli

SERVICE = "sunny-hill"
TODAY = "2026-11-23"


def _portfolio(sandbox: RunningSandbox, service: str = SERVICE) -> PortfolioSnapshot:
    with PortfolioClient(sandbox.portfolio_url(service), sandbox.portfolio_token) as client:
        return client.snapshot()


def _set_up(sandbox: RunningSandbox, db: str, service: str = SERVICE, tz: str = "Australia/Sydney"):
    assert run_cli(*add_service_args(sandbox, service, tz), db=db).returncode == 0
    result = run_cli("setup", service, "--accept-proposals", "--as-of", TODAY, db=db)
    assert result.returncode == 0, result.stdout + result.stderr
    return open_store(db)


def _integrated(store, service: str = SERVICE) -> list[str]:
    return sorted(
        m.child_id
        for m in store.child_mappings(service).values()
        if m.action == "link" and m.synced_first_name is not None
    )


def _cancel_bookings(sandbox: RunningSandbox, admin: AdminClient, room_id: str) -> None:
    with CcmsClient(sandbox.ccms_url(SERVICE), sandbox.ccms_token) as ccms:
        for booking in ccms.bookings().items:
            if booking.room_id == room_id and booking.status == "placed":
                admin.cancel_booking(SERVICE, booking.id)


def _close_a_room(sandbox: RunningSandbox, admin: AdminClient, store, db: str):
    """Empty an active managed room and sync: the room is removed (archived) in the portfolio.
    Returns its room row and its portfolio room id."""
    as_of = dt.date.fromisoformat(TODAY)
    room = next(
        r for r in engine.room_rows(store, SERVICE, as_of=as_of)
        if r.action == "link" and r.active and r.removal_date is None
    )  # fmt: skip
    proom = store.room_mappings(SERVICE)[room.room_id].portfolio_room_id
    _cancel_bookings(sandbox, admin, room.room_id)
    closed = run_cli("sync", SERVICE, "--as-of", TODAY, db=db)
    assert closed.returncode == 0, closed.stdout + closed.stderr
    assert {r.id: r for r in _portfolio(sandbox).rooms}[proom].archived
    return room, proom


def test_ccms_changes_carry_over_as_the_rules_say(
    sandbox_world: RunningSandbox, sandbox_admin: AdminClient, store_url: str
) -> None:
    db = store_url
    store = _set_up(sandbox_world, db)
    assert run_cli("sync", SERVICE, "--dry-run", "--as-of", TODAY, db=db).returncode == 0

    as_of = dt.date.fromisoformat(TODAY)
    rooms = {r.room_id: r for r in engine.room_rows(store, SERVICE, as_of=as_of)}
    managed_active = sorted(
        rid
        for rid, r in rooms.items()
        if r.action == "link" and r.active and r.removal_date is None
    )
    children = {r.child_id: r for r in engine.child_rows(store, SERVICE, as_of=as_of)}
    linked = [c for c in _integrated(store) if children[c].rooms]  # booked this week
    leaver, mover, renamed = linked[0], linked[1], linked[2]
    mover_target = next(
        rid for rid in managed_active if rooms[rid].name not in children[mover].rooms
    )
    emptied = next(rid for rid in managed_active if rid != mover_target)

    new_room = sandbox_admin.add_room(SERVICE, "Lyrebirds")
    newcomer, _ = sandbox_admin.enrol(
        SERVICE,
        first_name="Zephyrine",
        last_name="Quillfeather",
        birth_date=dt.date(2023, 2, 14),
        room_id=new_room.id,
        weekdays=[1, 3],
        start_date=as_of,
    )
    sandbox_admin.leave(SERVICE, leaver, last_day=as_of - dt.timedelta(days=1))
    sandbox_admin.move(SERVICE, mover, mover_target, from_day=as_of)
    sandbox_admin.update_child(SERVICE, renamed, first_name="Rangimarie")
    _cancel_bookings(sandbox_world, sandbox_admin, emptied)

    dry = run_cli("sync", SERVICE, "--dry-run", "--as-of", TODAY, db=db)
    assert dry.returncode == 2, dry.stdout + dry.stderr
    synced = run_cli("sync", SERVICE, "--as-of", TODAY, db=db)
    assert synced.returncode == 0, synced.stdout + synced.stderr

    after = _portfolio(sandbox_world)
    maps = store.child_mappings(SERVICE)
    room_maps = store.room_mappings(SERVICE)
    profiles = {p.id: p for p in after.profiles}
    prooms = {r.id: r for r in after.rooms}

    created_room = room_maps[new_room.id].portfolio_room_id
    assert created_room and prooms[created_room].external_ref == new_room.id
    new_profile = profiles[maps[newcomer.id].profile_id]
    assert (new_profile.first_name, new_profile.external_ref) == ("Zephyrine", newcomer.id)
    assert created_room in new_profile.room_ids
    assert profiles[maps[leaver].profile_id].archived
    moved = profiles[maps[mover].profile_id]
    target_proom = room_maps[mover_target].portfolio_room_id
    assert target_proom in moved.room_ids
    assert not set(moved.room_ids) - {target_proom} & {
        m.portfolio_room_id for m in room_maps.values() if m.action == "link"
    }
    assert prooms[room_maps[emptied].portfolio_room_id].archived
    assert profiles[maps[renamed].profile_id].first_name == "Rangimarie"

    why_moved = "\n".join(engine.explain(store, SERVICE, mover, as_of=as_of))
    assert rooms[mover_target].name in why_moved
    assert "nothing to do" in why_moved
    why_left = "\n".join(engine.explain(store, SERVICE, leaver, as_of=as_of)).lower()
    assert "inactive" in why_left or "left" in why_left

    again = run_cli("sync", SERVICE, "--dry-run", "--as-of", TODAY, db=db)
    assert again.returncode == 0 and "nothing to do" in again.stdout, again.stdout


def test_a_room_booked_again_after_a_closure_is_restored_not_created_twice(
    sandbox_world: RunningSandbox, sandbox_admin: AdminClient, store_url: str
) -> None:
    """Educators keep the room they had, with its history, when the holiday is over."""
    db = store_url
    store = _set_up(sandbox_world, db)
    as_of = dt.date.fromisoformat(TODAY)
    room, proom = _close_a_room(sandbox_world, sandbox_admin, store, db)

    child = _integrated(store)[0]
    sandbox_admin.add_booking(SERVICE, child_id=child, room_id=room.room_id, start_date=as_of,
                              weekdays=[1, 2, 3, 4, 5], kind="casual")  # fmt: skip
    dry = run_cli("sync", SERVICE, "--dry-run", "--as-of", TODAY, db=db)
    assert f"restore room {room.name} (booked again)" in dry.stdout, dry.stdout
    reopened = run_cli("sync", SERVICE, "--as-of", TODAY, db=db)
    assert reopened.returncode == 0, reopened.stdout + reopened.stderr

    after = _portfolio(sandbox_world)
    rooms_for_it = [r for r in after.rooms if r.external_ref == room.room_id]
    assert [(r.id, r.archived) for r in rooms_for_it] == [(proom, False)]
    profile = store.child_mappings(SERVICE)[child].profile_id
    assert proom in {p.id: p for p in after.profiles}[profile].room_ids
    again = run_cli("sync", SERVICE, "--dry-run", "--as-of", TODAY, db=db)
    assert again.returncode == 0, again.stdout


def test_a_failed_restore_leaves_the_child_in_its_old_room(
    sandbox_world: RunningSandbox, sandbox_admin: AdminClient, store_url: str
) -> None:
    """Moved into a room that is still archived, a child would be in no room anyone sees."""
    db = store_url
    store = _set_up(sandbox_world, db)
    as_of = dt.date.fromisoformat(TODAY)
    closing, closed_proom = _close_a_room(sandbox_world, sandbox_admin, store, db)

    mover = next(r for r in engine.child_rows(store, SERVICE, as_of=as_of)
                 if r.action == "link" and r.rooms)  # fmt: skip
    profile_id = store.child_mappings(SERVICE)[mover.child_id].profile_id
    before = {p.id: p for p in _portfolio(sandbox_world).profiles}[profile_id].room_ids
    sandbox_admin.move(SERVICE, mover.child_id, closing.room_id, from_day=as_of)
    # every attempt at the restore fails (500s are retried: 6 attempts)
    sandbox_admin.set_faults(rate=1, kinds=["500"], count=6, scope="write", system="portfolio")
    failed = run_cli("sync", SERVICE, "--as-of", TODAY, db=db)
    assert failed.returncode == 1, failed.stdout + failed.stderr

    after = _portfolio(sandbox_world)
    assert {r.id: r for r in after.rooms}[closed_proom].archived
    assert {p.id: p for p in after.profiles}[profile_id].room_ids == before
    ops = store.run_ops(engine.runs(store, SERVICE)[0].run_id)
    kept = [op for op in ops if op.kind == "remove_membership"]
    assert kept and all(op.state == "failed" for op in kept)
    assert "adding it to its new room failed" in (kept[0].error or "")

    sandbox_admin.clear_faults()
    fixed = run_cli("sync", SERVICE, "--as-of", TODAY, db=db)
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    after = _portfolio(sandbox_world)
    assert not {r.id: r for r in after.rooms}[closed_proom].archived
    assert {p.id: p for p in after.profiles}[profile_id].room_ids == (closed_proom,)


def test_mass_leaving_is_held_until_approved(
    sandbox_world: RunningSandbox, sandbox_admin: AdminClient, store_url: str
) -> None:
    db = store_url
    store = _set_up(sandbox_world, db)
    leavers = _integrated(store)[:12]  # over max(3, 10 % of ~80 integrated children)
    for child_id in leavers:
        sandbox_admin.leave(SERVICE, child_id, last_day=dt.date(2026, 11, 20))

    held = run_cli("sync", SERVICE, "--as-of", TODAY, db=db)
    assert held.returncode == 3, held.stdout + held.stderr
    assert "held for approval" in held.stdout
    maps = store.child_mappings(SERVICE)
    profiles = {p.id: p for p in _portfolio(sandbox_world).profiles}
    assert not any(profiles[maps[c].profile_id].archived for c in leavers)
    assert engine.service_summary(store, SERVICE).state == "held for approval"
    run = engine.runs(store, SERVICE)[0]
    assert run.counts.get("archive_profile (held)") == len(leavers)
    assert "archive_profile" not in run.counts, "the summary must not claim held archives"

    preview = run_cli("sync", SERVICE, "--approve", "--dry-run", "--as-of", TODAY, db=db)
    assert preview.returncode == 2 and "[held]" not in preview.stdout
    assert preview.stdout.count("archive_profile") == len(leavers)
    approved = run_cli("sync", SERVICE, "--approve", "--as-of", TODAY, db=db)
    assert approved.returncode == 0, approved.stdout + approved.stderr
    profiles = {p.id: p for p in _portfolio(sandbox_world).profiles}
    assert all(profiles[maps[c].profile_id].archived for c in leavers)


def test_a_second_run_is_refused_naming_the_holder(
    sandbox_world: RunningSandbox, store_url: str
) -> None:
    db = store_url
    store = _set_up(sandbox_world, db)
    lease = dt.timedelta(seconds=60)
    assert (
        store.acquire_lock(
            SERVICE,
            token="alice-run",
            user="alice",
            host=socket.gethostname(),
            pid=os.getpid(),
            lease=lease,
        )
        is None
    )
    try:
        result = run_cli("sync", SERVICE, "--as-of", TODAY, db=db)
    finally:
        store.release_lock(SERVICE, "alice-run")
    assert result.returncode == 4
    assert "alice" in result.stdout + result.stderr
    assert str(os.getpid()) in result.stdout + result.stderr


def test_dry_run_exit_codes_and_json(sandbox_world: RunningSandbox, store_url: str) -> None:
    db = store_url
    assert (
        run_cli(*add_service_args(sandbox_world, SERVICE, "Australia/Sydney"), db=db).returncode
        == 0
    )
    not_set_up = run_cli("sync", SERVICE, "--dry-run", "--as-of", TODAY, db=db)
    assert not_set_up.returncode == 2, not_set_up.stdout  # the plan setup would carry out
    assert "not set up yet" in not_set_up.stdout and "create_profile" in not_set_up.stdout
    refused = run_cli("sync", SERVICE, "--as-of", TODAY, db=db)
    assert refused.returncode == 1 and "not set up" in refused.stdout
    _ = run_cli("setup", SERVICE, "--accept-proposals", "--as-of", TODAY, db=db)
    clean = run_cli("sync", SERVICE, "--dry-run", "--json", "--as-of", TODAY, db=db)
    assert clean.returncode == 0
    assert '"result": "no changes"' in clean.stdout
    later = run_cli("sync", SERVICE, "--dry-run", "--json", "--as-of", "2027-02-01", db=db)
    assert later.returncode == 2, later.stdout  # by February the holiday bookings have moved on
    assert '"operations"' in later.stdout


def _done_ops(db: str, service: str) -> int:
    store = open_store(db)
    try:
        runs = store.runs(service, limit=1)
        return sum(1 for op in store.run_ops(runs[0].id) if op.state == "done") if runs else 0
    finally:
        store.close()


@pytest.mark.slow
def test_a_run_killed_mid_way_resumes_without_duplicates(
    sandbox_world: RunningSandbox, sandbox_admin: AdminClient, store_url: str
) -> None:
    service = "harbour-city"
    db = store_url
    assert (
        run_cli(*add_service_args(sandbox_world, service, "Australia/Sydney"), db=db).returncode
        == 0
    )
    before = _portfolio(sandbox_world, service)
    sandbox_admin.set_faults(rate=1, kinds=["latency"], latency_ms=40, scope="write")
    env = cli_env(db, SMTUI_CCMS_TOKEN=sandbox_world.ccms_token,
                  SMTUI_PORTFOLIO_TOKEN=sandbox_world.portfolio_token)  # fmt: skip
    for kill_after in (1, 40, 400):
        command = ["setup", service, "--accept-proposals", "--as-of", TODAY]
        proc = subprocess.Popen(
            [sys.executable, "-m", "smtui", *command],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 120
        while proc.poll() is None and time.monotonic() < deadline:
            if _done_ops(db, service) >= kill_after:
                proc.send_signal(signal.SIGKILL)
                break
            time.sleep(0.05)
        proc.wait(timeout=30)
        assert proc.returncode == -signal.SIGKILL, "the run finished before it could be killed"
    sandbox_admin.clear_faults()
    final = run_cli("setup", service, "--accept-proposals", "--as-of", TODAY, db=db, timeout=300)
    assert final.returncode == 0, final.stdout + final.stderr

    after = _portfolio(sandbox_world, service)
    refs = Counter(p.external_ref for p in after.profiles if p.external_ref)
    assert refs and max(refs.values()) == 1, "a child has two profiles"
    room_refs = Counter(r.external_ref for r in after.rooms if r.external_ref)
    assert max(room_refs.values()) == 1, "a room was created twice"
    store = open_store(db)
    created = sum(1 for p in after.profiles if p.id not in {q.id for q in before.profiles})
    creates = sum(
        1 for m in store.child_mappings(service).values()
        if m.profile_id and m.profile_id not in {q.id for q in before.profiles}
    )  # fmt: skip
    assert created == creates
    again = run_cli("sync", service, "--dry-run", "--as-of", TODAY, db=db, timeout=300)
    assert again.returncode == 0, again.stdout


def test_cron_syncs_only_services_that_are_set_up_and_due(
    sandbox_world: RunningSandbox, store_url: str
) -> None:
    db = store_url
    store = _set_up(sandbox_world, db)
    other = add_service_args(sandbox_world, "gumnut-grove", "Australia/Brisbane")
    assert run_cli(*other, db=db).returncode == 0  # added, never set up: cron must not touch it

    just_synced = run_cli("sync", "--all", "--as-of", TODAY, db=db)
    assert just_synced.returncode == 0 and "No service is due" in just_synced.stdout

    store.update_service(SERVICE, interval_hours=0)
    due = run_cli("sync", "--all", "--json", "--as-of", TODAY, db=db)
    assert due.returncode == 0, due.stdout + due.stderr
    assert '"service": "sunny-hill"' in due.stdout and "gumnut-grove" not in due.stdout
    assert engine.service_summary(store, "gumnut-grove").state == "not set up"
