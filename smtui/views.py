"""What the engine hands to its front ends.

The CLI and the TUI show the same facts; these records are those facts, already joined and
labelled, so neither front end needs to know about the store or the clients.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

ServiceState = (
    str  # "not set up" | "active" | "needs review" | "held for approval" | "failing" | "off"
)


@dataclass(frozen=True, slots=True)
class ServiceSummary:
    name: str
    state: ServiceState
    integrated_children: int
    last_sync_at: dt.datetime | None
    last_result: str | None
    next_due: dt.datetime | None
    timezone: str


@dataclass(frozen=True, slots=True)
class ChildRow:
    """One row of the children grid: a CCMS child and what will happen to it."""

    child_id: str
    name: str
    birth_date: dt.date | None
    status: str
    action: str  # link | create | ignore | review
    profile_id: str | None
    profile_name: str | None
    score: float
    reason: str
    rooms: tuple[str, ...]
    origin: str  # auto | manual
    changed: bool  # differs from what is currently in the portfolio / last decided


@dataclass(frozen=True, slots=True)
class RoomRow:
    room_id: str
    name: str
    active: bool
    occurrences_in_window: int
    removal_date: dt.date | None  # "will be removed on DATE", None when not at risk
    action: str  # link | create | ignore
    portfolio_room_id: str | None
    portfolio_room_name: str | None


@dataclass(frozen=True, slots=True)
class Candidate:
    profile_id: str
    name: str
    birth_date: dt.date | None
    score: float
    reason: str
    archived: bool
    linked_to: str | None  # child id already linked to this profile, if any


@dataclass(frozen=True, slots=True)
class PlanPreview:
    """A plan as a person confirms it: counts, every destructive op by name, warnings."""

    service: str
    fingerprint: str
    as_of: dt.date
    counts: dict[str, int]
    archives: tuple[str, ...]
    room_removals: tuple[str, ...]
    held: tuple[str, ...]
    warnings: tuple[str, ...]
    needs_review: int
    is_empty: bool
    #: mapping changes after setup, each by name: relinks, releases, creates that replace
    relinks: tuple[str, ...] = ()
    #: every operation as (kind, label, change): what the plan browser drills into; change is
    #: the new values an update writes ("first name -> Ava"), "" when the label says it all
    operations: tuple[tuple[str, str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class OpEvent:
    """One line of the live sync log."""

    run_id: int
    op_id: str
    kind: str
    label: str
    state: str  # planned | in_flight | done | failed | unknown | held
    error: str | None = None


@dataclass(frozen=True, slots=True)
class RunSummary:
    run_id: int
    service: str
    kind: str
    started_at: dt.datetime
    finished_at: dt.datetime | None
    result: str
    who: str
    counts: dict[str, int] = field(default_factory=dict)  # planned, per kind
    message: str = ""
    #: done / failed / unknown / held / not_started, counted apart (runs before 0.2: empty)
    outcome: dict[str, int] = field(default_factory=dict)

    def settled(self) -> str:
        """How the planned operations ended, when not all of them were done ("" if they were):
        a run whose writes failed must not read as if it did what it planned."""
        o = self.outcome
        if not o or not any(o.get(k) for k in ("failed", "unknown", "not_started")):
            return ""
        parts = [f"{o.get(k, 0)} {k.replace('_', ' ')}" for k in
                 ("done", "failed", "unknown", "not_started") if o.get(k)]  # fmt: skip
        return "planned, of which " + ", ".join(parts)
