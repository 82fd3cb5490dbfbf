"""Refresh, plan, apply and verify one service, under its lock."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from smtui import rules
from smtui.apply import DEFAULT_WORKERS, ApplyOutcome, apply_plan
from smtui.connectors import scrub_credentials
from smtui.engine.errors import EngineError, NotSetUp, StalePlan
from smtui.engine.lease import Lease, hold
from smtui.engine.mapping import propose
from smtui.engine.planning import plan_for
from smtui.engine.reading import Progress, clients_for, read_both, require_on
from smtui.engine.reports import run_summary
from smtui.engine.services import service_config, who_am_i
from smtui.plan import Plan
from smtui.records import CcmsSnapshot, PortfolioSnapshot
from smtui.store import ServiceConfig, Store
from smtui.views import OpEvent, RunSummary


@dataclass(frozen=True, slots=True)
class RefreshResult:
    counts: dict[str, int]
    complete: bool
    problems: tuple[str, ...]
    kept: tuple[str, ...] = ()  # sides whose earlier complete read stays cached ("CCMS", ...)
    read: str = "in full"  # or "changes only" (Reading.mode): how the lists were read


@dataclass(frozen=True, slots=True)
class SyncResult:
    """What a run did; ``result`` is ok | held | partial | failed."""

    run: RunSummary
    plan: Plan
    outcome: ApplyOutcome
    remaining: int
    requests: int = 0  # HTTP requests both clients made, retries included


def refresh(store: Store, name: str, progress: Progress | None = None) -> RefreshResult:
    """Pull both sides into the store's cache."""
    cfg = service_config(store, name)
    with clients_for(cfg) as (ccms, portfolio):
        reading = read_both(ccms, portfolio, progress, name, store)
    ccms_snap, portfolio_snap = reading.ccms, reading.portfolio
    kept = reading.save(store, name)
    if progress:
        progress(f"Read {reading.mode}")
    propose(store, name)  # before setup: everything not decided by hand; after: new children
    return RefreshResult(
        counts={
            "children": len(ccms_snap.children),
            "rooms": len(ccms_snap.rooms),
            "bookings": len(ccms_snap.bookings),
            "profiles": len(portfolio_snap.profiles),
            "portfolio rooms": len(portfolio_snap.rooms),
        },
        complete=ccms_snap.complete and portfolio_snap.complete,
        problems=ccms_snap.problems + portfolio_snap.problems,
        kept=kept,
        read=reading.mode,
    )


def _adopt_created(
    store: Store, name: str, ccms: CcmsSnapshot, portfolio: PortfolioSnapshot, who: str
) -> None:
    """Point mappings at records a killed run created but did not get to record.

    Created records carry the CCMS id as external_ref; finding one means the create happened.
    """
    child_maps = store.child_mappings(name)
    children = {c.id: c for c in ccms.children}
    adopted = []
    for p in portfolio.profiles:
        m = child_maps.get(p.external_ref or "")
        if (
            m is not None
            and m.action == "create"
            and m.profile_id is None
            and p.id != m.release_profile_id  # the profile a person chose "create" over
            and not p.archived
        ):
            child = children.get(m.child_id)
            adopted.append(
                dataclasses.replace(
                    m,
                    action="link",
                    profile_id=p.id,
                    synced_first_name=child.first_name if child else None,
                    synced_last_name=child.last_name if child else None,
                    synced_birth_date=child.birth_date if child else None,
                )
            )
    if adopted:
        store.set_child_mappings(name, adopted, who=who, reason="found created profile on re-read")
    room_maps = store.room_mappings(name)
    rooms_adopted = [
        dataclasses.replace(room_maps[r.external_ref], action="link", portfolio_room_id=r.id)
        for r in portfolio.rooms
        if r.external_ref in room_maps
        and room_maps[r.external_ref].action == "create"
        and room_maps[r.external_ref].portfolio_room_id is None
        and r.id != room_maps[r.external_ref].release_room_id
        and not r.archived
    ]
    if rooms_adopted:
        store.set_room_mappings(
            name, rooms_adopted, who=who, reason="found created room on re-read"
        )


def _close_interrupted(store: Store, name: str, run_id: int) -> None:
    """Settle the journal of a run that was killed, now that both sides were read afresh.

    Called holding the service's lease, so every other run still marked running lost its own
    (it expired, or a person broke it): none of them can still be working. Whatever their
    operations did is in the fresh read (and adopted above), so the new plan covers what is
    left; the old entries are closed, keeping the first real error, so they are not reported
    again.
    """
    note = f"interrupted; re-read and re-planned by run {run_id}"
    for op in store.unfinished_ops(name, exclude_run=run_id):
        error = f"{op.error}; {note}" if op.error else note
        store.set_op_state(op.run_id, op.op_id, "failed", error=error)
    for record in store.runs(name, limit=50):
        if record.id != run_id and record.result == "running":
            store.finish_run(record.id, "failed", {"message": note})


@dataclass(frozen=True, slots=True)
class DryRun:
    """A plan from a fresh read; ``problems`` name any list that could not be read in full."""

    plan: Plan
    problems: tuple[str, ...]


def dry_run(
    store: Store,
    name: str,
    *,
    as_of: dt.date | None = None,
    approve: bool = False,
    progress: Progress | None = None,
) -> DryRun:
    """Read both sides fresh and plan, changing nothing in either system.

    Before setup this is the plan `smtui setup --accept-proposals` would carry out.
    """
    cfg = service_config(store, name)
    with clients_for(cfg) as (ccms_client, portfolio_client):
        reading = read_both(ccms_client, portfolio_client, progress, name, store)
    reading.save(store, name)
    ccms, portfolio = reading.ccms, reading.portfolio
    propose(store, name)
    as_of = as_of or rules.today_in(cfg.timezone)
    plan = plan_for(store, name, ccms, portfolio, as_of, approve=approve)
    return DryRun(plan=plan, problems=ccms.problems + portfolio.problems)


def run_sync(
    store: Store,
    name: str,
    *,
    fingerprint: str | None = None,
    approve: bool = False,
    held_fingerprint: str | None = None,
    setup: bool = False,
    as_of: dt.date | None = None,
    on_event: Callable[[OpEvent], None] | None = None,
    progress: Progress | None = None,
    who: str | None = None,
    workers: int = DEFAULT_WORKERS,
) -> SyncResult:
    """Read both sides, plan, apply with a journal, verify. One applier per service at a time.

    ``fingerprint`` is the plan a person confirmed: if the fresh read plans anything else, the run
    is refused as stale and nothing is changed. ``held_fingerprint`` (with ``approve``) is the
    held set a person approved: a fresh read that would hold another set is refused likewise.
    ``setup`` is the first run that connects a
    service; ordinary runs refuse a service that is not set up, so cron never connects one.
    """
    who = who or who_am_i()
    cfg = service_config(store, name)
    require_on(cfg)
    if cfg.set_up_at is None and not setup:
        raise NotSetUp(f"{name} is not set up yet: run `smtui setup {name}` first")
    with hold(store, name, who) as lease:
        cfg = service_config(store, name)  # as it is now that no other run can change it
        require_on(cfg)
        kind = "setup" if cfg.set_up_at is None else "approve" if approve else "sync"
        as_of = as_of or rules.today_in(cfg.timezone)
        run_id = store.start_run(
            name, kind=kind, dry_run=False, as_of=as_of, fingerprint=fingerprint or "", who=who
        )
        lease.attach(run_id)
        try:
            return _run_locked(
                store,
                cfg,
                run_id,
                as_of,
                fingerprint,
                approve,
                held_fingerprint,
                on_event,
                progress,
                who,
                workers,
                lease,
            )
        except BaseException as exc:
            message = (
                str(exc)
                if isinstance(exc, EngineError)
                else scrub_credentials(f"{type(exc).__name__}: {exc}")
            )
            store.finish_run(run_id, "failed", {"message": message})
            raise


def _run_locked(
    store: Store,
    cfg: ServiceConfig,
    run_id: int,
    as_of: dt.date,
    fingerprint: str | None,
    approve: bool,
    held_fingerprint: str | None,
    on_event: Callable[[OpEvent], None] | None,
    progress: Progress | None,
    who: str,
    workers: int,
    lease: Lease,
) -> SyncResult:
    name = cfg.name
    with clients_for(cfg) as (ccms_client, portfolio_client):
        reading = read_both(ccms_client, portfolio_client, progress, name, store)
        reading.save(store, name)
        ccms, portfolio = reading.ccms, reading.portfolio
        _adopt_created(store, name, ccms, portfolio, who)
        _close_interrupted(store, name, run_id)
        propose(store, name, only_new=True)
        plan = plan_for(store, name, ccms, portfolio, as_of, approve=approve)
        if fingerprint and plan.fingerprint != fingerprint:
            raise StalePlan(
                f"{name} changed since the plan was shown; nothing was applied: review it again"
            )
        if approve and held_fingerprint is not None:
            would_hold = plan_for(store, name, ccms, portfolio, as_of).held_fingerprint
            if would_hold != held_fingerprint:
                raise StalePlan(
                    f"{name}: what is held is not the set that was approved (the CCMS changed "
                    f"since); nothing was applied: review it with `smtui sync {name} --dry-run`"
                )
        store.record_ops(
            run_id,
            name,
            [
                {
                    "op_id": op.id,
                    "kind": op.kind,
                    "label": op.label,
                    "payload": dict(op.fields),
                    "state": "held" if op.held else "planned",
                }
                for op in plan.operations
            ],
        )
        outcome = apply_plan(
            plan,
            store=store,
            service=name,
            client=portfolio_client,
            run_id=run_id,
            children=ccms.children,
            child_maps=store.child_mappings(name),
            room_maps=store.room_mappings(name),
            who=who,
            on_event=on_event,
            workers=workers,
            stop=lambda: lease.lost,
        )
        remaining = 0
        if outcome.done and not lease.lost:
            if progress:
                progress("Verifying the portfolio…")
            again = read_both(
                ccms_client, portfolio_client, None, name, store, sides=("portfolio",)
            )
            after = again.portfolio
            store.save_portfolio_snapshot(name, after, marks=again.portfolio_marks)
            recheck = plan_for(store, name, ccms, after, as_of, approve=approve)
            remaining = sum(1 for op in recheck.operations if not op.held)
    incomplete = ccms.problems + portfolio.problems
    read_nothing = not any(
        (ccms.children, ccms.rooms, ccms.bookings, portfolio.profiles, portfolio.rooms)
    )
    if outcome.failed or outcome.unknown or outcome.not_started:
        result = "partial" if outcome.done else "failed"
    elif incomplete and read_nothing:
        result = "failed"  # nothing was read, so nothing could be checked or done
    elif remaining or incomplete:
        result = "partial"
    else:
        result = "held" if outcome.held else "ok"
    if cfg.set_up_at is None and result in ("ok", "held", "partial"):
        store.update_service(name, state="active", set_up_at=dt.datetime.now(dt.UTC))
    lost = (
        [
            f"the run lost its lock (lease expired or `smtui service unlock`): "
            f"{outcome.not_started} operation(s) not started"
        ]
        if outcome.not_started
        else []
    )
    message = "; ".join(
        [*lost, *outcome.errors[:3], *(f"read incomplete: {p}" for p in incomplete)]
    )
    if remaining:
        message = (message + "; " if message else "") + (
            f"verification found {remaining} differences left"
        )
    store.finish_run(
        run_id,
        result,
        {
            "counts": _run_counts(plan),
            "outcome": {
                "done": outcome.done,
                "failed": outcome.failed,
                "unknown": outcome.unknown,
                "held": outcome.held,
                "not_started": outcome.not_started,
            },
            "held_fingerprint": plan.held_fingerprint,
            "message": message,
        },
    )
    return SyncResult(
        run=run_summary(store.run(run_id)),
        plan=plan,
        outcome=outcome,
        remaining=remaining,
        requests=ccms_client.requests_made + portfolio_client.requests_made,
    )


def _run_counts(plan: Plan) -> dict[str, int]:
    """Operations per kind, the held ones apart ("archive_profile (held)"): a run's summary
    must not read as if it archived what it only held for approval."""
    counts = {kind: n for kind, n in plan.counts().items()}
    for op in plan.held:
        counts[op.kind] -= 1
        counts[f"{op.kind} (held)"] = counts.get(f"{op.kind} (held)", 0) + 1
    return {kind: n for kind, n in counts.items() if n}


def approve_held(
    store: Store,
    name: str,
    *,
    held_fingerprint: str | None = None,
    as_of: dt.date | None = None,
    on_event: Callable[[OpEvent], None] | None = None,
    who: str | None = None,
) -> SyncResult:
    """Apply what the last run held for approval (archives past the thresholds), with the rest.

    What is approved is the held set a person saw (the newest run's, unless ``held_fingerprint``
    names another): if a fresh read would hold a different set, nothing is applied.
    """
    if held_fingerprint is None:
        last = store.runs(name, limit=1)
        if not last or last[0].result != "held":
            state = f"the last run ({last[0].id}) was {last[0].result}" if last else "no run yet"
            raise EngineError(f"{name}: nothing is held for approval ({state})")
        held_fingerprint = str(last[0].summary.get("held_fingerprint", ""))
    return run_sync(
        store,
        name,
        approve=True,
        held_fingerprint=held_fingerprint,
        as_of=as_of,
        on_event=on_event,
        who=who,
    )
