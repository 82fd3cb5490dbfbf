"""Plain records the Store hands out, so callers never hold an ORM row or a session."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal

from smtui.records import DEFAULT_TIMEZONE

ServiceStateName = Literal["not set up", "active", "off"]
RunKind = Literal["sync", "setup", "approve"]
RunResult = Literal["running", "ok", "failed", "held", "locked", "partial"]
OpState = Literal["planned", "in_flight", "done", "failed", "unknown", "held"]
Side = Literal["ccms", "portfolio"]

RUN_KINDS: frozenset[str] = frozenset({"sync", "setup", "approve"})
RUN_RESULTS: frozenset[str] = frozenset({"running", "ok", "failed", "held", "locked", "partial"})
OP_STATES: frozenset[str] = frozenset({"planned", "in_flight", "done", "failed", "unknown", "held"})
SERVICE_STATES: frozenset[str] = frozenset({"not set up", "active", "off"})
#: Ops in these states may or may not have reached the portfolio: a resumed run must look at them.
UNFINISHED_OP_STATES: tuple[str, ...] = ("planned", "in_flight", "unknown")


@dataclass(frozen=True, slots=True)
class ServiceConfig:
    """One childcare service: where its two systems are and how hard the engine may push.

    Only the *source* of each token is kept (an env var name or a file path), never the token.
    """

    name: str
    ccms_url: str
    portfolio_url: str
    display_name: str | None = None
    ccms_token_env: str | None = None
    ccms_token_file: str | None = None
    portfolio_token_env: str | None = None
    portfolio_token_file: str | None = None
    timezone: str = DEFAULT_TIMEZONE
    interval_hours: float = 12.0
    enabled: bool = True
    state: ServiceStateName = "not set up"
    max_archive_children_pct: float = 10.0
    max_archive_children_min: int = 3
    max_remove_rooms_pct: float = 25.0
    max_remove_rooms_min: int = 2
    hold_window_days: float = 7.0
    suspicious_drop_pct: float = 50.0
    created_at: dt.datetime | None = None
    set_up_at: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class RunRecord:
    id: int
    service: str
    kind: RunKind
    started_at: dt.datetime
    finished_at: dt.datetime | None
    dry_run: bool
    as_of: dt.date | None
    fingerprint: str | None
    result: RunResult
    who: str
    summary: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class OpRecord:
    run_id: int
    service: str
    op_id: str
    kind: str
    label: str
    state: OpState
    payload: dict[str, Any]
    updated_at: dt.datetime
    error: str | None = None
    result: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class AuditEntry:
    service: str
    at: dt.datetime
    who: str
    subject: Literal["child", "room"]
    subject_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    reason: str


@dataclass(frozen=True, slots=True)
class LockInfo:
    """Who is syncing a service right now; enough for "held by ..." without a lookup."""

    service: str
    user: str
    host: str
    pid: int
    since: dt.datetime
    token: str = ""
    expires_at: dt.datetime | None = None
    run_id: int | None = None

    def describe(self) -> str:
        when = self.since.strftime("%Y-%m-%d %H:%M:%S UTC")
        who = f"{self.user}@{self.host} (pid {self.pid})"
        run = f", run {self.run_id}" if self.run_id is not None else ""
        until = (
            f"; its lease ends {self.expires_at.strftime('%H:%M:%S UTC')} unless renewed"
            if self.expires_at is not None
            else ""
        )
        return f"{self.service} is being synced by {who}{run} since {when}{until}"
