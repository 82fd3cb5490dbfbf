"""`smtui refresh` and `smtui sync`: read both systems; carry CCMS changes over.

Each service's outcome is built twice from the same engine records: a JSON entry (the stable
shape in docs/cli-json.md) and the human lines cron mails. Neither is derived from the other.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import click

from smtui.cli.common import (
    AS_OF,
    EXIT_CHANGES,
    EXIT_ERROR,
    EXIT_LOCKED,
    EXIT_OK,
    JSON,
    Ctx,
    as_dict,
    counts_text,
    echo,
    emit_json,
    fail,
    friendly,
    pass_ctx,
    run_exit_code,
    safe,
    user_errors,
    worse,
)

if TYPE_CHECKING:
    from smtui.engine import DryRun, SyncResult
    from smtui.plan import Plan


@click.command()
@click.argument("name")
@JSON
@pass_ctx
@friendly
def refresh(ctx: Ctx, name: str, as_json: bool) -> None:
    """Pull both sides of a service into the store and print counts."""
    from smtui import engine

    result = engine.refresh(ctx.store, name, progress=lambda line: echo(line, err=True))
    if as_json:
        emit_json({"service": name, **as_dict(result)})
    else:
        for key, value in result.counts.items():
            echo(f"{key:16} {value}")
    if not result.complete:
        if not as_json:
            for problem in result.problems:
                echo(f"incomplete: {problem}", err=True)
            if result.kept:
                sides = " and ".join(result.kept)
                echo(f"kept the last complete {sides} read for explain, invitations and mapping")
        fail("the read was incomplete; nothing will be archived or removed from it")


def _surely_nothing_due(ctx: Ctx) -> bool:
    """The hourly cron run's common case, answered from the SQLite file with the standard
    library before pydantic, SQLAlchemy or the engine are imported (smtui.store.due); any
    doubt (another database, an old schema, an unusable config file) takes the full path."""
    from smtui.configfile import ConfigError, database_setting
    from smtui.engine.due import surely_nothing_due

    try:
        return surely_nothing_due(database_setting(ctx.db))
    except ConfigError:
        return False


def _nothing_due(as_json: bool) -> None:
    if as_json:
        emit_json([])
    else:
        echo("No service is due.")


@click.command()
@click.argument("services", nargs=-1)
@click.option("--all", "all_due", is_flag=True, help="Every enabled service that is due (cron).")
@click.option("--dry-run", is_flag=True, help="Print the plan; exit 2 if it has changes, else 0.")
@AS_OF
@JSON
@click.option("--approve", is_flag=True, help="Also apply archives held for approval.")
@click.option("-v", "--verbose", is_flag=True, help="Print every operation as it finishes.")
@pass_ctx
@friendly
def sync(
    ctx: Ctx,
    services: tuple[str, ...],
    all_due: bool,
    dry_run: bool,
    as_of: dt.date | None,
    as_json: bool,
    approve: bool,
    verbose: bool,
) -> None:
    """Carry CCMS changes over to the portfolio.

    Exit codes: 0 done, 1 error, 2 (dry run) changes pending, 3 held for approval, 4 locked.
    """
    if all_due and services:
        fail("give service names or --all, not both")
    if not all_due and not services:
        fail("name a service, or use --all for every service that is due")
    if all_due and _surely_nothing_due(ctx):
        _nothing_due(as_json)
        return
    from smtui import engine

    verbose = verbose and not as_json
    report: list[dict[str, Any]] = []
    code = EXIT_OK
    if all_due and not dry_run:
        outcomes = _sync_claimed(ctx, as_of, approve, verbose)
    else:
        names = engine.due_services(ctx.store) if all_due else list(services)
        outcomes = (_sync_one(ctx, name, dry_run, as_of, approve, verbose) for name in names)
    for entry, text, rc in outcomes:
        report.append(entry)
        code = worse(code, rc)
        if not as_json:
            echo(text)
    if not report and all_due:
        _nothing_to_claim(ctx, as_json)
        return
    if all_due and not dry_run:
        _prune_automatically(ctx)
    if as_json:
        emit_json(report)
    sys.exit(code)


def _sync_claimed(
    ctx: Ctx, as_of: dt.date | None, approve: bool, verbose: bool
) -> Iterator[tuple[dict[str, Any], str, int]]:
    """Cron's ``sync --all``: claim the next due service nobody is running, sync it, claim the
    next (smtui.engine.lease.claim_due). Overlapping runs, from this machine or others, share the
    due services out: each is synced once, and one another run has is not this run's error. A
    service synced here already (it failed, or was held) is not claimed again."""
    from smtui.engine.lease import claim_due

    tried: set[str] = set()
    while True:
        with claim_due(ctx.store, skip=tried) as name:
            if name is None:
                return
            tried.add(name)
            outcome = _sync_one(ctx, name, False, as_of, approve, verbose)
        yield outcome


def _prune_automatically(ctx: Ctx) -> None:
    """Retention after cron's run (smtui.engine.retention): never on the nothing-due path,
    and a bad SMTUI_KEEP_RUNS_DAYS is a warning that leaves the syncs' exit code alone."""
    from smtui.engine.retention import prune_automatically

    try:
        prune_automatically(ctx.store)
    except user_errors() as exc:
        echo(f"warning: runs not pruned: {exc}", err=True)


def _nothing_to_claim(ctx: Ctx, as_json: bool) -> None:
    """Nothing was synced: nothing is due, or every due service is another run's now."""
    from smtui import engine

    others = [] if as_json else engine.due_services(ctx.store)
    if not others:
        _nothing_due(as_json)
    else:
        echo(f"Every due service is being synced by another run: {', '.join(others)}")


def _sync_one(
    ctx: Ctx, name: str, dry_run: bool, as_of: dt.date | None, approve: bool, verbose: bool
) -> tuple[dict[str, Any], str, int]:
    """One service: its JSON entry, its human lines and its exit code; a user error in one
    service is that service's entry, so the others still run."""
    from smtui import engine

    def on_event(ev: Any) -> None:
        if ev.state not in ("in_flight", "planned"):
            echo(safe(f"  {ev.state:8} {ev.label}" + (f": {ev.error}" if ev.error else "")))

    try:
        if dry_run:
            return _dry_run_one(ctx, name, as_of, approve)
        events = on_event if verbose else None
        result = (
            engine.approve_held(ctx.store, name, as_of=as_of, on_event=events)
            if approve
            else engine.run_sync(ctx.store, name, as_of=as_of, on_event=events)
        )
    except engine.Locked as exc:
        return _error_entry(name, "locked", str(exc)), f"{name}: locked: {exc}", EXIT_LOCKED
    except user_errors() as exc:
        return _error_entry(name, "error", str(exc)), f"{name}: error: {exc}", EXIT_ERROR
    return _run_entry(name, result), _run_text(ctx, name, result), run_exit_code(result.run.result)


def _error_entry(name: str, result: str, error: str) -> dict[str, Any]:
    return {"service": name, "result": result, "error": error}


def _run_entry(name: str, result: SyncResult) -> dict[str, Any]:
    run = result.run
    return {
        "service": name,
        "result": run.result,
        "run": run.run_id,
        "kind": run.kind,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "counts": dict(run.counts),
        "outcome": dict(run.outcome),
        "held": result.outcome.held,
        "failed": result.outcome.failed,
        "message": run.message,
        "warnings": _warnings(result.plan),
        "needs_review": list(result.plan.needs_review),
    }


def _run_text(ctx: Ctx, name: str, result: SyncResult) -> str:
    run = result.run
    line = f"{name}: {run.result} (run {run.run_id}): {counts_text(run.counts) or 'nothing to do'}"
    if run.settled():
        line += f" ({run.settled()})"
    if result.outcome.held:
        line += f"; {result.outcome.held} held for approval: `smtui sync {name} --approve`"
    if run.message:
        line += f"; {safe(run.message)}"
    for w in result.plan.warnings:
        line += f"\n  warning: {safe(w.text)}"
    return line + _review_lines(ctx, name, result.plan.needs_review)


def _dry_run_one(
    ctx: Ctx, name: str, as_of: dt.date | None, approve: bool
) -> tuple[dict[str, Any], str, int]:
    """Exit 2 for pending changes, 0 for none, 1 when a list could not be read in full."""
    from smtui import engine

    result = engine.dry_run(ctx.store, name, as_of=as_of, approve=approve)
    set_up = engine.service_config(ctx.store, name).set_up_at is not None
    entry = _dry_run_entry(name, result, set_up)
    text = _dry_run_text(ctx, name, result, set_up)
    if result.problems:
        return entry, text, EXIT_ERROR
    return entry, text, EXIT_OK if result.plan.is_empty else EXIT_CHANGES


def _dry_run_entry(name: str, result: DryRun, set_up: bool) -> dict[str, Any]:
    plan = result.plan
    outcome = "no changes" if plan.is_empty else "changes"
    if result.problems:
        outcome = "incomplete read"
    return {
        "service": name,
        "result": outcome,
        "set_up": set_up,
        "counts": dict(plan.counts()),
        "operations": [
            {"id": op.id, "kind": op.kind, "label": op.label, "held": op.held}
            for op in plan.operations
        ],
        "warnings": _warnings(plan),
        "needs_review": list(plan.needs_review),
        "problems": list(result.problems),
    }


def _dry_run_text(ctx: Ctx, name: str, result: DryRun, set_up: bool) -> str:
    plan = result.plan
    line = f"{name}: " + (counts_text(plan.counts()) if not plan.is_empty else "nothing to do")
    if not set_up:
        line += f" (not set up yet: this is what `smtui setup {name} --accept-proposals` would do)"
    for op in plan.operations:
        line += f"\n  {op.kind:18} {safe(op.label)}" + ("  [held]" if op.held else "")
    for w in plan.warnings:
        line += f"\n  warning: {safe(w.text)}"
    if set_up:  # before setup, `smtui setup` is where reviews are listed
        line += _review_lines(ctx, name, plan.needs_review)
    return line + "".join(f"\n  incomplete read: {safe(p)}" for p in result.problems)


def _warnings(plan: Plan) -> list[dict[str, Any]]:
    return [as_dict(w) for w in plan.warnings]


def _review_lines(ctx: Ctx, name: str, child_ids: tuple[str, ...]) -> str:
    """Children held as "needs review" since setup: never added until a person decides."""
    if not child_ids:
        return ""
    from smtui import engine

    names = {r.child_id: r.name for r in engine.child_rows(ctx.store, name)}
    shown = ", ".join(safe(f"{names.get(c, c)} ({c})") for c in child_ids[:10])
    more = f" and {len(child_ids) - 10} more" if len(child_ids) > 10 else ""
    return (
        f"\n  needs review: {len(child_ids)} child(ren) not added until a person decides: "
        f"{shown}{more}; `smtui explain {name} CHILD` shows the suggestion, "
        f"`smtui mapping set {name} CHILD link:PROFILE|create|ignore` decides"
    )
