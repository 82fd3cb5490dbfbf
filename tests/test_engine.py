"""Engine behaviour the TUI relies on, through the real engine, store and sandbox."""

from __future__ import annotations

import datetime as dt
import os

import pytest

from smtui import engine
from smtui.connectors import PortfolioClient
from smtui.sandbox.admin import AdminClient
from smtui.sandbox.server import RunningSandbox
from smtui.store import ServiceConfig

SERVICE = "little-wattle"
TODAY = dt.date(2026, 11, 23)


@pytest.fixture
def store(sandbox_world: RunningSandbox, store_url: str, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("SMTUI_TEST_CCMS", sandbox_world.ccms_token)
    monkeypatch.setenv("SMTUI_TEST_PORTFOLIO", sandbox_world.portfolio_token)
    s = engine.open_store(store_url)
    engine.add_service(
        s,
        ServiceConfig(
            name=SERVICE,
            ccms_url=sandbox_world.ccms_url(SERVICE),
            portfolio_url=sandbox_world.portfolio_url(SERVICE),
            ccms_token_env="SMTUI_TEST_CCMS",
            portfolio_token_env="SMTUI_TEST_PORTFOLIO",
            timezone="Australia/Melbourne",
        ),
    )
    engine.refresh(s, SERVICE)
    yield s
    s.close()


def test_a_plan_whose_inputs_changed_is_refused_as_stale(
    store, sandbox_world: RunningSandbox, sandbox_admin: AdminClient
) -> None:
    shown = engine.preview(store, SERVICE, as_of=TODAY)
    assert not shown.is_empty
    room = engine.room_rows(store, SERVICE, as_of=TODAY)[0].room_id
    sandbox_admin.enrol(SERVICE, first_name="Tama", last_name="Ruatapu", room_id=room,
                        weekdays=[2], birth_date=dt.date(2023, 5, 5), start_date=TODAY)  # fmt: skip
    with pytest.raises(engine.StalePlan):
        engine.run_sync(store, SERVICE, setup=True, fingerprint=shown.fingerprint, as_of=TODAY)
    assert engine.service_config(store, SERVICE).set_up_at is None
    assert engine.runs(store, SERVICE)[0].result == "failed"
    with PortfolioClient(sandbox_world.portfolio_url(SERVICE), sandbox_world.portfolio_token) as c:
        assert not [p for p in c.profiles().items if p.external_ref], "something was applied"
    again = engine.preview(store, SERVICE, as_of=TODAY)
    assert again.fingerprint != shown.fingerprint
    assert again.counts["create_profile"] == shown.counts.get("create_profile", 0) + 1


def test_the_confirmed_plan_is_applied_exactly(store) -> None:
    shown = engine.preview(store, SERVICE, as_of=TODAY)
    result = engine.run_sync(store, SERVICE, setup=True, fingerprint=shown.fingerprint, as_of=TODAY)
    assert result.run.result == "ok"
    assert result.plan.fingerprint == shown.fingerprint
    assert result.outcome.done == sum(shown.counts.values())
    assert engine.preview(store, SERVICE, as_of=TODAY).is_empty


def test_lock_names_its_holder(store) -> None:
    lease = dt.timedelta(seconds=60)
    assert (
        store.acquire_lock(
            SERVICE, token="t", user="bob", host="support-1", pid=os.getpid(), lease=lease
        )
        is None
    )
    try:
        with pytest.raises(engine.Locked, match=r"bob@support-1 \(pid \d+\)"):
            engine.run_sync(store, SERVICE, setup=True, as_of=TODAY)
    finally:
        store.release_lock(SERVICE, "t")


def test_two_children_on_one_profile_are_left_alone_and_explain_says_why(store) -> None:
    engine.run_sync(store, SERVICE, setup=True, as_of=TODAY)
    rows = engine.child_rows(store, SERVICE, as_of=TODAY)
    first, second = [r for r in rows if r.action == "link" and r.profile_id][:2]
    engine.set_children(store, SERVICE, [second.child_id], "link",
                        profile_id=first.profile_id, who="tester")  # fmt: skip

    result = engine.run_sync(store, SERVICE, as_of=TODAY)
    assert not {op.child_id for op in result.plan.operations} & {first.child_id, second.child_id}
    with PortfolioClient(
        store.get_service(SERVICE).portfolio_url, os.environ["SMTUI_TEST_PORTFOLIO"]
    ) as c:
        profile = c.get_profile(first.profile_id)
    assert profile.external_ref == first.child_id, "the profile still belongs to its child"
    why = engine.explain(store, SERVICE, second.child_id, as_of=TODAY)
    assert any(
        line.startswith(f"warning: profile {first.profile_id} is linked to 2 children")
        for line in why
    )


def test_explain_says_a_child_waiting_for_review_is_not_added(store) -> None:
    rows = engine.child_rows(store, SERVICE, as_of=TODAY)
    review, other = next(r for r in rows if r.action == "review"), rows[0]
    why = engine.explain(store, SERVICE, review.child_id, as_of=TODAY)
    assert "next sync: not added until a person decides (link, create or don't add)" in why
    engine.set_children(store, SERVICE, [other.child_id], "ignore", who="tester")
    why = engine.explain(store, SERVICE, other.child_id, as_of=TODAY)
    assert "next sync: never touches this child (don't add)" in why


def test_the_summary_counts_children_on_live_profiles_and_says_when_cron_syncs_next(
    store, sandbox_world: RunningSandbox
) -> None:
    """The home screen's numbers: children linked to a live profile (the count the holds use)
    and the time ``sync --all`` picks the service up (due at once after setup until a run
    succeeds, then one interval after the last success)."""
    before = engine.service_summary(store, SERVICE)
    assert (before.integrated_children, before.next_due) == (0, None)  # not set up
    engine.run_sync(store, SERVICE, setup=True, as_of=TODAY)
    summary = engine.service_summary(store, SERVICE)
    with PortfolioClient(sandbox_world.portfolio_url(SERVICE), sandbox_world.portfolio_token) as c:
        linked = {p.external_ref for p in c.profiles().items if p.external_ref and not p.archived}
    assert summary.integrated_children == len(linked) > 0
    cfg, last_ok = engine.service_config(store, SERVICE), store.last_success(SERVICE)
    due = cfg.set_up_at if last_ok is None else last_ok + dt.timedelta(hours=cfg.interval_hours)
    assert summary.next_due == due and engine.due_services(store, due) == [SERVICE]
