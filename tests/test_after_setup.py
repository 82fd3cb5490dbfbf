"""Changes a person makes after setup, through the real CLI against the real sandbox: each goes
through on the next sync with exit 0, exactly as the dry run showed, and a second sync plans
nothing. Also: one applier per service, whoever and wherever it runs."""

from __future__ import annotations

import datetime as dt
import json
import signal
import subprocess
import sys
import time
from collections import Counter

import pytest

from smtui import engine
from smtui.connectors import PortfolioClient
from smtui.records import PortfolioSnapshot
from smtui.sandbox.admin import AdminClient
from smtui.sandbox.server import RunningSandbox
from smtui.store import Store, open_store
from tests import pg_helpers
from tests.cli_helpers import add_service_args, cli_env, run_cli

SERVICE = "sunny-hill"
TODAY = "2026-11-23"


def _portfolio(sandbox: RunningSandbox) -> PortfolioSnapshot:
    with PortfolioClient(sandbox.portfolio_url(SERVICE), sandbox.portfolio_token) as client:
        return client.snapshot()


def _set_up(sandbox: RunningSandbox, db: str) -> Store:
    assert run_cli(*add_service_args(sandbox, SERVICE, "Australia/Sydney"), db=db).returncode == 0
    result = run_cli("setup", SERVICE, "--accept-proposals", "--as-of", TODAY, db=db)
    assert result.returncode == 0, result.stdout + result.stderr
    return open_store(db)


def _dry_run(db: str) -> dict:
    result = run_cli("sync", SERVICE, "--dry-run", "--json", "--as-of", TODAY, db=db)
    assert result.returncode in (0, 2), result.stdout + result.stderr
    return json.loads(result.stdout)[0]


def _sync_applies_exactly_the_dry_run(db: str) -> dict:
    """The dry run's operations are what the sync does, it ends ok, and then nothing is left."""
    shown = _dry_run(db)
    result = run_cli("sync", SERVICE, "--json", "--as-of", TODAY, db=db)
    assert result.returncode == 0, result.stdout + result.stderr
    done = json.loads(result.stdout)[0]
    assert done["result"] == "ok" and done["failed"] == 0
    assert done["counts"] == shown["counts"]
    again = run_cli("sync", SERVICE, "--dry-run", "--as-of", TODAY, db=db)
    assert again.returncode == 0, again.stdout  # a second sync plans nothing
    return shown


def _one_live_record_per_ccms_id(after: PortfolioSnapshot) -> None:
    refs = Counter(p.external_ref for p in after.profiles if p.external_ref and not p.archived)
    assert max(refs.values()) == 1, "a CCMS id on two profiles"
    room_refs = Counter(r.external_ref for r in after.rooms if r.external_ref and not r.archived)
    assert max(room_refs.values()) == 1, "a CCMS room id on two rooms"


def _linked_child(store: Store) -> tuple[str, str]:
    """A linked child booked into a room now (so a new profile for it can be created)."""
    row = next(
        r
        for r in engine.child_rows(store, SERVICE, as_of=dt.date.fromisoformat(TODAY))
        if r.action == "link" and r.rooms and r.status == "active"
    )
    assert row.profile_id is not None
    return row.child_id, row.profile_id


def _free_profile(sandbox: RunningSandbox) -> str:
    """A live profile no child is linked to and that carries no CCMS id."""
    return next(
        p.id for p in _portfolio(sandbox).profiles if p.external_ref is None and not p.archived
    )


def test_relinking_a_child_moves_its_ccms_id_and_keeps_the_old_profile(
    sandbox_world: RunningSandbox, store_url: str
) -> None:
    db = store_url
    store = _set_up(sandbox_world, db)
    child, old = _linked_child(store)
    new = _free_profile(sandbox_world)
    assert run_cli("mapping", "set", SERVICE, child, f"link:{new}", db=db).returncode == 0
    shown = _sync_applies_exactly_the_dry_run(db)
    assert shown["counts"]["release_profile"] == 1 and shown["counts"]["link_profile"] == 1
    labels = [op["label"] for op in shown["operations"]]
    assert any(label.endswith(f": from {old} to {new}") for label in labels), labels
    after = {p.id: p for p in _portfolio(sandbox_world).profiles}
    assert after[new].external_ref == child
    assert after[old].external_ref is None and not after[old].archived  # kept as it is
    _one_live_record_per_ccms_id(_portfolio(sandbox_world))
    explained = run_cli("explain", SERVICE, child, "--as-of", TODAY, db=db)
    assert f"-> profile {new}" in explained.stdout

    # link -> create: a new profile, the linked one released
    assert run_cli("mapping", "set", SERVICE, child, "create", db=db).returncode == 0
    shown = _sync_applies_exactly_the_dry_run(db)
    assert shown["counts"] == {"release_profile": 1, "create_profile": 1}, shown
    after = {p.id: p for p in _portfolio(sandbox_world).profiles}
    assert after[new].external_ref is None and not after[new].archived
    created = [p for p in after.values() if p.external_ref == child]
    assert len(created) == 1 and created[0].id not in (old, new)

    # link -> don't add: released, not archived; don't add -> link brings it back
    assert run_cli("mapping", "set", SERVICE, child, "ignore", db=db).returncode == 0
    shown = _sync_applies_exactly_the_dry_run(db)
    assert shown["counts"] == {"release_profile": 1}
    assert "not archived" in shown["operations"][0]["label"]
    assert not {p.id: p for p in _portfolio(sandbox_world).profiles}[created[0].id].archived
    assert run_cli("mapping", "set", SERVICE, child, f"link:{old}", db=db).returncode == 0
    shown = _sync_applies_exactly_the_dry_run(db)
    assert shown["counts"]["link_profile"] == 1
    assert {p.id: p for p in _portfolio(sandbox_world).profiles}[old].external_ref == child
    _one_live_record_per_ccms_id(_portfolio(sandbox_world))


def _linked_active_room(store: Store) -> tuple[str, str]:
    as_of = dt.date.fromisoformat(TODAY)
    row = next(
        r
        for r in engine.room_rows(store, SERVICE, as_of=as_of)
        if r.action == "link" and r.active and r.removal_date is None
    )
    assert row.portfolio_room_id is not None
    return row.room_id, row.portfolio_room_id


def test_room_create_relink_unlink_and_relink_after_setup(
    sandbox_world: RunningSandbox, store_url: str
) -> None:
    db = store_url
    store = _set_up(sandbox_world, db)
    room, old = _linked_active_room(store)

    # link -> create: a new room is created (it was linked anyway before the fix)
    assert run_cli("mapping", "room", SERVICE, room, "create", db=db).returncode == 0
    shown = _sync_applies_exactly_the_dry_run(db)
    assert shown["counts"]["release_room"] == 1 and shown["counts"]["create_room"] == 1
    rooms = {r.id: r for r in _portfolio(sandbox_world).rooms}
    assert rooms[old].external_ref is None and not rooms[old].archived
    (created,) = [r for r in rooms.values() if r.external_ref == room]
    assert created.id != old
    members = [p for p in _portfolio(sandbox_world).profiles if created.id in p.room_ids]
    assert members, "the children booked in the room joined the new one"

    # create -> link (back to the old room): the created one is released
    assert run_cli("mapping", "room", SERVICE, room, f"link:{old}", db=db).returncode == 0
    shown = _sync_applies_exactly_the_dry_run(db)
    assert shown["counts"]["release_room"] == 1 and shown["counts"]["link_room"] == 1
    rooms = {r.id: r for r in _portfolio(sandbox_world).rooms}
    assert rooms[old].external_ref == room and rooms[created.id].external_ref is None

    # unlink for a holiday: the sync never touches it; relink: as before, nothing to redo
    assert run_cli("mapping", "room", SERVICE, room, "ignore", db=db).returncode == 0
    assert run_cli("sync", SERVICE, "--dry-run", "--as-of", TODAY, db=db).returncode in (0, 2)
    assert run_cli("mapping", "room", SERVICE, room, "relink", db=db).returncode == 0
    assert store.room_mappings(SERVICE)[room].portfolio_room_id == old
    _sync_applies_exactly_the_dry_run(db)
    _one_live_record_per_ccms_id(_portfolio(sandbox_world))


def test_a_turned_off_service_is_never_read_and_turning_on_starts_afresh(
    sandbox_world: RunningSandbox, store_url: str
) -> None:
    db = store_url
    store = _set_up(sandbox_world, db)
    off = run_cli("service", "set", SERVICE, "--off", "--purge", db=db)
    assert off.returncode == 0, off.stderr
    for command in (["refresh", SERVICE], ["sync", SERVICE], ["sync", SERVICE, "--dry-run"]):
        result = run_cli(*command, db=db)
        assert result.returncode == 1, (command, result.stdout, result.stderr)
        out = result.stdout + result.stderr
        assert f"{SERVICE} is turned off: `smtui service set {SERVICE} --on` turns it on" in out
        assert "Traceback" not in out
    assert store.load_ccms_snapshot(SERVICE) is None  # nothing was read again
    assert run_cli("service", "set", SERVICE, "--on", db=db).returncode == 0
    # the purge forgot the values last synced: the first run reads afresh and records them
    # (no profile is created or changed), after which nothing is left to do
    shown = _sync_applies_exactly_the_dry_run(db)
    assert set(shown["counts"]) <= {"update_profile"}, shown["counts"]


def _hold(store: Store, *, host: str, seconds: float) -> None:
    store.acquire_lock(
        SERVICE,
        token="far-run",
        user="cron",
        host=host,
        pid=1,
        lease=dt.timedelta(seconds=seconds),
    )


def test_a_run_on_another_host_blocks_until_its_lease_ends_and_unlock_frees_it(
    sandbox_world: RunningSandbox, store_url: str
) -> None:
    db = store_url
    store = _set_up(sandbox_world, db)
    held_at = time.monotonic()
    _hold(store, host="worker-2", seconds=20)  # long enough for a loaded machine's CLI start
    blocked = run_cli("sync", SERVICE, "--as-of", TODAY, db=db)
    assert blocked.returncode == 4, blocked.stdout + blocked.stderr
    assert "cron@worker-2" in blocked.stdout + blocked.stderr
    time.sleep(max(0.0, 20.2 - (time.monotonic() - held_at)))
    assert run_cli("sync", SERVICE, "--as-of", TODAY, db=db).returncode == 0  # lease ran out

    _hold(store, host="worker-2", seconds=600)
    assert run_cli("sync", SERVICE, "--as-of", TODAY, db=db).returncode == 4
    unlocked = run_cli("service", "unlock", SERVICE, db=db)
    assert unlocked.returncode == 0
    assert "unlocked; it was held by cron@worker-2 (pid 1)" in unlocked.stdout
    assert run_cli("sync", SERVICE, "--as-of", TODAY, db=db).returncode == 0
    assert "not locked" in run_cli("service", "unlock", SERVICE, db=db).stdout


def _ops_done(db: str) -> int:
    [(done,)] = pg_helpers.rows(db, "SELECT count(*) FROM journal_op WHERE state = 'done'")
    assert isinstance(done, int)
    return done


def test_a_killed_holder_on_another_host_frees_the_service_within_its_lease(
    sandbox_world: RunningSandbox,
    sandbox_admin: AdminClient,
    store_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    db = store_url
    add = add_service_args(sandbox_world, SERVICE, "Australia/Sydney")
    assert run_cli(*add, db=db).returncode == 0
    sandbox_admin.set_faults(rate=1, kinds=["latency"], latency_ms=100, scope="write")
    lease = 5.0
    setup = ["setup", SERVICE, "--accept-proposals", "--as-of", TODAY]
    env = cli_env(db, SMTUI_HOSTNAME="worker-1", SMTUI_LOCK_LEASE_SECONDS=str(lease))
    proc = subprocess.Popen(
        [sys.executable, "-m", "smtui", *setup],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while _ops_done(db) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        sandbox_admin.clear_faults()
    assert proc.returncode == -signal.SIGKILL
    store = open_store(db)
    assert store.runs(SERVICE)[0].result == "running", "the run ended before it was killed"
    holder = store.lock_holder(SERVICE)
    assert holder is not None and holder.host == "worker-1" and holder.expires_at is not None
    # another host, while the dead run's lease lasts: refused, naming the holder
    monkeypatch.setenv("SMTUI_HOSTNAME", "worker-2")
    if dt.datetime.now(dt.UTC) < holder.expires_at - dt.timedelta(seconds=1):
        with pytest.raises(engine.Locked, match="worker-1"):
            engine.run_sync(store, SERVICE, setup=True, as_of=dt.date.fromisoformat(TODAY))
    # once it has run out, the next run takes over and finishes the setup
    wait = (holder.expires_at - dt.datetime.now(dt.UTC)).total_seconds()
    time.sleep(max(0.0, wait + 0.2))
    store.close()
    done = run_cli(*setup, db=db, env={"SMTUI_HOSTNAME": "worker-2"})
    assert done.returncode == 0, done.stdout + done.stderr
    _one_live_record_per_ccms_id(_portfolio(sandbox_world))
    with open_store(db) as fresh:
        killed_run = fresh.runs(SERVICE)[-1]
    assert killed_run.result == "failed" and "interrupted" in killed_run.summary["message"]
