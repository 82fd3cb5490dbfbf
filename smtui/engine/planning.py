"""The plan a service's next run would carry out, and how a person is shown it."""

from __future__ import annotations

import datetime as dt

from smtui import rules
from smtui.engine.reading import cached_snapshots
from smtui.engine.services import service_config
from smtui.plan import Plan, RecentChanges, plan_sync
from smtui.records import CcmsSnapshot, PortfolioSnapshot
from smtui.store import Store
from smtui.views import PlanPreview


def plan_for(
    store: Store,
    name: str,
    ccms: CcmsSnapshot,
    portfolio: PortfolioSnapshot,
    as_of: dt.date,
    *,
    approve: bool = False,
) -> Plan:
    settings = store.settings(name)
    return plan_sync(
        ccms,
        portfolio,
        store.child_mappings(name),
        store.room_mappings(name),
        settings,
        as_of,
        approve=approve,
        recent=recent_changes(store, name, settings.hold_window_days),
    )


def recent_changes(store: Store, name: str, days: float) -> RecentChanges:
    """Archives and removals done within the hold window, which the holds count too."""
    since = dt.datetime.now(dt.UTC) - dt.timedelta(days=days)
    return RecentChanges(
        profiles_archived=store.done_since(name, "archive_profile", since),
        rooms_removed=store.done_since(name, "archive_room", since),
    )


def relink_labels(plan: Plan) -> tuple[str, ...]:
    """The operations that carry out a person's change of a mapping after setup, named, so a
    confirmation shows "Leilani Chavez: from prf_a57d to prf_9c21", not only a count."""
    releases = ("release_profile", "release_room")
    released = {op.child_id or op.room_id for op in plan.operations if op.kind in releases}
    return tuple(
        op.label
        for op in plan.operations
        if op.kind in releases
        or (op.kind in ("link_profile", "create_profile") and op.child_id in released)
        or (op.kind in ("link_room", "create_room") and op.room_id in released)
    )


def to_preview(name: str, plan: Plan) -> PlanPreview:
    ops = plan.operations

    def change(kind: str, fields: tuple[tuple[str, object], ...]) -> str:
        """What an update writes, field by field (its label only names the fields)."""
        if kind != "update_profile":
            return ""
        return ", ".join(f"{n.replace('_', ' ')} -> {v}" for n, v in fields if n != "external_ref")

    return PlanPreview(
        service=name,
        fingerprint=plan.fingerprint,
        as_of=plan.as_of,
        counts=dict(plan.counts()),
        archives=tuple(op.label for op in ops if op.kind == "archive_profile"),
        room_removals=tuple(op.label for op in ops if op.kind == "archive_room"),
        held=tuple(op.label for op in ops if op.held),
        warnings=tuple(w.text for w in plan.warnings),
        relinks=relink_labels(plan),
        needs_review=len(plan.needs_review),
        is_empty=plan.is_empty,
        operations=tuple((op.kind, op.label, change(op.kind, op.fields)) for op in ops),
    )


def preview(store: Store, name: str, *, as_of: dt.date | None = None) -> PlanPreview:
    """The plan the next run would carry out, from the cached read (the confirmation dialog)."""
    cfg = service_config(store, name)
    ccms, portfolio = cached_snapshots(store, name)
    return to_preview(
        name, plan_for(store, name, ccms, portfolio, as_of or rules.today_in(cfg.timezone))
    )
