"""Reads that mislead and leaving in waves: held for a person, through the real CLI. A held run
exits 3 with the reason; an approval applies the held set the person saw, or nothing."""

from __future__ import annotations

import datetime as dt
import json

from smtui.connectors import PortfolioClient
from smtui.sandbox.admin import AdminClient
from smtui.sandbox.server import RunningSandbox
from smtui.store import Store, open_store
from tests.cli_helpers import add_service_args, run_cli

SERVICE = "sunny-hill"
SMALL = "gumnut-grove"  # a much smaller service of the sandbox
TODAY = "2026-11-23"
LAST_DAY = dt.date(2026, 11, 20)


def _set_up(sandbox: RunningSandbox, db: str) -> Store:
    assert run_cli(*add_service_args(sandbox, SERVICE, "Australia/Sydney"), db=db).returncode == 0
    result = run_cli("setup", SERVICE, "--accept-proposals", "--as-of", TODAY, db=db)
    assert result.returncode == 0, result.stdout + result.stderr
    return open_store(db)


def _integrated(store: Store) -> list[str]:
    return sorted(
        m.child_id
        for m in store.child_mappings(SERVICE).values()
        if m.action == "link" and m.synced_first_name is not None
    )


def _archived(sandbox: RunningSandbox) -> set[str]:
    with PortfolioClient(sandbox.portfolio_url(SERVICE), sandbox.portfolio_token) as client:
        return {p.id for p in client.snapshot().profiles if p.archived}


def test_a_complete_list_far_smaller_than_the_integrated_count_is_held(
    sandbox_world: RunningSandbox, store_url: str
) -> None:
    db = store_url
    _set_up(sandbox_world, db)
    archived_before = _archived(sandbox_world)
    # the CCMS URL now answers with another, much smaller service's children: a complete read
    moved = run_cli("service", "set", SERVICE, "--ccms-url", sandbox_world.ccms_url(SMALL), db=db)
    assert moved.returncode == 0, moved.stderr
    result = run_cli("sync", SERVICE, "--json", "--as-of", TODAY, db=db)
    assert result.returncode == 3, result.stdout + result.stderr
    (entry,) = json.loads(result.stdout)
    assert entry["result"] == "held"
    (warning,) = [w for w in entry["warnings"] if w["kind"] == "read_suspicious"]
    assert "children while" in warning["text"] and "held for approval" in warning["text"]
    assert _archived(sandbox_world) == archived_before, "nothing was archived"


def test_leavers_over_several_runs_are_held_once_the_window_adds_up(
    sandbox_world: RunningSandbox, sandbox_admin: AdminClient, store_url: str
) -> None:
    db = store_url
    store = _set_up(sandbox_world, db)
    children = _integrated(store)

    def limit(run: int) -> float:
        """The planner's limit at run ``run`` (from 0): 10 % of the children integrated then,
        the earlier waves' archived profiles no longer among them."""
        return max(3, 0.10 * (len(children) - 3 * run))

    waves = [children[i : i + 3] for i in range(0, 30, 3)]
    codes = []
    for wave in waves:
        for child_id in wave:
            sandbox_admin.leave(SERVICE, child_id, last_day=LAST_DAY)
        codes.append(run_cli("sync", SERVICE, "--as-of", TODAY, db=db).returncode)
        if codes[-1] == 3:
            break
    # waves of 3 are each under the limit, but not together within the window
    assert codes[-1] == 3 and set(codes[:-1]) == {0}, codes
    assert all(3 * (run + 1) <= limit(run) for run in range(len(codes) - 1))
    assert 3 * len(codes) > limit(len(codes) - 1)
    held = run_cli("log", SERVICE, db=db).stdout
    assert "held" in held

    # one more leaver: the held set is not the one a person saw, so approving applies nothing
    sandbox_admin.leave(SERVICE, children[40], last_day=LAST_DAY)
    archived = _archived(sandbox_world)
    refused = run_cli("sync", SERVICE, "--approve", "--as-of", TODAY, db=db)
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert "not the set that was approved" in refused.stdout + refused.stderr
    assert _archived(sandbox_world) == archived

    # a fresh held run shows the new set; approving it applies exactly that
    again = run_cli("sync", SERVICE, "--as-of", TODAY, db=db)
    assert again.returncode == 3
    approved = run_cli("sync", SERVICE, "--approve", "--as-of", TODAY, db=db)
    assert approved.returncode == 0, approved.stdout + approved.stderr
    maps = store.child_mappings(SERVICE)
    wanted = {maps[c].profile_id for c in [*waves[len(codes) - 1], children[40]]}
    assert wanted <= _archived(sandbox_world)


def test_a_run_whose_writes_all_failed_says_so(
    sandbox_world: RunningSandbox, sandbox_admin: AdminClient, store_url: str
) -> None:
    db = store_url
    store = _set_up(sandbox_world, db)
    for child_id in _integrated(store)[:2]:
        sandbox_admin.leave(SERVICE, child_id, last_day=LAST_DAY)
    sandbox_admin.set_faults(rate=1, kinds=["500"], scope="write")
    try:
        result = run_cli("sync", SERVICE, "--json", "--as-of", TODAY, db=db, timeout=300)
    finally:
        sandbox_admin.clear_faults()
    assert result.returncode == 1
    (entry,) = json.loads(result.stdout)
    assert entry["result"] == "failed"
    assert entry["outcome"]["done"] == 0 and entry["outcome"]["unknown"] == 2
    assert "line" not in entry  # the human line is not data (docs/cli-json.md)
