"""Plain records the Store hands out, so callers never hold an ORM row or a session."""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal

from smtui.records import ServiceSettings

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
class ServiceConfig(ServiceSettings):
    """One childcare service: where its two systems are, when it syncs, and (inherited) how
    hard the engine may push. Its fields are the service table's columns (store.tables).

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
    interval_hours: float = 12.0
    enabled: bool = True
    state: ServiceStateName = "not set up"
    created_at: dt.datetime | None = None
    set_up_at: dt.datetime | None = None

    def settings(self) -> ServiceSettings:
        """The settings alone, as the planner and its fingerprint take them."""
        return ServiceSettings(
            **{f.name: getattr(self, f.name) for f in dataclasses.fields(ServiceSettings)}
        )


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
