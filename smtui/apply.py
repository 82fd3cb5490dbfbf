"""Apply a plan through the portfolio client, journaling every operation.

The run journals every operation ``planned`` before the first call, and each one ``done``,
``failed`` or ``unknown`` after its call, in one transaction with the link it made
(``Store.finish_op``): one write per operation. A run killed at any point leaves a journal the
next run can read: an operation still ``planned`` may or may not have been sent, exactly what
an ``in_flight`` mark would have said, and the next run treats both alike (it re-reads both
sides, adopts what a create made, closes the old entries and plans afresh). Creates carry an
Idempotency-Key derived from the operation id and its count of *journaled* successes, which a
kill before the ``done`` write leaves unchanged, and a created record carries the CCMS id as
its external_ref, so a resumed run either gets the same record back or finds it on re-read:
never a second profile or room. Watchers still see each operation go ``in_flight``
(``on_event``); only the journal write is gone.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import groupby
from typing import Any

from smtui.connectors import (
    ApiError,
    InvalidError,
    NotFoundError,
    PortfolioClient,
    scrub_credentials,
)
from smtui.plan import Operation, Plan
from smtui.records import Child, ChildMapping, RoomMapping
from smtui.store import Store
from smtui.views import OpEvent

DEFAULT_WORKERS = 8


@dataclass
class ApplyOutcome:
    done: int = 0
    failed: int = 0
    unknown: int = 0
    held: int = 0
    not_started: int = 0  # left planned: the run lost its lock lease before their turn
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.failed == 0 and self.unknown == 0 and self.not_started == 0


class _MissingTarget(Exception):
    """An operation refers to a record an earlier operation of this run failed to make."""


@dataclass
class _Run:
    """Mutable state of one apply: the mappings grow as creates succeed."""

    store: Store
    service: str
    client: PortfolioClient
    run_id: int
    children: Mapping[str, Child]
    child_maps: dict[str, ChildMapping]
    room_maps: dict[str, RoomMapping]
    who: str
    on_event: Callable[[OpEvent], None] | None
    lock: threading.Lock = field(default_factory=threading.Lock)
    # archived rooms whose restore failed: children must not be moved into a room nobody sees
    unrestored: set[str] = field(default_factory=set)
    # children whose move into a room failed: they stay in the room they have
    not_added: set[str] = field(default_factory=set)
    # CCMS ids whose old record still carries them: the new record must not take them yet
    unreleased: set[str] = field(default_factory=set)
    stop: Callable[[], bool] | None = None
    done_before: dict[str, int] = field(default_factory=dict)  # create op id -> successes
    outcome: ApplyOutcome = field(default_factory=ApplyOutcome)

    def key(self, op: Operation) -> str:
        return idempotency_key(self.service, op, self.done_before.get(op.id, 0))

    def emit(self, op: Operation, state: str, error: str | None = None) -> None:
        if self.on_event is not None:
            self.on_event(OpEvent(self.run_id, op.id, op.kind, op.label, state, error))

    def profile_id(self, child_id: str | None, given: str | None) -> str:
        if given:
            return given
        mapping = self.child_maps.get(child_id or "")
        if mapping is None or mapping.profile_id is None:
            raise _MissingTarget(f"no profile for child {child_id}: its create did not succeed")
        return mapping.profile_id

    def room_id(self, room_id: str | None, given: str | None) -> str:
        if given in self.unrestored:
            raise _MissingTarget(f"portfolio room {given} is still archived: its restore failed")
        if given:
            return given
        mapping = self.room_maps.get(room_id or "")
        if mapping is None or mapping.portfolio_room_id is None:
            raise _MissingTarget(
                f"no portfolio room for room {room_id}: its create did not succeed"
            )
        return mapping.portfolio_room_id

    def check_released(self, key: str) -> None:
        if key in self.unreleased:
            raise _MissingTarget("its old record still carries the CCMS id: releasing it failed")

    def remember_child(self, child_id: str, profile_id: str) -> ChildMapping:
        """The link made and the CCMS values now in the portfolio (the three-way base),
        to be saved with the op's outcome."""
        child = self.children.get(child_id)
        with self.lock:
            before = self.child_maps.get(child_id) or ChildMapping(child_id, "link")
            after = dataclasses.replace(
                before,
                action="link",
                profile_id=profile_id,
                release_profile_id=None,
                synced_first_name=child.first_name if child else before.synced_first_name,
                synced_last_name=child.last_name if child else before.synced_last_name,
                synced_birth_date=child.birth_date if child else before.synced_birth_date,
            )
            self.child_maps[child_id] = after
        return after

    def remember_room(self, room_id: str, portfolio_room_id: str) -> RoomMapping:
        with self.lock:
            before = self.room_maps.get(room_id) or RoomMapping(room_id, "link")
            after = dataclasses.replace(
                before, action="link", portfolio_room_id=portfolio_room_id, release_room_id=None
            )
            self.room_maps[room_id] = after
        return after


#: Creates carry an Idempotency-Key: a resumed create gets its record back, never a second one.
CREATES = ("create_room", "create_profile")


def idempotency_key(service: str, op: Operation, done_before: int = 0) -> str:
    """The key of one create. The same create done again after it succeeded (a person chose
    "create" for a child whose profile smtui created at setup) is a new change, not a replay:
    the count of earlier successes tells them apart, and stays the same while a killed create
    is retried."""
    suffix = f"-{done_before}" if done_before else ""
    return f"smtui-{service}-{op.id}{suffix}"


def _fields(op: Operation) -> dict[str, Any]:
    return dict(op.fields)


def _execute(run: _Run, op: Operation) -> ChildMapping | RoomMapping | None:
    """One operation against the portfolio; raises on failure, else the link to save."""
    client, f = run.client, _fields(op)
    match op.kind:
        case "release_room":
            client.update_room(op.portfolio_room_id or "", external_ref=None)
        case "create_room":
            run.check_released(f"room:{op.room_id}")
            room = client.create_room(
                name=f["name"],
                external_ref=op.room_id,
                idempotency_key=run.key(op),
            )
            return run.remember_room(op.room_id or "", room.id)
        case "link_room":
            run.check_released(f"room:{op.room_id}")
            room_pid = run.room_id(op.room_id, op.portfolio_room_id)
            client.update_room(room_pid, external_ref=op.room_id)
            return run.remember_room(op.room_id or "", room_pid)
        case "unarchive_room":
            room_pid = run.room_id(op.room_id, op.portfolio_room_id)
            client.unarchive_room(room_pid)
            return run.remember_room(op.room_id or "", room_pid)
        case "release_profile":
            client.update_profile(op.profile_id or "", external_ref=None)
        case "create_profile":
            run.check_released(f"child:{op.child_id}")
            room_ids = [run.room_id(r, None) for r in f.get("room_ids", ())]
            profile = client.create_profile(
                first_name=f["first_name"],
                last_name=f["last_name"],
                birth_date=f.get("birth_date"),
                external_ref=op.child_id,
                room_ids=room_ids,
                idempotency_key=run.key(op),
            )
            return run.remember_child(op.child_id or "", profile.id)
        case "link_profile" | "update_profile":
            run.check_released(f"child:{op.child_id}")
            pid = run.profile_id(op.child_id, op.profile_id)
            changes = {k: v for k, v in f.items() if k in ("first_name", "last_name", "birth_date")}
            if op.kind == "link_profile":
                changes["external_ref"] = op.child_id
            if changes:
                client.update_profile(pid, **changes)
            return run.remember_child(op.child_id or "", pid)
        case "unarchive_profile":
            client.unarchive_profile(run.profile_id(op.child_id, op.profile_id))
        case "archive_profile":
            client.archive_profile(run.profile_id(op.child_id, op.profile_id))
        case "add_membership":
            client.add_member(
                run.room_id(op.room_id, op.portfolio_room_id),
                run.profile_id(op.child_id, op.profile_id),
            )
        case "remove_membership":
            if op.child_id in run.not_added:
                raise _MissingTarget("kept in this room: adding it to its new room failed")
            client.remove_member(
                run.room_id(op.room_id, op.portfolio_room_id),
                run.profile_id(op.child_id, op.profile_id),
            )
        case "archive_room":
            client.archive_room(run.room_id(op.room_id, op.portfolio_room_id))
        case other:
            raise ValueError(f"unknown operation kind {other!r}")
    return None


def _run_one(run: _Run, op: Operation) -> None:
    if run.stop is not None and run.stop():
        with run.lock:
            run.outcome.not_started += 1
        return  # left planned in the journal: the next run re-reads and re-plans it
    run.emit(op, "in_flight")  # not journaled: "planned" already says "maybe sent" (above)
    state, error, made = "done", None, None
    try:
        made = _execute(run, op)
    except (_MissingTarget, NotFoundError, InvalidError) as exc:
        # A definite "no": the portfolio did not change, so the op failed cleanly.
        state, error = "failed", str(exc)
    except ApiError as exc:
        state, error = (
            ("failed", str(exc)) if exc.status and exc.status < 500 else ("unknown", str(exc))
        )
    except Exception as exc:
        state, error = "unknown", scrub_credentials(f"{type(exc).__name__}: {exc}")
    run.store.finish_op(
        run.run_id, run.service, op.id, state, error=error, mapping=made, who=run.who
    )
    with run.lock:
        if state != "done":
            if op.kind == "unarchive_room" and op.portfolio_room_id:
                run.unrestored.add(op.portfolio_room_id)
            elif op.kind == "add_membership":
                run.not_added.add(op.child_id or "")
            elif op.kind == "release_profile":
                run.unreleased.add(f"child:{op.child_id}")
            elif op.kind == "release_room":
                run.unreleased.add(f"room:{op.room_id}")
        if state == "done":
            run.outcome.done += 1
        else:
            setattr(run.outcome, state, getattr(run.outcome, state) + 1)
            run.outcome.errors.append(f"{op.label}: {error}")
    run.emit(op, state, error)


def apply_plan(
    plan: Plan,
    *,
    store: Store,
    service: str,
    client: PortfolioClient,
    run_id: int,
    children: Iterable[Child],
    child_maps: Mapping[str, ChildMapping],
    room_maps: Mapping[str, RoomMapping],
    who: str,
    on_event: Callable[[OpEvent], None] | None = None,
    workers: int = DEFAULT_WORKERS,
    stop: Callable[[], bool] | None = None,
) -> ApplyOutcome:
    """Run the plan's operations kind by kind, each kind with bounded concurrency.

    Kinds run in plan order (rooms before profiles, adds before removes, archives last), so a
    failure part-way never leaves a child without a room; within one kind the operations touch
    different records and run in parallel. ``stop`` is asked before each operation: once it
    says yes (the run lost its lock lease) no further operation starts.
    """
    run = _Run(
        store=store,
        service=service,
        client=client,
        run_id=run_id,
        children={c.id: c for c in children},
        child_maps=dict(child_maps),
        room_maps=dict(room_maps),
        who=who,
        on_event=on_event,
        stop=stop,
        done_before=store.done_counts(service, CREATES)
        if any(op.kind in CREATES for op in plan.operations)
        else {},
    )
    for op in plan.operations:
        if op.held:
            run.outcome.held += 1
            run.emit(op, "held")
    runnable = [op for op in plan.operations if not op.held]
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for _kind, group in groupby(runnable, key=lambda op: op.kind):
            list(pool.map(lambda op: _run_one(run, op), list(group)))
    return run.outcome
