"""A model-based test of a connected service's life: the CCMS changes, people change mappings,
syncs run, get killed and meet faults, and after every clean sync the portfolio must be what a
small reference model says it should be.

Hypothesis drives the real engine (the functions the CLI and the TUI call) against the real
sandbox over HTTP and a real SQLite store; nothing is mocked. The reference model below never
calls the planner: it recomputes the six-week window and each child's rooms from the bookings
(docs/sync-rules.md) and holds what a person decided, so a planner that drifts from the rules,
or a decision the engine quietly overrides, shows up as a difference.

Checked after every run, however it ended (killed, faults): no CCMS id on two live profiles
or rooms, and no more records created for a child or a room than creations were asked for.
Checked after every clean sync: a sync in a healthy world succeeds; the portfolio is what the
model says (rooms, profiles, memberships, leavers archived, records a person moved away from
kept); and a second sync plans nothing.

``SMTUI_LIFECYCLE_EXAMPLES=500 pytest tests/test_lifecycle_model.py`` runs a long exploration
and shrinks what it finds; the default is a short run that fits in CI and does not shrink (a
failure it saves in .hypothesis is replayed first by the next run, long or short).
"""

from __future__ import annotations

import datetime as dt
import os
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, cast

import pytest
from hypothesis import HealthCheck, Phase, event, note, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    precondition,
    rule,
    run_state_machine_as_test,
)

from smtui import engine
from smtui.connectors import CcmsClient, PortfolioClient
from smtui.records import Booking, CcmsSnapshot, Child, PortfolioSnapshot
from smtui.sandbox.admin import AdminClient
from smtui.sandbox.server import RunningSandbox
from smtui.store import ServiceConfig, Store
from tests import pg_helpers

WHO = "model tester"
CCMS_TOKEN_ENV = "SMTUI_LIFECYCLE_CCMS"
PORTFOLIO_TOKEN_ENV = "SMTUI_LIFECYCLE_PORTFOLIO"
WORKERS = 1  # one request at a time: a replayed example must do the same thing in the same order
FIRST_NAMES = ("Zephyrine", "Oriel", "Thaddeus", "Marisol", "Ignatius", "Petronella", "Caspian",
               "Wilhelmina")  # fmt: skip
LAST_NAMES = ("Quillfeather", "Ashgrove", "Brindlewood", "Copperleaf", "Duskmantle", "Emberly",
              "Fernhollow", "Gloamwick")  # fmt: skip
ROOM_NAMES = ("Lyrebirds", "Bandicoots", "Quolls", "Cassowaries", "Pademelons", "Bettongs")


def _examples() -> settings:
    """Short by default (CI, two cores); SMTUI_LIFECYCLE_EXAMPLES=N explores N examples
    and shrinks what fails to a minimal example."""
    long_run = os.environ.get("SMTUI_LIFECYCLE_EXAMPLES", "").strip()
    common: dict[str, Any] = {
        "deadline": None,
        "suppress_health_check": [HealthCheck.too_slow],
        "report_multiple_bugs": False,
    }
    if long_run:
        return settings(max_examples=int(long_run), stateful_step_count=30, **common)
    # No shrinking in CI: one replay takes a second or two and shrinking takes minutes; the
    # long run above shrinks, and replays a failure CI saved in .hypothesis first.
    return settings(
        max_examples=10,
        stateful_step_count=15,
        phases=[Phase.explicit, Phase.reuse, Phase.generate],
        **common,
    )


# --- the reference model: the rules, recomputed the simple way ---------------------------------


def _monday(d: dt.date) -> dt.date:
    return d - dt.timedelta(days=d.weekday())


def _window(today: dt.date) -> list[dt.date]:
    """The current week and the five after it, day by day (the model can afford it)."""
    start = _monday(today)
    return [start + dt.timedelta(days=i) for i in range(42)]


def _occurs(b: Booking, d: dt.date) -> bool:
    """A placed booking occurs on its weekdays within its dates, fortnightly ones every
    other week counted from the week of their start."""
    if b.status != "placed" or d < b.start_date or (b.end_date is not None and d > b.end_date):
        return False
    if d.isoweekday() not in b.weekdays:
        return False
    return b.every == 1 or ((_monday(d) - _monday(b.start_date)).days // 7) % 2 == 0


def _occurrences(bookings: Iterable[Booking], today: dt.date) -> list[tuple[dt.date, str]]:
    days = _window(today)
    return [(d, b.room_id) for b in bookings for d in days if _occurs(b, d)]


def _active_rooms(bookings: Iterable[Booking], today: dt.date) -> set[str]:
    """A room is active when something is booked in it in the window."""
    return {room for _d, room in _occurrences(bookings, today)}


def _target_rooms(bookings: Iterable[Booking], today: dt.date) -> frozenset[str] | None:
    """This week's rooms, else the rooms of the next booked day, else None (rooms unchanged)."""
    found = _occurrences(bookings, today)
    if not found:
        return None
    week_end = _monday(today) + dt.timedelta(days=6)
    this_week = frozenset(room for d, room in found if d <= week_end)
    if this_week:
        return this_week
    first = min(d for d, _ in found)
    return frozenset(room for d, room in found if d == first)


@dataclass(frozen=True)
class Intent:
    """What a person (or the matcher, for what nobody decided) wants for a child or a room.

    ``target`` is the profile or portfolio room for ``link`` (for ``ignore``, the one kept
    for a relink); ``forbidden`` are the records a ``create`` must not end up on: a person
    who asks for a new one does not mean the one it had.
    """

    action: Literal["link", "create", "ignore", "review"]
    target: str | None = None
    forbidden: frozenset[str] = frozenset()


def _live_by_ref(records: Iterable[Any]) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for r in records:
        if r.external_ref and not r.archived:
            out.setdefault(r.external_ref, []).append(r)
    return out


# --- a kill at a chosen store write ------------------------------------------------------------


class Killed(BaseException):
    """The process died: no handler of the engine's may catch it, as none could catch SIGKILL."""


# A SIGKILLed run's lock lives on until its lease runs out; this process lives on, so the
# lock is let go (the next run would otherwise wait a lease out, which a test cannot afford).
_SURVIVES = frozenset({"release_lock", "close"})
_APPLY_WRITES = frozenset({"set_op_state", "set_child_mappings", "set_room_mappings"})


class DyingStore:
    """The real store, dead from the ``writes``-th write of a run's apply phase on.

    Counting store writes lets a kill land where SIGKILL can: after an operation's HTTP call
    and before its journal entry or its mapping is written. Nothing is written or sent after
    it, so the journal is left as a kill leaves it (run 'running', the operation in flight).
    An exception raised from ``on_event`` cannot do this: events come only after journal
    writes, and the engine journals the run as failed on the way out.
    """

    def __init__(self, store: Store, writes: int) -> None:
        self._store = store
        self._left = writes
        self._armed = False
        self.died_in: str | None = None
        self._lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._store, name)
        if not callable(attr) or name in _SURVIVES:
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            with self._lock:
                if self.died_in is not None:
                    raise Killed(self.died_in)
                if name == "record_ops":
                    self._armed = True  # planning is over: apply starts
                elif self._armed and name in _APPLY_WRITES:
                    if self._left <= 0:
                        what = f" {args[1]} -> {args[2]}" if name == "set_op_state" else ""
                        self.died_in = name + what
                        raise Killed(self.died_in)
                    self._left -= 1
            return attr(*args, **kwargs)

        return call


# --- the machine ---------------------------------------------------------------------------


@dataclass
class World:
    """What every example shares: the session sandbox, the admin client, one small service."""

    sandbox: RunningSandbox
    admin: AdminClient
    seed: int
    today: dt.date
    service: str
    timezone: str
    tmp: Path
    examples: int = 0  # one store each: a file, or under SMTUI_TEST_DB a PostgreSQL database

    def new_store_url(self) -> str:
        """A fresh, empty store for the next example (dropped by ``drop_store``)."""
        self.examples += 1
        server = pg_helpers.server_url()
        if server is None:
            return str(self.tmp / f"example-{self.examples}.db")
        return pg_helpers.create_database(server)

    def drop_store(self, url: str) -> None:
        if pg_helpers.on_postgres():
            pg_helpers.drop_database(url)


class LifecycleMachine(RuleBasedStateMachine):
    """One service, set up, then changed in every way the CCMS and a person can change it."""

    def __init__(self, world: World) -> None:
        super().__init__()
        self.w = world
        self.svc = world.service
        self.today = world.today
        self.store: Store | None = None
        self.store_url: str | None = None
        self.ccms_client: CcmsClient | None = None
        self.portfolio_client: PortfolioClient | None = None
        self.children: dict[str, Intent] = {}
        self.rooms: dict[str, Intent] = {}
        # records the engine created, per CCMS id, and how many creations were asked for
        self.made_profiles: Counter[str] = Counter()
        self.made_rooms: Counter[str] = Counter()
        self.allowed_profiles: Counter[str] = Counter()
        self.allowed_rooms: Counter[str] = Counter()
        self.seen_profiles: set[str] = set()
        self.seen_rooms: set[str] = set()
        # records a person moved a child or a room away from: kept, never archived for it
        self.released_profiles: set[str] = set()
        self.released_rooms: set[str] = set()
        self.unlinked_rooms: dict[str, bool] = {}  # portfolio room -> archived when unlinked
        self.ccms = CcmsSnapshot(children=(), rooms=(), bookings=())
        self.portfolio = PortfolioSnapshot(profiles=(), rooms=())
        self.names = 0

    # --- plumbing ---

    @property
    def db(self) -> Store:
        assert self.store is not None
        return self.store

    def _read(self) -> None:
        """The truth of both systems, read as a person would check it."""
        assert self.ccms_client is not None and self.portfolio_client is not None
        self.ccms = self.ccms_client.snapshot()
        self.portfolio = self.portfolio_client.snapshot()
        assert self.ccms.complete and self.portfolio.complete, "the model's own read failed"

    def _cached_portfolio(self) -> PortfolioSnapshot:
        snap = self.db.load_portfolio_snapshot(self.svc)
        assert snap is not None
        return snap

    def _adopt_proposals(self) -> None:
        """Children and rooms nobody decided take the matcher's proposal as their intent."""
        for cid, m in self.db.child_mappings(self.svc).items():
            if cid in self.children:
                continue
            if m.action == "link":
                self.children[cid] = Intent("link", m.profile_id)
                new = m.profile_id is not None and m.profile_id not in self.seen_profiles
                self.allowed_profiles[cid] += int(new)  # created by the run that proposed it
            elif m.action == "ignore":
                self.children[cid] = Intent("ignore", m.profile_id)
            else:
                self.children[cid] = Intent(m.action)
                self.allowed_profiles[cid] += int(m.action == "create")
        for rid, rm in self.db.room_mappings(self.svc).items():
            if rid in self.rooms:
                continue
            if rm.action == "create":
                self.rooms[rid] = Intent("create")
                self.allowed_rooms[rid] += 1
            else:
                self.rooms[rid] = Intent(rm.action, rm.portfolio_room_id)
                new = (
                    rm.portfolio_room_id is not None and rm.portfolio_room_id not in self.seen_rooms
                )
                self.allowed_rooms[rid] += int(rm.action == "link" and new)

    def _refresh(self) -> None:
        """Re-read both systems into the store first, as the TUI's `R` does before deciding."""
        refreshed = engine.refresh(self.db, self.svc)
        assert refreshed.complete, refreshed.problems
        self._adopt_proposals()
        self._read()

    def _after_run(self, what: str) -> None:
        """After any run, however it ended: nothing is ever duplicated."""
        self._adopt_proposals()
        self._read()
        problems: list[str] = []
        for p in self.portfolio.profiles:
            if p.id not in self.seen_profiles:
                self.seen_profiles.add(p.id)
                if p.external_ref is None:
                    problems.append(f"profile {p.id} was created without a CCMS id")
                else:
                    self.made_profiles[p.external_ref] += 1
        for r in self.portfolio.rooms:
            if r.id not in self.seen_rooms:
                self.seen_rooms.add(r.id)
                if r.external_ref is None:
                    problems.append(f"portfolio room {r.id} was created without a CCMS id")
                else:
                    self.made_rooms[r.external_ref] += 1
        for ref, n in self.made_profiles.items():
            if n > self.allowed_profiles[ref]:
                problems.append(
                    f"{n} profiles were created for child {ref}; "
                    f"{self.allowed_profiles[ref]} creation(s) were asked for"
                )
        for ref, n in self.made_rooms.items():
            if n > self.allowed_rooms[ref]:
                problems.append(
                    f"{n} portfolio rooms were created for room {ref}; "
                    f"{self.allowed_rooms[ref]} creation(s) were asked for"
                )
        for ref, live in _live_by_ref(self.portfolio.profiles).items():
            if len(live) > 1:
                problems.append(f"child {ref} is on {len(live)} live profiles: {_ids(live)}")
        for ref, live in _live_by_ref(self.portfolio.rooms).items():
            if len(live) > 1:
                problems.append(f"room {ref} is on {len(live)} live portfolio rooms: {_ids(live)}")
        assert not problems, f"after {what}:\n  " + "\n  ".join(problems)

    def _bookings_of(self, child_id: str) -> list[Booking]:
        return [b for b in self.ccms.bookings if b.child_id == child_id]

    def _active_children(self) -> list[Child]:
        return sorted(
            (c for c in self.ccms.children if c.status == "active" and c.id in self.children),
            key=lambda c: c.id,
        )

    def _next_name(self) -> tuple[str, str]:
        n = self.names
        self.names += 1
        first = FIRST_NAMES[n % len(FIRST_NAMES)]
        last = LAST_NAMES[(n // len(FIRST_NAMES)) % len(LAST_NAMES)]
        return first, last + ("" if n < 64 else f"-{n // 64}")

    def _past_start(self, weeks: int) -> dt.date:
        return self.today - dt.timedelta(weeks=weeks)

    # --- the reference model's verdict ---

    def _check_converged(self) -> None:
        """After a clean sync: the portfolio is what the CCMS and the decisions say."""
        self._read()
        problems: list[str] = []
        prooms = {r.id: r for r in self.portfolio.rooms}
        profiles = {p.id: p for p in self.portfolio.profiles}
        rooms_by_ref = _live_by_ref(self.portfolio.rooms)
        profiles_by_ref = _live_by_ref(self.portfolio.profiles)
        active = _active_rooms(self.ccms.bookings, self.today)
        managed: dict[str, str] = {}  # CCMS room -> the live portfolio room it is kept in
        for room in sorted(self.ccms.rooms, key=lambda r: r.id):
            intent = self.rooms.get(room.id)
            if intent is None:
                problems.append(f"room {room.id} ({room.name}) has no mapping after a sync")
                continue
            if intent.action == "ignore":
                continue
            if intent.action == "link":
                assert intent.target is not None
                proom = prooms.get(intent.target)
                if proom is None:
                    problems.append(f"room {room.id}: portfolio room {intent.target} is gone")
                elif room.id not in active:
                    if not proom.archived:
                        problems.append(
                            f"room {room.id} has nothing booked in the window but its "
                            f"portfolio room {proom.id} was not removed"
                        )
                elif proom.archived or proom.external_ref != room.id:
                    problems.append(
                        f"room {room.id} is booked and linked to {proom.id}, which is "
                        f"archived={proom.archived} with external_ref={proom.external_ref!r}"
                    )
                else:
                    managed[room.id] = proom.id
                continue
            if room.id not in active:
                continue  # create: made once something is booked
            carriers = rooms_by_ref.get(room.id, [])
            if len(carriers) != 1:
                problems.append(
                    f"room {room.id} is booked and to be created, but {len(carriers)} live "
                    "portfolio rooms carry its id"
                )
            elif carriers[0].id in intent.forbidden:
                problems.append(
                    f"room {room.id}: a person asked for a new portfolio room, but it is still "
                    f"kept in {carriers[0].id}"
                )
            else:
                managed[room.id] = carriers[0].id
        managed_pids = set(managed.values())
        room_targets = {i.target for i in self.rooms.values() if i.target}
        for pid in sorted(self.released_rooms - room_targets):
            if prooms[pid].archived:
                problems.append(f"portfolio room {pid} was moved away from, and then removed")
        for rid, intent in sorted(self.rooms.items()):
            kept = prooms.get(intent.target or "")
            was = self.unlinked_rooms.get(intent.target or "")
            if intent.action == "ignore" and kept and was is not None and kept.archived != was:
                problems.append(f"room {rid} is unlinked, but its portfolio room was changed")
        child_targets = {i.target for i in self.children.values() if i.action == "link"}
        for pid in sorted(self.released_profiles - child_targets):
            if profiles[pid].archived:
                problems.append(f"profile {pid} was moved away from, and then archived")

        for child in sorted(self.ccms.children, key=lambda c: c.id):
            intent = self.children.get(child.id)
            carriers = profiles_by_ref.get(child.id, [])
            if intent is not None and intent.action == "ignore" and carriers:
                problems.append(
                    f"child {child.id} is not to be added, but {_ids(carriers)} still carry its id"
                )
            if intent is None or intent.action in ("ignore", "review"):
                continue
            if child.status != "active":
                if carriers:
                    problems.append(
                        f"child {child.id} has left but live profile(s) {_ids(carriers)} "
                        "still carry its id"
                    )
                gone = profiles.get(intent.target) if intent.target else None
                if intent.action == "link" and gone is not None and not gone.archived:
                    problems.append(f"child {child.id} has left but {gone.id} is not archived")
                continue
            targets = _target_rooms(self._bookings_of(child.id), self.today)
            want = None if targets is None else {managed[r] for r in targets if r in managed}
            if intent.action == "link":
                assert intent.target is not None
                profile = profiles.get(intent.target)
                if profile is None or profile.archived or profile.external_ref != child.id:
                    problems.append(
                        f"child {child.id} is linked to {intent.target}, which is "
                        + (
                            "gone"
                            if profile is None
                            else f"archived={profile.archived} with "
                            f"external_ref={profile.external_ref!r}"
                        )
                    )
                    continue
            else:  # create
                if not want:
                    continue  # no booked managed room yet: waits, so it is never roomless
                if len(carriers) != 1:
                    problems.append(
                        f"child {child.id} is to be created in {sorted(want)} but "
                        f"{len(carriers)} live profiles carry its id"
                    )
                    continue
                profile = carriers[0]
                if profile.id in intent.forbidden:
                    problems.append(
                        f"child {child.id}: a person asked for a new profile, but it is still "
                        f"on {profile.id}"
                    )
                    continue
            if want is not None:
                have = set(profile.room_ids) & managed_pids
                if have != want:
                    problems.append(
                        f"child {child.id} ({profile.id}) is in managed rooms {sorted(have)}; "
                        f"its bookings say {sorted(want)}"
                    )
        assert not problems, "the portfolio is not what the model expects:\n  " + "\n  ".join(
            problems
        )
        # creations carried out become links: a later "create" must not mean these either
        for rid, intent in list(self.rooms.items()):
            if intent.action == "create" and rid in managed:
                self.rooms[rid] = Intent("link", managed[rid])
        for cid, intent in list(self.children.items()):
            live = profiles_by_ref.get(cid, [])
            if intent.action == "create" and len(live) == 1 and live[0].id not in intent.forbidden:
                self.children[cid] = Intent("link", live[0].id)

    def _check_nothing_left(self) -> None:
        """A sync right after a clean one has nothing to do."""
        again = engine.dry_run(self.db, self.svc, as_of=self.today)
        self._adopt_proposals()
        left = [op.label for op in again.plan.operations]
        assert again.plan.is_empty, f"a second sync would still do: {left}"

    def _sync(self, what: str, approve: bool = False, store: Store | None = None) -> bool:
        """Run a sync without faults; it must succeed. Returns True for a clean, ok one."""
        result = engine.run_sync(
            store or self.db, self.svc, as_of=self.today, approve=approve, workers=WORKERS
        )
        note(f"{what}: {result.run.result}, {result.plan.counts()}")
        self._after_run(what)
        errors = "; ".join(result.outcome.errors[:5])
        assert result.run.result in ("ok", "held"), (
            f"{what} in a healthy world ended {result.run.result!r}: "
            f"{result.run.message or errors} (remaining {result.remaining})"
        )
        if result.run.result != "ok":
            event("sync held for approval: not checked")
            return False
        event("clean sync: checked against the model")
        self._check_converged()
        self._check_nothing_left()
        return True

    # --- setup ---

    @initialize()
    def set_up(self) -> None:
        """A fresh world and store; the service connected with the matcher's proposals."""
        w = self.w
        w.admin.reset(seed=w.seed, today=w.today, services="all")
        w.admin.clear_faults()
        self.store_url = w.new_store_url()
        self.store = engine.open_store(self.store_url)
        engine.add_service(
            self.store,
            ServiceConfig(
                name=self.svc,
                ccms_url=w.sandbox.ccms_url(self.svc),
                portfolio_url=w.sandbox.portfolio_url(self.svc),
                ccms_token_env=CCMS_TOKEN_ENV,
                portfolio_token_env=PORTFOLIO_TOKEN_ENV,
                timezone=w.timezone,
            ),
        )
        self.ccms_client = CcmsClient(w.sandbox.ccms_url(self.svc), w.sandbox.ccms_token)
        self.portfolio_client = PortfolioClient(
            w.sandbox.portfolio_url(self.svc), w.sandbox.portfolio_token
        )
        self._read()
        self.seen_profiles = {p.id for p in self.portfolio.profiles}
        self.seen_rooms = {r.id for r in self.portfolio.rooms}
        self._refresh()
        result = engine.run_sync(self.db, self.svc, setup=True, as_of=self.today, workers=WORKERS)
        assert result.run.result == "ok", result.run.message
        self._after_run("setup")
        self._check_converged()
        self._check_nothing_left()

    def teardown(self) -> None:
        for client in (self.ccms_client, self.portfolio_client):
            if client is not None:
                client.close()
        if self.store is not None:
            self.store.close()
        if self.store_url is not None:
            self.w.drop_store(self.store_url)
        self.w.admin.clear_faults()

    # --- the CCMS changes, through the sandbox admin API ---

    @rule(data=st.data())
    def enrol_a_child(self, data: st.DataObject) -> None:
        """A family enrols: an open-ended weekly booking in an existing room, started lately."""
        rooms = sorted(r.id for r in self.ccms.rooms)
        room = data.draw(st.sampled_from(rooms), label="room")
        days = data.draw(st.sets(st.integers(1, 5), min_size=1), label="weekdays")
        weeks = data.draw(st.integers(1, 20), label="started weeks ago")
        first, last = self._next_name()
        child, _ = self.w.admin.enrol(
            self.svc,
            first_name=first,
            last_name=last,
            birth_date=self.today - dt.timedelta(days=700 + 37 * self.names),
            room_id=room,
            weekdays=sorted(days),
            start_date=self._past_start(weeks),
        )
        note(f"enrolled {child.id} ({first} {last}) in {room}")
        self._read()

    @precondition(lambda self: bool(self._active_children()))
    @rule(data=st.data())
    def a_child_leaves(self, data: st.DataObject) -> None:
        """Inactive from today, bookings ended yesterday: the profile is to be archived."""
        child = data.draw(st.sampled_from([c.id for c in self._active_children()]), label="child")
        self.w.admin.leave(self.svc, child, last_day=self.today - dt.timedelta(days=1))
        self._read()

    @precondition(
        lambda self: any(
            c.status != "active"
            and self.children.get(c.id, Intent("review")).action in ("link", "create")
            for c in self.ccms.children
        )
    )
    @rule(data=st.data())
    def a_leaver_returns(self, data: st.DataObject) -> None:
        """Back after a year away: active again, with a booking from this week."""
        leavers = sorted(
            c.id
            for c in self.ccms.children
            if c.id in self.children
            and c.status != "active"
            and self.children[c.id].action in ("link", "create")
        )
        child = data.draw(st.sampled_from(leavers), label="child")
        room = data.draw(st.sampled_from(sorted(r.id for r in self.ccms.rooms)), label="room")
        self.w.admin.update_child(self.svc, child, status="active")
        self.w.admin.add_booking(
            self.svc, child_id=child, room_id=room, start_date=self.today, weekdays=[1, 3]
        )
        self._read()

    @precondition(lambda self: bool(self._active_children()) and len(self.ccms.rooms) > 1)
    @rule(data=st.data())
    def a_child_moves_room(self, data: st.DataObject) -> None:
        """Rebooked into another room from today (the admin API's move)."""
        movers = [c.id for c in self._active_children() if self._bookings_of(c.id)]
        if not movers:
            return
        child = data.draw(st.sampled_from(movers), label="child")
        now = {b.room_id for b in self._bookings_of(child) if b.status == "placed"}
        others = sorted(r.id for r in self.ccms.rooms if r.id not in now)
        if not others:
            return
        room = data.draw(st.sampled_from(others), label="to room")
        if not self.w.admin.move(self.svc, child, room, from_day=self.today):
            # nothing permanent to move: book the new room instead
            self.w.admin.add_booking(
                self.svc,
                child_id=child,
                room_id=room,
                start_date=self._past_start(1),
                weekdays=[2, 4],
            )
        self._read()

    @precondition(lambda self: len(self.ccms.rooms) < 3 + len(ROOM_NAMES))
    @rule(data=st.data())
    def a_ccms_room_opens(self, data: st.DataObject) -> None:
        """A new CCMS room, with a new child or an existing one booked into it."""
        name = ROOM_NAMES[len(self.ccms.rooms) % len(ROOM_NAMES)]
        room = self.w.admin.add_room(self.svc, f"{name} {len(self.ccms.rooms)}")
        existing = [c.id for c in self._active_children()]
        who = data.draw(st.sampled_from(["new child", *existing]), label="booked")
        days = sorted(data.draw(st.sets(st.integers(1, 5), min_size=1), label="weekdays"))
        if who == "new child":
            first, last = self._next_name()
            self.w.admin.enrol(
                self.svc,
                first_name=first,
                last_name=last,
                birth_date=self.today - dt.timedelta(days=900 + 41 * self.names),
                room_id=room.id,
                weekdays=days,
                start_date=self._past_start(2),
            )
        else:
            self.w.admin.add_booking(
                self.svc, child_id=who, room_id=room.id, start_date=self._past_start(3),
                weekdays=days,
            )  # fmt: skip
        note(f"opened room {room.id} ({room.name}), booked {who}")
        self._read()

    @precondition(lambda self: bool(_active_rooms(self.ccms.bookings, self.today)))
    @rule(data=st.data())
    def a_room_closes(self, data: st.DataObject) -> None:
        """Nothing booked in the current or next five weeks: running bookings end yesterday,
        later ones are deleted or cancelled."""
        active = sorted(_active_rooms(self.ccms.bookings, self.today))
        room = data.draw(st.sampled_from(active), label="room")
        window_end = _window(self.today)[-1]
        for b in sorted(self.ccms.bookings, key=lambda b: b.id):
            if b.room_id != room or b.status != "placed" or b.start_date > window_end:
                continue
            if b.end_date is not None and b.end_date < self.today:
                continue
            if b.start_date < self.today:
                self.w.admin.end_booking(self.svc, b.id, self.today - dt.timedelta(days=1))
            elif data.draw(st.booleans(), label=f"delete {b.id} (else cancel)"):
                self.w.admin.delete_booking(self.svc, b.id)
            else:
                self.w.admin.cancel_booking(self.svc, b.id)
        self._read()
        assert room not in _active_rooms(self.ccms.bookings, self.today)

    # --- a person's decisions, through the engine's mapping functions ---

    def _free_profiles(self, child_id: str) -> list[str]:
        """Profiles a person may link this child to without taking another child's."""
        taken = {i.target for i in self.children.values() if i.action == "link" and i.target}
        current = self.children[child_id].target
        return sorted(
            p.id
            for p in self._cached_portfolio().profiles
            if p.id not in taken
            and p.id != current
            and p.external_ref in (None, child_id)
            and engine.link_conflict(self.db, self.svc, child_id, p.id) is None
        )

    def _free_rooms(self, room_id: str) -> list[str]:
        """Portfolio rooms no other CCMS room is (or was, when unlinked) mapped to."""
        taken = {i.target for i in self.rooms.values() if i.target}
        return sorted(
            r.id
            for r in self._cached_portfolio().rooms
            if r.id not in taken and r.external_ref in (None, room_id)
        )

    def _moved_away_from_profiles(self, child_id: str) -> None:
        """The live profiles this child had, which a person's new decision leaves as they are."""
        had = {p.id for p in _live_by_ref(self.portfolio.profiles).get(child_id, [])}
        target = self.children[child_id].target
        live = {p.id for p in self.portfolio.profiles if not p.archived}
        self.released_profiles |= had | ({target} & live if target else set())

    def _moved_away_from_rooms(self, room_id: str) -> None:
        had = {r.id for r in _live_by_ref(self.portfolio.rooms).get(room_id, [])}
        target = self.rooms[room_id].target
        live = {r.id for r in self.portfolio.rooms if not r.archived}
        self.released_rooms |= had | ({target} & live if target else set())

    def _children_with(self, *actions: str) -> list[str]:
        return [c.id for c in self._active_children() if self.children[c.id].action in actions]

    def _rooms_with(self, *actions: str) -> list[str]:
        known = {r.id for r in self.ccms.rooms}
        return sorted(rid for rid, i in self.rooms.items() if i.action in actions and rid in known)

    @precondition(lambda self: bool(self._active_children()))
    @rule(data=st.data())
    def link_a_child_to_another_profile(self, data: st.DataObject) -> None:
        """`l` in the children grid (also a "don't add" or "create" child)."""
        self._refresh()
        child = data.draw(
            st.sampled_from(self._children_with("link", "create", "ignore", "review")),
            label="child",
        )
        free = self._free_profiles(child)
        if not free:
            return
        profile = data.draw(st.sampled_from(free), label="profile")
        engine.set_children(self.db, self.svc, [child], "link", profile_id=profile, who=WHO)
        self._moved_away_from_profiles(child)
        self.released_profiles.discard(profile)  # from now on the rules decide its fate
        self.children[child] = Intent("link", profile)

    @precondition(lambda self: bool(self._children_with("link", "ignore", "review")))
    @rule(data=st.data())
    def create_a_new_profile_for_a_child(self, data: st.DataObject) -> None:
        """`c`: a new profile, not the one it is linked to (nor its don't-add profile)."""
        self._refresh()
        child = data.draw(st.sampled_from(self._children_with("link", "ignore", "review")))
        before = self.children[child]
        carriers = {p.id for p in _live_by_ref(self.portfolio.profiles).get(child, [])}
        engine.set_children(self.db, self.svc, [child], "create", who=WHO)
        forbidden = carriers | ({before.target} if before.target else set())
        self._moved_away_from_profiles(child)
        self.children[child] = Intent("create", forbidden=frozenset(forbidden))
        self.allowed_profiles[child] += 1

    @precondition(lambda self: bool(self._children_with("link", "create", "review")))
    @rule(data=st.data())
    def dont_add_a_child(self, data: st.DataObject) -> None:
        """`x`: the child is synced no more; its profile gives up the CCMS id and is kept."""
        self._refresh()
        child = data.draw(st.sampled_from(self._children_with("link", "create", "review")))
        engine.set_children(self.db, self.svc, [child], "ignore", who=WHO)
        self._moved_away_from_profiles(child)
        self.children[child] = Intent("ignore", self.children[child].target)

    def _link_room(self, data: st.DataObject, *actions: str) -> None:
        self._refresh()
        rooms = self._rooms_with(*actions)
        if not rooms:
            return
        room = data.draw(st.sampled_from(rooms), label="room")
        free = [r for r in self._free_rooms(room) if r != self.rooms[room].target]
        if not free:
            return
        proom = data.draw(st.sampled_from(free), label="portfolio room")
        engine.set_rooms(self.db, self.svc, [room], "link", portfolio_room_id=proom, who=WHO)
        self._moved_away_from_rooms(room)
        self.released_rooms.discard(proom)  # from now on the rules decide its fate
        self.rooms[room] = Intent("link", proom)

    @precondition(lambda self: bool(self._rooms_with("link")))
    @rule(data=st.data())
    def link_a_room_to_another_portfolio_room(self, data: st.DataObject) -> None:
        """`l` in the rooms grid: e.g. "Whole Centre", or a room another one was moved off."""
        self._link_room(data, "link")

    @precondition(lambda self: bool(self._rooms_with("create")) or len(self.ccms.rooms) > 3)
    @rule(data=st.data())
    def link_a_room_to_be_created(self, data: st.DataObject) -> None:
        """create -> link: e.g. a new CCMS room the educators already made by hand."""
        self._link_room(data, "create")

    @precondition(lambda self: bool(self._rooms_with("link")))
    @rule(data=st.data())
    def create_a_new_portfolio_room(self, data: st.DataObject) -> None:
        """`c` on a linked room: a new portfolio room, not the one it is linked to."""
        self._refresh()
        room = data.draw(st.sampled_from(self._rooms_with("link")), label="room")
        before = self.rooms[room]
        carriers = {r.id for r in _live_by_ref(self.portfolio.rooms).get(room, [])}
        engine.set_rooms(self.db, self.svc, [room], "create", who=WHO)
        forbidden = carriers | ({before.target} if before.target else set())
        self._moved_away_from_rooms(room)
        self.rooms[room] = Intent("create", forbidden=frozenset(forbidden))
        self.allowed_rooms[room] += 1

    @precondition(lambda self: bool(self._rooms_with("link", "create")))
    @rule(data=st.data())
    def unlink_a_room(self, data: st.DataObject) -> None:
        """`n`: keep the portfolio room as it is (a holiday closure): never touched."""
        self._refresh()
        room = data.draw(st.sampled_from(self._rooms_with("link", "create")), label="room")
        engine.set_rooms(self.db, self.svc, [room], "ignore", who=WHO)
        kept = self.db.room_mappings(self.svc)[room].portfolio_room_id
        self.rooms[room] = Intent("ignore", kept)
        was = {r.id: r.archived for r in self.portfolio.rooms}.get(kept or "")
        if kept is not None and was is not None:
            self.unlinked_rooms[kept] = was

    @precondition(lambda self: bool(self._rooms_with("ignore")))
    @rule(data=st.data())
    def relink_a_room(self, data: st.DataObject) -> None:
        """`L`: back to the portfolio room it had, if no other room took it meanwhile."""
        self._refresh()
        room = data.draw(st.sampled_from(self._rooms_with("ignore")), label="room")
        kept = self.db.room_mappings(self.svc)[room].portfolio_room_id
        others = {i.target for rid, i in self.rooms.items() if rid != room and i.target}
        if kept is None or kept in others:
            return
        engine.set_rooms(self.db, self.svc, [room], "relink", who=WHO)
        self.rooms[room] = Intent("link", kept)

    # --- syncs ---

    @rule()
    def sync(self) -> None:
        """What cron runs: archives over the thresholds are held for a person."""
        self._sync("sync")

    @rule()
    def sync_approving_what_is_held(self) -> None:
        """`smtui sync NAME --approve`: a person's go-ahead for the held archives, if any."""
        self._sync("sync --approve", approve=True)

    @rule(data=st.data())
    def sync_killed_part_way(self, data: st.DataObject) -> None:
        """SIGKILL at a store write of the apply; if the run gets past it, an ordinary sync."""
        pending = engine.dry_run(self.db, self.svc, as_of=self.today).plan
        self._adopt_proposals()
        todo = sum(1 for op in pending.operations if not op.held)
        if todo == 0:
            return
        writes = data.draw(st.integers(0, 3 * todo - 1), label="killed at write")
        dying = DyingStore(self.db, writes)
        try:
            survived = self._sync(
                f"a sync to be killed at write {writes}", store=cast(Store, dying)
            )
        except Killed:
            event("sync killed part-way")
            note(f"killed before {dying.died_in}")
            self._after_run(f"a sync killed at write {writes}")
            return
        note(f"the run needed fewer than {writes} writes (clean: {survived})")

    @rule(
        kind=st.sampled_from(["500", "drop", "429", "malformed", "truncate"]),
        count=st.integers(1, 2),
        scope=st.sampled_from(["all", "list", "write"]),
        system=st.sampled_from(["ccms", "portfolio", None]),
    )
    def sync_with_faults(self, kind: str, count: int, scope: str, system: str | None) -> None:
        """Some failed requests for one sync: retried, or the read marked incomplete."""
        self.w.admin.set_faults(rate=1, kinds=[kind], count=count, scope=scope, system=system,
                                service_id=self.svc, retry_after=0)  # fmt: skip
        try:
            result = engine.run_sync(self.db, self.svc, as_of=self.today, workers=WORKERS)
            note(f"sync with faults: {result.run.result} {result.run.message}")
        except engine.EngineError as exc:
            note(f"sync with faults refused: {exc}")
        finally:
            self.w.admin.clear_faults()
        self._after_run(f"a sync with {count} {kind} fault(s)")


def _ids(records: Iterable[Any]) -> list[str]:
    return sorted(r.id for r in records)


def test_a_service_stays_in_step_through_its_life(
    sandbox: RunningSandbox,
    sandbox_admin: AdminClient,
    sandbox_today: dt.date,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The smallest seeded service, set up and then lived in: see the module docstring."""
    monkeypatch.setenv(CCMS_TOKEN_ENV, sandbox.ccms_token)
    monkeypatch.setenv(PORTFOLIO_TOKEN_ENV, sandbox.portfolio_token)
    seed = int(sandbox_admin.state()["seed"])
    sandbox_admin.reset(seed=seed, today=sandbox_today, services="all")
    smallest = min(sandbox_admin.services(), key=lambda s: s["counts"]["children"])
    world = World(
        sandbox=sandbox,
        admin=sandbox_admin,
        seed=seed,
        today=sandbox_today,
        service=smallest["id"],
        timezone=smallest["timezone"],
        tmp=tmp_path,
    )
    factory: Callable[[], LifecycleMachine] = lambda: LifecycleMachine(world)  # noqa: E731
    try:
        run_state_machine_as_test(factory, settings=_examples())
    finally:
        sandbox_admin.reset(seed=seed, today=sandbox_today, services="all")
        sandbox_admin.clear_faults()
