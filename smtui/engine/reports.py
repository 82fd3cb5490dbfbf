"""What happened and why: explanations, run history, families not yet invited."""

from __future__ import annotations

import datetime as dt

from smtui import rules
from smtui.engine.errors import EngineError
from smtui.engine.mapping import full_name
from smtui.engine.planning import plan_for
from smtui.engine.reading import cached_snapshots
from smtui.engine.services import service_config
from smtui.store import RunRecord, Store, StoreError
from smtui.views import OpEvent, RunSummary


def run_summary(record: RunRecord) -> RunSummary:
    """A journal run as the front ends show it (counts, message and outcome out of its summary)."""
    summary = record.summary or {}
    return RunSummary(
        run_id=record.id,
        service=record.service,
        kind=record.kind,
        started_at=record.started_at,
        finished_at=record.finished_at,
        result=record.result,
        who=record.who,
        counts=dict(summary.get("counts", {})),
        message=str(summary.get("message", "")),
        outcome={k: int(v) for k, v in summary.get("outcome", {}).items()},
    )


def explain(store: Store, name: str, child_id: str, as_of: dt.date | None = None) -> list[str]:
    """Why this child is where it is, and what the next sync will do to it."""
    cfg = service_config(store, name)
    ccms, portfolio = cached_snapshots(store, name)
    as_of = as_of or rules.today_in(cfg.timezone)
    child = next((c for c in ccms.children if c.id == child_id), None)
    if child is None:
        raise EngineError(f"no child {child_id} in {name}'s last read")
    m = store.child_mappings(name).get(child_id)
    lines = [
        f"{full_name(child.first_name, child.last_name)} ({child_id}): {child.status} in the CCMS"
    ]
    if m is None:
        lines.append("no mapping yet: the next sync will auto-match this child")
    else:
        lines.append(
            f"mapping: {m.action}"
            + (f" -> profile {m.profile_id}" if m.profile_id else "")
            + f" ({m.origin}"
            + (f", score {m.score:.0f}" if m.score else "")
            + ")"
        )
        if m.reason:
            lines.append(f"why: {m.reason}")
    lines.extend(
        rules.explain_child(child, ccms.bookings, {r.id: r.name for r in ccms.rooms}, as_of)
    )
    plan = plan_for(store, name, ccms, portfolio, as_of)
    mine = [op for op in plan.operations if op.child_id == child_id]
    if mine:
        lines.append("next sync:")
        lines.extend(f"  {op.label}" + (" (held for approval)" if op.held else "") for op in mine)
    elif m is not None and m.action == "review":
        lines.append("next sync: not added until a person decides (link, create or don't add)")
    elif m is not None and m.action == "ignore":
        lines.append("next sync: never touches this child (don't add)")
    else:
        lines.append("next sync: nothing to do for this child")
    lines.extend(f"warning: {w.text}" for w in plan.warnings if child_id in w.child_ids)
    return lines


def read_at(store: Store, name: str) -> dt.datetime | None:
    """When the cached read that explain, invitations and the grids use was taken (the older
    of the two sides), so a person knows how fresh what they are told is."""
    service_config(store, name)
    times = [store.snapshot_read_at(name, side) for side in ("ccms", "portfolio")]
    return None if None in times else min(t for t in times if t is not None)


def runs(store: Store, name: str, limit: int = 50) -> list[RunSummary]:
    service_config(store, name)
    return [run_summary(r) for r in store.runs(name, limit=limit)]


def run_events(store: Store, run_id: int, *, service: str | None = None) -> list[OpEvent]:
    """One run's operations; with ``service``, a run of another service is an error."""
    try:
        record = store.run(run_id)
    except StoreError:
        record = None
    if record is None or (service is not None and record.service != service):
        raise EngineError(f"no run {run_id}" + (f" for {service}" if service else ""))
    return [
        OpEvent(run_id, op.op_id, op.kind, op.label, op.state, op.error)
        for op in store.run_ops(run_id)
    ]


def uninvited(store: Store, name: str) -> list[tuple[str, str]]:
    """(child name, profile id) of integrated live profiles whose family has no invitation."""
    ccms, portfolio = cached_snapshots(store, name)
    names = {c.id: full_name(c.first_name, c.last_name) for c in ccms.children}
    live = {p.id: p for p in portfolio.profiles if not p.archived}
    return sorted(
        (names.get(m.child_id, m.child_id), m.profile_id)
        for m in store.child_mappings(name).values()
        if m.profile_id is not None
        and rules.integrated(m, live)
        and live[m.profile_id].invitation_status == "none"
    )
