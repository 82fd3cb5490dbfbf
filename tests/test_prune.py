"""`smtui prune` through the real CLI on a real SQLite file: old finished runs and their journal
go; what next due, a resumed run or a create's Idempotency-Key still needs stays."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import sqlalchemy as sa

from smtui.store import ServiceConfig, open_store
from smtui.store.store import RUN
from tests.cli_helpers import run_cli


def _journal(db: Path) -> dict[str, int]:
    """Four runs of 200 days ago, by what they hold; returns name -> run id."""
    ids = {}
    with open_store(str(db)) as store:
        store.add_service(
            ServiceConfig(
                name="sunny", ccms_url="http://127.0.0.1:1/c", portfolio_url="http://127.0.0.1:1/p"
            )
        )
        for name, result, op_kind, op_state in [
            ("old-ok", "ok", "update_profile", "done"),
            ("old-failed", "failed", "archive_profile", "failed"),
            ("unfinished", "failed", "update_profile", "planned"),
            ("setup", "ok", "create_profile", "done"),
            ("last-ok", "ok", "update_profile", "done"),
        ]:
            run_id = store.start_run(
                "sunny", kind="sync", dry_run=False, as_of=None, fingerprint=None, who="cron"
            )
            store.record_ops(
                run_id,
                "sunny",
                [{"op_id": f"{op_kind}:c1", "kind": op_kind, "label": "Ava", "state": op_state}],
            )
            store.finish_run(run_id, result, {})
            ids[name] = run_id
        with store.write_engine.begin() as conn:
            conn.execute(
                sa.update(RUN).values(finished_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=200))
            )
    return ids


def _run_ids(db: Path) -> set[int]:
    with open_store(str(db)) as store:
        return {r.id for r in store.runs("sunny")}


def test_prune_deletes_old_runs_and_keeps_what_is_still_needed(tmp_path: Path) -> None:
    db = tmp_path / "smtui.db"
    ids = _journal(db)

    dry = run_cli("prune", "--dry-run", db=db)
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.strip() == (
        "would delete 2 run(s) and 2 journal op(s) finished more than 90 day(s) ago"
    )
    assert _run_ids(db) == set(ids.values())

    done = run_cli("prune", db=db)
    assert done.returncode == 0, done.stderr
    assert (
        done.stdout.strip()
        == "deleted 2 run(s) and 2 journal op(s) finished more than 90 day(s) ago"
    )
    assert _run_ids(db) == {ids["unfinished"], ids["setup"], ids["last-ok"]}
    with open_store(str(db)) as store:
        assert store.done_counts("sunny", ["create_profile"]) == {"create_profile:c1": 1}
        assert [o.op_id for o in store.unfinished_ops("sunny")] == ["update_profile:c1"]

    again = run_cli("prune", "--older-than", "365", db=db)
    assert again.stdout.strip().startswith("deleted 0 run(s)")


def test_prune_refuses_an_age_of_zero_days_and_deletes_nothing(tmp_path: Path) -> None:
    db = tmp_path / "smtui.db"
    ids = _journal(db)
    result = run_cli("prune", "--older-than", "0", db=db)
    assert result.returncode == 1
    assert "'--older-than': 0 is not in the range x>=1" in result.stderr
    assert "Traceback" not in result.stderr
    assert _run_ids(db) == set(ids.values())


def _make_due(db: Path) -> None:
    """sunny connected a day ago and due now (its URLs answer nothing: the sync fails)."""
    day_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    with open_store(str(db)) as store:
        store.update_service("sunny", set_up_at=day_ago)
        assert store.due_services() == ["sunny"]


def test_cron_sync_all_prunes_past_the_configured_age(tmp_path: Path) -> None:
    db = tmp_path / "smtui.db"
    ids = _journal(db)
    _make_due(db)

    result = run_cli("sync", "--all", db=db, env={"SMTUI_KEEP_RUNS_DAYS": "365"})
    assert "sunny" in result.stdout
    assert _run_ids(db) >= set(ids.values()), "200-day-old runs are kept at 365 days"

    result = run_cli("sync", "--all", db=db)  # the default: 90 days
    assert "Traceback" not in result.stderr
    kept = _run_ids(db)
    assert ids["old-ok"] not in kept and ids["old-failed"] not in kept
    assert {ids["unfinished"], ids["setup"], ids["last-ok"]} <= kept
    assert len(kept - set(ids.values())) == 2, "the two new runs (failed: no server) stay"


def test_automatic_pruning_turned_off_or_misconfigured_deletes_nothing(tmp_path: Path) -> None:
    db = tmp_path / "smtui.db"
    ids = _journal(db)
    _make_due(db)

    off = run_cli("sync", "--all", db=db, env={"SMTUI_KEEP_RUNS_DAYS": "0"})
    assert "sunny" in off.stdout
    bad = run_cli("sync", "--all", db=db, env={"SMTUI_KEEP_RUNS_DAYS": "ninety"})
    assert "warning: runs not pruned: SMTUI_KEEP_RUNS_DAYS must be a whole number" in bad.stderr
    assert "Traceback" not in bad.stderr
    assert bad.returncode == off.returncode, "the warning leaves the syncs' exit code alone"
    assert _run_ids(db) >= set(ids.values())
