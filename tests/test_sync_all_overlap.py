"""Overlapping `smtui sync --all` runs (cron on several machines, or a slow run still going when
the next hour's starts) share the due services out: each is synced exactly once, and a service
another run has is not an error, so every run exits 0. On SQLite and, under SMTUI_TEST_DB, on
PostgreSQL (`FOR UPDATE SKIP LOCKED`)."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from typing import Any

import pytest
from sqlalchemy import select, update

from smtui import engine
from smtui.engine.lease import claim_due
from smtui.sandbox.server import RunningSandbox
from smtui.store import ServiceConfig, Store, open_store
from smtui.store.tables import RUN
from tests.cli_helpers import cli_env, run_cli

SERVICES = ("little-wattle", "gumnut-grove", "kowhai-kids")
TODAY = "2026-11-23"
LEASE = dt.timedelta(seconds=60)


def _set_up_and_make_due(sandbox: RunningSandbox, store: Store) -> None:
    """Each service set up against the sandbox, its last success 13 hours ago (12 h interval)."""
    for name in SERVICES:
        engine.add_service(
            store,
            ServiceConfig(
                name=name,
                ccms_url=sandbox.ccms_url(name),
                portfolio_url=sandbox.portfolio_url(name),
                ccms_token_env="SMTUI_CCMS_TOKEN",
                portfolio_token_env="SMTUI_PORTFOLIO_TOKEN",
            ),
        )
        engine.refresh(store, name)
        setup = engine.run_sync(store, name, setup=True, as_of=dt.date.fromisoformat(TODAY))
        assert setup.run.result == "ok", setup.run.message
    assert store.due_services() == []
    with store.write_engine.begin() as conn:
        for run_id, finished in conn.execute(select(RUN.c.id, RUN.c.finished_at)).all():
            earlier = finished - dt.timedelta(hours=13)
            conn.execute(update(RUN).where(RUN.c.id == run_id).values(finished_at=earlier))
    for name in SERVICES:
        store.update_service(name, interval_hours=12)  # recomputes next_due_at
    assert sorted(store.due_services()) == sorted(SERVICES)


def test_overlapping_sync_all_runs_sync_each_due_service_once_and_all_exit_0(
    sandbox_world: RunningSandbox, store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SMTUI_CCMS_TOKEN", sandbox_world.ccms_token)
    monkeypatch.setenv("SMTUI_PORTFOLIO_TOKEN", sandbox_world.portfolio_token)
    with open_store(store_url) as store:
        _set_up_and_make_due(sandbox_world, store)

    env = cli_env(store_url, SMTUI_HOSTNAME="cron-host")
    runs = [
        subprocess.Popen(
            [sys.executable, "-m", "smtui", "sync", "--all", "--as-of", TODAY],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
            env={**env, "SMTUI_HOSTNAME": f"machine-{i}"},
        )
        for i in range(3)
    ]
    outputs = [p.communicate(timeout=300) for p in runs]
    for p, (out, err) in zip(runs, outputs, strict=True):
        assert p.returncode == 0, out + err
        assert "Traceback" not in err and "locked" not in out, out + err

    with open_store(store_url) as store:
        for name in SERVICES:
            syncs = [r for r in store.runs(name) if r.kind == "sync"]
            assert [r.result for r in syncs] == ["ok"], (name, outputs)
        assert store.due_services() == []
    reported = sorted(
        line.split(":")[0] for out, _err in outputs for line in out.splitlines() if ": ok" in line
    )
    assert reported == sorted(SERVICES), outputs

    again = run_cli("sync", "--all", "--as-of", TODAY, db=store_url)
    assert again.returncode == 0 and "No service is due" in again.stdout, again.stderr


def test_a_claim_passes_over_a_service_another_run_holds(
    sandbox_world: RunningSandbox, store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two runs claim different services; with every due service claimed a third finds none
    and says so; a lease that ran out (its run died elsewhere) is claimed again."""
    monkeypatch.setenv("SMTUI_CCMS_TOKEN", sandbox_world.ccms_token)
    monkeypatch.setenv("SMTUI_PORTFOLIO_TOKEN", sandbox_world.portfolio_token)
    with open_store(store_url) as store:
        _set_up_and_make_due(sandbox_world, store)
        claims: dict[str, str] = {}
        for token in ("a", "b", "c"):
            claimed = store.claim_due(
                token=token, user="cron", host="elsewhere", pid=1, lease=LEASE
            )
            assert claimed is not None, f"claim {token} found nothing"
            claims[token] = claimed
        assert sorted(claims.values()) == sorted(SERVICES)
        assert store.claim_due(token="d", user="cron", host="elsewhere", pid=1, lease=LEASE) is None

        busy = run_cli("sync", "--all", "--as-of", TODAY, db=store_url)
        assert busy.returncode == 0, busy.stderr
        assert "being synced by another run" in busy.stdout, busy.stdout
        named = run_cli("sync", claims["a"], "--as-of", TODAY, db=store_url)
        assert named.returncode == 4, named.stdout + named.stderr  # a person asked for that one

        store.release_lock(claims["a"], "a")
        store.claim_due(token="e", user="cron", host="elsewhere", pid=1, lease=-LEASE)
        taken = store.claim_due(token="f", user="cron", host="elsewhere", pid=1, lease=LEASE)
        assert taken == claims["a"]  # e's lease had already run out
        holder = store.lock_holder(taken)
        assert holder is not None and holder.token == "f"


class FinishedElsewhere(Store):
    """The real store, where another machine's run of the first service claimed finishes it
    between the claim and the re-check (its new next due time is saved, its lease released)."""

    def claim_due(self, **kwargs: Any) -> str | None:
        name = super().claim_due(**kwargs)
        if name is not None and not hasattr(self, "finished"):
            self.finished = name
            self.update_service(name, interval_hours=24)  # last success 13 h ago: due in 11 h
        return name


def test_a_service_finished_elsewhere_just_before_the_claim_is_let_go(
    sandbox_world: RunningSandbox, store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SMTUI_CCMS_TOKEN", sandbox_world.ccms_token)
    monkeypatch.setenv("SMTUI_PORTFOLIO_TOKEN", sandbox_world.portfolio_token)
    with open_store(store_url) as store:
        _set_up_and_make_due(sandbox_world, store)
        racing = FinishedElsewhere(store.engine)
        with claim_due(racing) as name:
            assert name is not None and name != racing.finished
            assert racing.lock_holder(racing.finished) is None  # let go, not held while idle
            assert racing.lock_holder(name) is not None
        assert racing.lock_holder(name) is None
        assert racing.finished not in racing.due_services()
