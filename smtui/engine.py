"""The one facade both front ends call: the CLI for cron and scripts, the TUI for people.

Everything that reads a vendor API, writes the store or decides what to do goes through here, so
the two front ends cannot drift apart. Functions block; the TUI calls them from thread workers.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import getpass
import os
import socket
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from smtui import rules
from smtui.apply import ApplyOutcome, apply_plan
from smtui.automap import propose_child_mappings, propose_room_mappings
from smtui.connectors import ApiError, CcmsClient, PortfolioClient
from smtui.match import candidates_for, search_profiles
from smtui.plan import Plan, plan_sync
from smtui.records import (
    CcmsSnapshot,
    ChildMapping,
    PortfolioSnapshot,
    RoomMapping,
)
from smtui.store import LockInfo, ServiceConfig, Store, StoreError
from smtui.store import open_store as _open_store
from smtui.tokens import TokenError, TokenSource, read_token
from smtui.views import (
    Candidate,
    ChildRow,
    OpEvent,
    PlanPreview,
    RoomRow,
    RunSummary,
    ServiceSummary,
)

Progress = Callable[[str], None]


class EngineError(Exception):
    """A failure the user can act on; str() is the one line to show them."""


class NotSetUp(EngineError):
    pass


class StalePlan(EngineError):
    pass


class Locked(EngineError):
    def __init__(self, service: str, holder: LockInfo) -> None:
        since = holder.since.strftime("%Y-%m-%d %H:%M:%S")
        super().__init__(
            f"{service} is being synced by {holder.user}@{holder.host} (pid {holder.pid}) "
            f"since {since}; try again when it finishes"
        )
        self.holder = holder


@dataclass(frozen=True, slots=True)
class RefreshResult:
    counts: dict[str, int]
    complete: bool
    problems: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class MappingCheck:
    problems: tuple[str, ...]
    undecided_reviews: int


@dataclass(frozen=True, slots=True)
class SyncResult:
    """What a run did; ``result`` is ok | held | partial | failed."""

    run: RunSummary
    plan: Plan
    outcome: ApplyOutcome
    remaining: int


def who_am_i() -> str:
    try:
        user = getpass.getuser()
    except OSError:
        user = str(os.getuid())
    return f"{user}@{socket.gethostname()}"


def open_store(url: str | None = None) -> Store:
    return _open_store(url)


# --- services ------------------------------------------------------------------------------


def service_config(store: Store, name: str) -> ServiceConfig:
    try:
        return store.get_service(name)
    except StoreError as exc:
        raise EngineError(str(exc)) from exc


def add_service(store: Store, cfg: ServiceConfig) -> ServiceConfig:
    """Add a service after checking its token sources resolve, so a typo fails now, not at 3 am."""
    _tokens(cfg)
    rules.today_in(cfg.timezone)
    try:
        return store.add_service(cfg)
    except StoreError as exc:
        raise EngineError(str(exc)) from exc


def update_settings(store: Store, name: str, **fields: object) -> None:
    if "timezone" in fields:
        rules.today_in(str(fields["timezone"]))
    service_config(store, name)
    store.update_service(name, **fields)


def turn_off(store: Store, name: str, *, purge: bool) -> None:
    """Stop syncing a service; with ``purge`` also drop its cached children's data."""
    service_config(store, name)
    store.update_service(name, enabled=False, state="off")
    if purge:
        store.purge_cache(name)


def turn_on(store: Store, name: str) -> None:
    cfg = service_config(store, name)
    state = "active" if cfg.set_up_at is not None else "not set up"
    store.update_service(name, enabled=True, state=state)


def _summary(store: Store, cfg: ServiceConfig) -> ServiceSummary:
    runs = store.runs(cfg.name, limit=1)
    last = runs[0] if runs else None
    maps = store.child_mappings(cfg.name)
    integrated = sum(1 for m in maps.values() if m.action == "link" and m.synced_first_name)
    reviews = sum(1 for m in maps.values() if m.action == "review")
    last_ok = store.last_success(cfg.name)
    if not cfg.enabled:
        state = "off"
    elif cfg.set_up_at is None:
        state = "not set up"
    elif last is not None and last.result == "held":
        state = "held for approval"
    elif last is not None and last.result in ("failed", "partial"):
        state = "failing"
    elif reviews:
        state = "needs review"
    else:
        state = "active"
    next_due = None
    if cfg.enabled and cfg.set_up_at is not None:
        next_due = (last_ok or cfg.set_up_at) + dt.timedelta(hours=cfg.interval_hours)
    return ServiceSummary(
        name=cfg.name,
        state=state,
        integrated_children=integrated,
        last_sync_at=last.finished_at or last.started_at if last else None,
        last_result=last.result if last else None,
        next_due=next_due,
        timezone=cfg.timezone,
    )


def service_summaries(store: Store) -> list[ServiceSummary]:
    return [_summary(store, cfg) for cfg in store.list_services()]


def service_summary(store: Store, name: str) -> ServiceSummary:
    return _summary(store, service_config(store, name))


def due_services(store: Store, now: dt.datetime | None = None) -> list[str]:
    """Enabled, set-up services whose last success is older than their interval (cron's list)."""
    now = now or dt.datetime.now(dt.UTC)
    due = []
    for cfg in store.list_services():
        if not cfg.enabled or cfg.set_up_at is None:
            continue
        last_ok = store.last_success(cfg.name)
        if last_ok is None or _aware(last_ok) + dt.timedelta(hours=cfg.interval_hours) <= now:
            due.append(cfg.name)
    return due


def _aware(when: dt.datetime) -> dt.datetime:
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


# --- reading both sides --------------------------------------------------------------------


def _tokens(cfg: ServiceConfig) -> tuple[str, str]:
    try:
        ccms = read_token(TokenSource(cfg.ccms_token_env, cfg.ccms_token_file), "CCMS")
        portfolio = read_token(
            TokenSource(cfg.portfolio_token_env, cfg.portfolio_token_file), "portfolio"
        )
    except TokenError as exc:
        raise EngineError(f"{cfg.name}: {exc}") from exc
    return ccms, portfolio


@contextmanager
def _clients(cfg: ServiceConfig) -> Iterator[tuple[CcmsClient, PortfolioClient]]:
    ccms_token, portfolio_token = _tokens(cfg)
    with (
        CcmsClient(cfg.ccms_url, ccms_token, page_size=500) as ccms,
        PortfolioClient(cfg.portfolio_url, portfolio_token, page_size=500) as portfolio,
    ):
        yield ccms, portfolio


def _read_both(
    ccms: CcmsClient, portfolio: PortfolioClient, progress: Progress | None
) -> tuple[CcmsSnapshot, PortfolioSnapshot]:
    say = progress or (lambda _line: None)
    try:
        say("Reading CCMS children…")
        children = ccms.children()
        say(f"CCMS children: {len(children.items)} read")
        rooms = ccms.rooms()
        say(f"CCMS rooms: {len(rooms.items)} read")
        bookings = ccms.bookings()
        say(f"CCMS bookings: {len(bookings.items)} read")
        profiles = portfolio.profiles()
        say(f"Portfolio profiles: {len(profiles.items)} read")
        prooms = portfolio.rooms()
        say(f"Portfolio rooms: {len(prooms.items)} read")
    except ApiError as exc:
        raise EngineError(str(exc)) from exc
    ccms_parts, portfolio_parts = (children, rooms, bookings), (profiles, prooms)
    return (
        CcmsSnapshot(
            children=children.items,
            rooms=rooms.items,
            bookings=bookings.items,
            complete=all(p.complete for p in ccms_parts),
            problems=tuple(p.problem for p in ccms_parts if p.problem),
        ),
        PortfolioSnapshot(
            profiles=profiles.items,
            rooms=prooms.items,
            complete=all(p.complete for p in portfolio_parts),
            problems=tuple(p.problem for p in portfolio_parts if p.problem),
        ),
    )


def refresh(store: Store, name: str, progress: Progress | None = None) -> RefreshResult:
    """Pull both sides into the store's cache."""
    cfg = service_config(store, name)
    with _clients(cfg) as (ccms, portfolio):
        ccms_snap, portfolio_snap = _read_both(ccms, portfolio, progress)
    store.save_ccms_snapshot(name, ccms_snap)
    store.save_portfolio_snapshot(name, portfolio_snap)
    if cfg.set_up_at is None:
        propose(store, name)
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
    )


def _snapshots(store: Store, name: str) -> tuple[CcmsSnapshot, PortfolioSnapshot]:
    ccms = store.load_ccms_snapshot(name)
    portfolio = store.load_portfolio_snapshot(name)
    if ccms is None or portfolio is None:
        raise EngineError(f"{name} has not been read yet: run `smtui refresh {name}` first")
    return ccms, portfolio


# --- mapping -------------------------------------------------------------------------------


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
        if m is not None and m.action == "create" and m.profile_id is None:
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
    ]
    if rooms_adopted:
        store.set_room_mappings(name, rooms_adopted, who=who, reason="found created room on re-read")


def _close_interrupted(store: Store, name: str, run_id: int) -> None:
    """Settle the journal of a run that was killed, now that both sides were read afresh.

    Whatever those operations did is in the fresh read (and adopted above), so the new plan covers
    what is left; the old entries are closed so they are not reported again.
    """
    note = f"interrupted; re-read and re-planned by run {run_id}"
    for op in store.unfinished_ops(name, exclude_run=run_id):
        store.set_op_state(op.run_id, op.op_id, "failed", error=note)
    for record in store.runs(name, limit=50):
        if record.id != run_id and record.result == "running":
            store.finish_run(record.id, "failed", {"message": note})


def propose(store: Store, name: str, *, who: str = "smtui (auto)") -> int:
    """Run the matcher; before setup it re-proposes all but manual decisions, after only new.

    Returns how many mappings were proposed.
    """
    cfg = service_config(store, name)
    ccms, portfolio = _snapshots(store, name)
    only_new = cfg.set_up_at is not None
    child_maps = store.child_mappings(name)
    proposed = propose_child_mappings(
        ccms.children, portfolio.profiles, child_maps, only_new=only_new
    )
    store.set_child_mappings(name, proposed, who=who, reason="auto-match")
    rooms = propose_room_mappings(ccms.rooms, portfolio.rooms, store.room_mappings(name))
    store.set_room_mappings(name, rooms, who=who, reason="auto-match")
    return len(proposed) + len(rooms)


def _full_name(first: str, last: str) -> str:
    return f"{first} {last}".strip()


def child_rows(store: Store, name: str, as_of: dt.date | None = None) -> list[ChildRow]:
    cfg = service_config(store, name)
    ccms, portfolio = _snapshots(store, name)
    as_of = as_of or rules.today_in(cfg.timezone)
    maps = store.child_mappings(name)
    plan = plan_sync(ccms, portfolio, maps, store.room_mappings(name), store.settings(name), as_of)
    touched = {op.child_id for op in plan.operations if op.child_id}
    profiles = {p.id: p for p in portfolio.profiles}
    room_names = {r.id: r.name for r in ccms.rooms}
    bookings_by_child: dict[str, list] = {}
    for b in ccms.bookings:
        bookings_by_child.setdefault(b.child_id, []).append(b)
    rows = []
    for child in sorted(ccms.children, key=lambda c: (c.last_name.casefold(), c.first_name)):
        m = maps.get(child.id)
        if m is None and child.status != "active":
            continue
        target = rules.child_target_rooms(bookings_by_child.get(child.id, ()), as_of)
        profile = profiles.get(m.profile_id) if m and m.profile_id else None
        rows.append(
            ChildRow(
                child_id=child.id,
                name=_full_name(child.first_name, child.last_name),
                birth_date=child.birth_date,
                status=child.status,
                action=m.action if m else "review",
                profile_id=m.profile_id if m else None,
                profile_name=_full_name(profile.first_name, profile.last_name) if profile else None,
                score=m.score if m else 0.0,
                reason=m.reason if m else "not matched yet",
                rooms=tuple(sorted(room_names.get(r, r) for r in (target or ()))),
                origin=m.origin if m else "auto",
                changed=child.id in touched,
            )
        )
    return rows


def room_rows(store: Store, name: str, as_of: dt.date | None = None) -> list[RoomRow]:
    cfg = service_config(store, name)
    ccms, portfolio = _snapshots(store, name)
    as_of = as_of or rules.today_in(cfg.timezone)
    activity = rules.room_activity(ccms.bookings, as_of)
    maps = store.room_mappings(name)
    prooms = {r.id: r for r in portfolio.rooms}
    rows = []
    for room in sorted(ccms.rooms, key=lambda r: r.name.casefold()):
        m = maps.get(room.id)
        count = activity.get(room.id, 0)
        managed = m is not None and m.action != "ignore"
        proom = prooms.get(m.portfolio_room_id) if m and m.portfolio_room_id else None
        rows.append(
            RoomRow(
                room_id=room.id,
                name=room.name,
                active=count > 0,
                occurrences_in_window=count,
                removal_date=rules.room_removal_date(ccms.bookings, room.id, as_of)
                if managed
                else None,
                action=m.action if m else "create",
                portfolio_room_id=m.portfolio_room_id if m else None,
                portfolio_room_name=proom.name if proom else None,
            )
        )
    return rows


def profile_candidates(
    store: Store, name: str, child_id: str, query: str = "", *, limit: int = 50
) -> list[Candidate]:
    """Profiles for the link picker: best candidates for the child, or matches for typed text."""
    ccms, portfolio = _snapshots(store, name)
    profiles = {p.id: p for p in portfolio.profiles}
    linked_to = {
        m.profile_id: m.child_id
        for m in store.child_mappings(name).values()
        if m.action == "link" and m.profile_id
    }
    if query.strip():
        scored = [(pid, score, "matches what you typed") for pid, score in search_profiles(
            query, portfolio.profiles, limit=limit
        )]
    else:
        child = next((c for c in ccms.children if c.id == child_id), None)
        if child is None:
            raise EngineError(f"no child {child_id} in {name}")
        best = candidates_for(child, portfolio.profiles, limit=limit)
        seen = {c.profile_id for c in best}
        rest = [(pid, s) for pid, s in search_profiles("", portfolio.profiles, limit=limit)]
        scored = [(c.profile_id, c.score, c.reason) for c in best] + [
            (pid, 0.0, "") for pid, _s in rest if pid not in seen
        ]
    out = []
    for pid, score, reason in scored[:limit]:
        p = profiles[pid]
        out.append(
            Candidate(
                profile_id=pid,
                name=_full_name(p.first_name, p.last_name),
                birth_date=p.birth_date,
                score=score,
                reason=reason,
                archived=p.archived,
                linked_to=linked_to.get(pid),
            )
        )
    return out


def set_children(
    store: Store,
    name: str,
    child_ids: Sequence[str],
    action: str,
    *,
    profile_id: str | None = None,
    who: str,
) -> list[ChildMapping]:
    """Record a person's decision for these children; returns what it replaced, for undo.

    ``accept`` turns a review row's suggestion into a link and leaves other rows as they are.
    """
    if action not in ("link", "create", "ignore", "accept"):
        raise EngineError(f"unknown action {action!r}: use link, create, ignore or accept")
    if action == "link" and (profile_id is None or len(child_ids) != 1):
        raise EngineError("link needs exactly one child and a profile id")
    maps = store.child_mappings(name)
    if action == "link":
        _, portfolio = _snapshots(store, name)
        if profile_id not in {p.id for p in portfolio.profiles}:
            raise EngineError(f"no profile {profile_id} in {name}")
    previous, updated = [], []
    for cid in child_ids:
        before = maps.get(cid) or ChildMapping(cid, "review")
        if action == "accept":
            if before.action != "review" or before.profile_id is None:
                continue
            after = dataclasses.replace(before, action="link", origin="manual")
        elif action == "link":
            after = dataclasses.replace(
                before, action="link", profile_id=profile_id, origin="manual", score=100.0,
                reason="linked by a person",
            )
        else:
            keep_profile = before.profile_id if before.synced_first_name else None
            after = dataclasses.replace(
                before, action=action, profile_id=keep_profile, origin="manual",
                reason="created by a person's choice" if action == "create" else "don't add",
            )
        previous.append(before)
        updated.append(after)
    store.set_child_mappings(name, updated, who=who, reason=f"set {action}")
    return previous


def restore_children(store: Store, name: str, previous: Iterable[ChildMapping], *, who: str) -> None:
    store.set_child_mappings(name, list(previous), who=who, reason="undo")


def set_rooms(
    store: Store,
    name: str,
    room_ids: Sequence[str],
    action: str,
    *,
    portfolio_room_id: str | None = None,
    who: str,
) -> list[RoomMapping]:
    """Map rooms; ``ignore`` unlinks (keeping the portfolio room id so ``relink`` restores it)."""
    if action not in ("link", "create", "ignore", "relink"):
        raise EngineError(f"unknown room action {action!r}: use link, create, ignore or relink")
    maps = store.room_mappings(name)
    previous, updated = [], []
    for rid in room_ids:
        before = maps.get(rid) or RoomMapping(rid, "create")
        if action == "link":
            if portfolio_room_id is None:
                raise EngineError("link needs a portfolio room id")
            after = RoomMapping(rid, "link", portfolio_room_id, "manual")
        elif action == "relink":
            if before.portfolio_room_id is None:
                raise EngineError(f"room {rid} was never linked: use link or create")
            after = RoomMapping(rid, "link", before.portfolio_room_id, "manual")
        else:
            after = RoomMapping(rid, action, before.portfolio_room_id, "manual")  # type: ignore[arg-type]
        previous.append(before)
        updated.append(after)
    store.set_room_mappings(name, updated, who=who, reason=f"set {action}")
    return previous


def restore_rooms(store: Store, name: str, previous: Iterable[RoomMapping], *, who: str) -> None:
    store.set_room_mappings(name, list(previous), who=who, reason="undo")


def check_mapping(store: Store, name: str) -> MappingCheck:
    """What must be fixed before setup: profiles linked twice; how many reviews are undecided."""
    ccms, _ = _snapshots(store, name)
    names = {c.id: _full_name(c.first_name, c.last_name) for c in ccms.children}
    by_profile: dict[str, list[str]] = {}
    reviews = 0
    for m in store.child_mappings(name).values():
        if m.action == "link" and m.profile_id:
            by_profile.setdefault(m.profile_id, []).append(m.child_id)
        elif m.action == "review":
            reviews += 1
    problems = tuple(
        f"profile {pid} is linked to {len(cids)} children: "
        + ", ".join(names.get(c, c) for c in sorted(cids))
        for pid, cids in sorted(by_profile.items())
        if len(cids) > 1
    )
    return MappingCheck(problems=problems, undecided_reviews=reviews)


# --- plan, apply, explain ------------------------------------------------------------------


def _plan(
    store: Store,
    name: str,
    ccms: CcmsSnapshot,
    portfolio: PortfolioSnapshot,
    as_of: dt.date,
    *,
    approve: bool = False,
) -> Plan:
    return plan_sync(
        ccms,
        portfolio,
        store.child_mappings(name),
        store.room_mappings(name),
        store.settings(name),
        as_of,
        approve=approve,
    )


def _preview(name: str, plan: Plan) -> PlanPreview:
    ops = plan.operations
    return PlanPreview(
        service=name,
        fingerprint=plan.fingerprint,
        as_of=plan.as_of,
        counts=dict(plan.counts()),
        archives=tuple(op.label for op in ops if op.kind == "archive_profile"),
        room_removals=tuple(op.label for op in ops if op.kind == "archive_room"),
        held=tuple(op.label for op in ops if op.held),
        warnings=tuple(plan.warnings),
        needs_review=len(plan.needs_review),
        is_empty=plan.is_empty,
    )


def preview(store: Store, name: str, *, as_of: dt.date | None = None) -> PlanPreview:
    """The plan the next run would carry out, from the cached read (the confirmation dialog)."""
    cfg = service_config(store, name)
    ccms, portfolio = _snapshots(store, name)
    return _preview(name, _plan(store, name, ccms, portfolio, as_of or rules.today_in(cfg.timezone)))


def dry_run(
    store: Store, name: str, *, as_of: dt.date | None = None, progress: Progress | None = None
) -> Plan:
    """Read both sides fresh and plan, changing nothing in either system."""
    cfg = service_config(store, name)
    if cfg.set_up_at is None:
        raise NotSetUp(f"{name} is not set up yet: run `smtui setup {name}` first")
    with _clients(cfg) as (ccms_client, portfolio_client):
        ccms, portfolio = _read_both(ccms_client, portfolio_client, progress)
    store.save_ccms_snapshot(name, ccms)
    store.save_portfolio_snapshot(name, portfolio)
    propose(store, name)
    return _plan(store, name, ccms, portfolio, as_of or rules.today_in(cfg.timezone))


def _run_summary(record) -> RunSummary:  # noqa: ANN001 - a store RunRecord
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
    )


def run_sync(
    store: Store,
    name: str,
    *,
    fingerprint: str | None = None,
    approve: bool = False,
    setup: bool = False,
    as_of: dt.date | None = None,
    on_event: Callable[[OpEvent], None] | None = None,
    progress: Progress | None = None,
    who: str | None = None,
) -> SyncResult:
    """Read both sides, plan, apply with a journal, verify. One applier per service at a time.

    ``fingerprint`` is the plan a person confirmed: if the fresh read plans anything else, the run
    is refused as stale and nothing is changed. ``setup`` is the first run that connects a
    service; ordinary runs refuse a service that is not set up, so cron never connects one.
    """
    who = who or who_am_i()
    cfg = service_config(store, name)
    if not cfg.enabled:
        raise EngineError(f"{name} is turned off: turn it on in its settings first")
    if cfg.set_up_at is None and not setup:
        raise NotSetUp(f"{name} is not set up yet: run `smtui setup {name}` first")
    holder = store.acquire_lock(
        name, user=who.split("@")[0], host=socket.gethostname(), pid=os.getpid()
    )
    if holder is not None:
        raise Locked(name, holder)
    kind = "setup" if cfg.set_up_at is None else "approve" if approve else "sync"
    try:
        as_of = as_of or rules.today_in(cfg.timezone)
        run_id = store.start_run(
            name, kind=kind, dry_run=False, as_of=as_of, fingerprint=fingerprint or "", who=who
        )
        try:
            return _run_locked(
                store, cfg, run_id, as_of, fingerprint, approve, on_event, progress, who
            )
        except BaseException as exc:
            message = str(exc) if isinstance(exc, EngineError) else f"{type(exc).__name__}: {exc}"
            store.finish_run(run_id, "failed", {"message": message})
            raise
    finally:
        store.release_lock(name, os.getpid())


def _run_locked(
    store: Store,
    cfg: ServiceConfig,
    run_id: int,
    as_of: dt.date,
    fingerprint: str | None,
    approve: bool,
    on_event: Callable[[OpEvent], None] | None,
    progress: Progress | None,
    who: str,
) -> SyncResult:
    name = cfg.name
    with _clients(cfg) as (ccms_client, portfolio_client):
        ccms, portfolio = _read_both(ccms_client, portfolio_client, progress)
        store.save_ccms_snapshot(name, ccms)
        store.save_portfolio_snapshot(name, portfolio)
        _adopt_created(store, name, ccms, portfolio, who)
        _close_interrupted(store, name, run_id)
        if cfg.set_up_at is not None:
            propose(store, name)
        plan = _plan(store, name, ccms, portfolio, as_of, approve=approve)
        if fingerprint and plan.fingerprint != fingerprint:
            raise StalePlan(
                f"{name} changed since the plan was shown; nothing was applied: review it again"
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
        )
        remaining = 0
        if outcome.done:
            if progress:
                progress("Verifying the portfolio…")
            after = portfolio_client.snapshot()
            store.save_portfolio_snapshot(name, after)
            recheck = _plan(store, name, ccms, after, as_of, approve=approve)
            remaining = sum(1 for op in recheck.operations if not op.held)
    if outcome.failed or outcome.unknown:
        result = "partial" if outcome.done else "failed"
    elif remaining:
        result = "partial"
    else:
        result = "held" if outcome.held else "ok"
    if cfg.set_up_at is None and result in ("ok", "held", "partial"):
        store.update_service(name, state="active", set_up_at=dt.datetime.now(dt.UTC))
    message = "; ".join(outcome.errors[:3])
    if remaining:
        message = (message + "; " if message else "") + (
            f"verification found {remaining} differences left"
        )
    store.finish_run(run_id, result, {"counts": dict(plan.counts()), "message": message})
    return SyncResult(
        run=_run_summary(store.run(run_id)), plan=plan, outcome=outcome, remaining=remaining
    )


def approve_held(
    store: Store,
    name: str,
    *,
    on_event: Callable[[OpEvent], None] | None = None,
    who: str | None = None,
) -> SyncResult:
    """Apply what the last run held for approval (archives past the thresholds), with the rest."""
    return run_sync(store, name, approve=True, on_event=on_event, who=who)


def explain(store: Store, name: str, child_id: str, as_of: dt.date | None = None) -> list[str]:
    """Why this child is where it is, and what the next sync will do to it."""
    cfg = service_config(store, name)
    ccms, portfolio = _snapshots(store, name)
    as_of = as_of or rules.today_in(cfg.timezone)
    child = next((c for c in ccms.children if c.id == child_id), None)
    if child is None:
        raise EngineError(f"no child {child_id} in {name}'s last read")
    m = store.child_mappings(name).get(child_id)
    lines = [f"{_full_name(child.first_name, child.last_name)} ({child_id}): {child.status} in the CCMS"]
    if m is None:
        lines.append("no mapping yet: the next sync will auto-match this child")
    else:
        lines.append(f"mapping: {m.action}" + (f" -> profile {m.profile_id}" if m.profile_id else "")
                     + f" ({m.origin}" + (f", score {m.score:.0f}" if m.score else "") + ")")
        if m.reason:
            lines.append(f"why: {m.reason}")
    lines.extend(rules.explain_child(child, ccms.bookings, {r.id: r.name for r in ccms.rooms}, as_of))
    plan = _plan(store, name, ccms, portfolio, as_of)
    mine = [op for op in plan.operations if op.child_id == child_id]
    if mine:
        lines.append("next sync:")
        lines.extend(f"  {op.label}" + (" (held for approval)" if op.held else "") for op in mine)
    else:
        lines.append("next sync: nothing to do for this child")
    return lines


def runs(store: Store, name: str, limit: int = 50) -> list[RunSummary]:
    service_config(store, name)
    return [_run_summary(r) for r in store.runs(name, limit=limit)]


def run_events(store: Store, run_id: int) -> list[OpEvent]:
    return [
        OpEvent(run_id, op.op_id, op.kind, op.label, op.state, op.error)
        for op in store.run_ops(run_id)
    ]


def uninvited(store: Store, name: str) -> list[tuple[str, str]]:
    """(child name, profile id) of integrated, unarchived profiles whose family has no invitation."""
    ccms, portfolio = _snapshots(store, name)
    names = {c.id: _full_name(c.first_name, c.last_name) for c in ccms.children}
    linked = {
        m.profile_id: m.child_id
        for m in store.child_mappings(name).values()
        if m.action == "link" and m.profile_id and m.synced_first_name is not None
    }
    return sorted(
        (names.get(linked[p.id], linked[p.id]), p.id)
        for p in portfolio.profiles
        if p.id in linked and not p.archived and p.invitation_status == "none"
    )


# --- bulk edits through CSV ----------------------------------------------------------------

MAPPING_COLUMNS = ("kind", "ccms_id", "name", "action", "target_id", "origin", "score", "reason")


def export_mappings(store: Store, name: str) -> list[tuple[str, ...]]:
    ccms, _ = _snapshots(store, name)
    names = {c.id: _full_name(c.first_name, c.last_name) for c in ccms.children}
    room_names = {r.id: r.name for r in ccms.rooms}
    rows: list[tuple[str, ...]] = []
    for m in sorted(store.child_mappings(name).values(), key=lambda m: m.child_id):
        rows.append(("child", m.child_id, names.get(m.child_id, ""), m.action,
                     m.profile_id or "", m.origin, f"{m.score:.1f}", m.reason))
    for r in sorted(store.room_mappings(name).values(), key=lambda m: m.room_id):
        rows.append(("room", r.room_id, room_names.get(r.room_id, ""), r.action,
                     r.portfolio_room_id or "", r.origin, "", ""))
    return rows


def import_mappings(store: Store, name: str, path: os.PathLike[str] | str, *, who: str) -> int:
    """Apply an edited export. Every row is validated first; one bad row changes nothing."""
    import csv

    ccms, portfolio = _snapshots(store, name)
    children, rooms = {c.id for c in ccms.children}, {r.id for r in ccms.rooms}
    profiles, prooms = {p.id for p in portfolio.profiles}, {r.id for r in portfolio.rooms}
    child_maps, room_maps = store.child_mappings(name), store.room_mappings(name)
    new_children: list[ChildMapping] = []
    new_rooms: list[RoomMapping] = []
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        missing = {"kind", "ccms_id", "action", "target_id"} - set(reader.fieldnames or ())
        if missing:
            raise EngineError(f"{path}: missing columns {', '.join(sorted(missing))}")
        for line, row in enumerate(reader, start=2):
            kind, cid = row["kind"].strip(), row["ccms_id"].strip()
            action, target = row["action"].strip(), row["target_id"].strip() or None
            where = f"{path} line {line}"
            if kind == "child":
                if cid not in children:
                    raise EngineError(f"{where}: no child {cid} in {name}")
                if action not in ("link", "create", "ignore", "review"):
                    raise EngineError(f"{where}: action {action!r} is not link/create/ignore/review")
                if action == "link" and target not in profiles:
                    raise EngineError(f"{where}: link needs an existing profile id, got {target!r}")
                before = child_maps.get(cid) or ChildMapping(cid, "review")
                if (before.action, before.profile_id) != (action, target):
                    new_children.append(dataclasses.replace(
                        before, action=action, profile_id=target, origin="manual",  # type: ignore[arg-type]
                        reason="imported from CSV"))
            elif kind == "room":
                if cid not in rooms:
                    raise EngineError(f"{where}: no room {cid} in {name}")
                if action not in ("link", "create", "ignore"):
                    raise EngineError(f"{where}: action {action!r} is not link/create/ignore")
                if action == "link" and target not in prooms:
                    raise EngineError(f"{where}: link needs an existing portfolio room, got {target!r}")
                before_room = room_maps.get(cid) or RoomMapping(cid, "create")
                if (before_room.action, before_room.portfolio_room_id) != (action, target):
                    new_rooms.append(RoomMapping(cid, action, target, "manual"))  # type: ignore[arg-type]
            else:
                raise EngineError(f"{where}: kind must be child or room, got {kind!r}")
    store.set_child_mappings(name, new_children, who=who, reason="CSV import")
    store.set_room_mappings(name, new_rooms, who=who, reason="CSV import")
    return len(new_children) + len(new_rooms)
