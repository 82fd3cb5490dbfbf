"""The headless front end: what cron, scripts and support staff without a screen run.

Every command is a thin call into ``smtui.engine``. Output for the user goes to stdout,
diagnostics to stderr; user errors are one line and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import json
import os
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])

EXIT_OK, EXIT_ERROR, EXIT_CHANGES, EXIT_HELD, EXIT_LOCKED = 0, 1, 2, 3, 4


def echo(message: Any = None, *, err: bool = False, nl: bool = True) -> None:
    """click.echo that outlives a reader who went away (`smtui sync --all | head -1`): the
    work goes on to the end and the exit code still says how it went; only the rest of the
    output is dropped."""
    try:
        click.echo(message, err=err, nl=nl)
    except BrokenPipeError:
        stream = sys.stderr if err else sys.stdout
        os.dup2(os.open(os.devnull, os.O_WRONLY), stream.fileno())


def fail(message: str, code: int = EXIT_ERROR) -> NoReturn:
    echo(f"smtui: {message}", err=True)
    sys.exit(code)


def _user_errors() -> tuple[type[BaseException], ...]:
    """Exceptions that mean the user (or their data) needs to act, not a bug in smtui."""
    from smtui.connectors import ApiError
    from smtui.engine import EngineError
    from smtui.match.csvio import CsvInputError
    from smtui.store import StoreError
    from smtui.tokens import TokenError

    return (EngineError, StoreError, TokenError, ApiError, CsvInputError)


def friendly(func: F) -> F:
    """Turn user errors into one line on stderr and an exit code."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from smtui.engine import Locked

        try:
            return func(*args, **kwargs)
        except Locked as exc:
            fail(str(exc), EXIT_LOCKED)
        except _user_errors() as exc:
            fail(str(exc))
        except BrokenPipeError:
            raise  # the reader (`| head`) has all it wanted: see SmtuiGroup.main
        except OSError as exc:  # a path the user gave: missing folder, no permission, disk full
            where = f"{exc.filename}: " if exc.filename else ""
            fail(f"{where}{exc.strerror or exc}")
        except KeyboardInterrupt:
            fail("interrupted", 130)

    return wrapper  # type: ignore[return-value]


class Ctx:
    """Lazily opened store, so `smtui --help` and `smtui sandbox` never touch the database."""

    def __init__(self, db: str | None) -> None:
        self.db = db
        self._store = None

    @property
    def store(self):
        if self._store is None:
            from smtui.engine import open_store

            self._store = open_store(self.db)
        return self._store


pass_ctx = click.make_pass_decorator(Ctx)


def _has_terminal() -> bool:
    return sys.stdin.isatty() and sys.stdout.isatty()


class SmtuiGroup(click.Group):
    """Usage errors exit 1, not click's 2: scripts read 2 as "dry run found changes"."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["standalone_mode"] = False
        try:
            code = super().main(*args, **kwargs)
        except click.ClickException as exc:
            exc.show()
            sys.exit(EXIT_ERROR)
        except click.exceptions.Abort:
            fail("aborted")
        except BrokenPipeError:
            # click's own output (help) to a reader that went away; our output goes through
            # echo and never gets here. Keep Python quiet when it flushes stdout on the way out
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(EXIT_OK)
        sys.exit(code if isinstance(code, int) else EXIT_OK)


@click.group(
    cls=SmtuiGroup,
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.option(
    "--db",
    envvar="SMTUI_DB",
    metavar="PATH|URL",
    help="Store location: a SQLite path or SQLAlchemy URL (env SMTUI_DB).",
)
@click.version_option(package_name="smtui")
@click.pass_context
def main(ctx: click.Context, db: str | None) -> None:
    """Keep Storypark portfolios in step with Storypark Manage.

    Run without a command to open the terminal UI on the configured store.
    """
    ctx.obj = Ctx(db)
    if ctx.invoked_subcommand is None:
        if not _has_terminal():
            fail("the terminal UI needs a terminal; from cron or a script use `smtui sync --all`")
        from smtui.tui.app import run_app

        run_app(ctx.obj.store)


@main.command()
@click.option("--seed", default=7, show_default=True, help="Seed of the sandbox's world.")
def demo(seed: int) -> None:
    """Open the UI on a fresh demo database against an in-process sandbox."""
    if not _has_terminal():
        fail(
            "`smtui demo` opens the terminal UI and needs a terminal; use `smtui sandbox` "
            "and `smtui sync` without one"
        )
    from smtui.tui.app import run_demo

    run_demo(seed=seed)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", default=8700, show_default=True, help="Port (0 picks a free one).")
@click.option("--seed", default=7, show_default=True, help="Seed: same seed, same world.")
@click.option("--today", type=click.DateTime(["%Y-%m-%d"]), help="Date the world is built around.")
@friendly
def sandbox(host: str, port: int, seed: int, today: dt.datetime | None) -> None:
    """Serve both vendor APIs (CCMS and portfolio) with seeded data, for demos and tests."""
    from smtui.sandbox.server import serve

    try:
        serve(host=host, port=port, seed=seed, today=today.date() if today else None)
    except OSError as exc:
        fail(f"cannot serve on {host}:{port}: {exc.strerror or exc}; try another --port")


# --- services ------------------------------------------------------------------------------


@main.group()
def service() -> None:
    """Add, list, show and remove services."""


@service.command("add")
@click.argument("name")
@click.option("--ccms-url", required=True, help="CCMS base URL of this service.")
@click.option("--portfolio-url", required=True, help="Portfolio base URL of this service.")
@click.option(
    "--ccms-token-env", metavar="VAR", help="Environment variable holding the CCMS token."
)
@click.option("--ccms-token-file", metavar="PATH", help="File (mode 0600) holding the CCMS token.")
@click.option("--portfolio-token-env", metavar="VAR", help="Env var holding the portfolio token.")
@click.option(
    "--portfolio-token-file", metavar="PATH", help="File (0600) with the portfolio token."
)
@click.option("--timezone", default="Australia/Sydney", show_default=True)
@click.option("--interval", "interval_hours", default=12.0, show_default=True, help="Hours.")
@pass_ctx
@friendly
def service_add(ctx: Ctx, name: str, **opts: Any) -> None:
    """Add a service. Tokens are never stored: only where to find them."""
    from smtui.engine import add_service, token_warnings
    from smtui.store import ServiceConfig

    for system in ("ccms", "portfolio"):
        env, file = opts[f"{system}_token_env"], opts[f"{system}_token_file"]
        if bool(env) == bool(file):
            fail(f"give exactly one of --{system}-token-env or --{system}-token-file")
    cfg = add_service(ctx.store, ServiceConfig(name=name, **opts))
    for warning in token_warnings(cfg):
        echo(f"smtui: warning: {warning}", err=True)
    echo(f"Added {cfg.name}. Next: smtui refresh {cfg.name}")


@service.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_ctx
@friendly
def service_list(ctx: Ctx, as_json: bool) -> None:
    """List services with their state and last sync."""
    from smtui.engine import service_summaries

    rows = service_summaries(ctx.store)
    if as_json:
        echo(json.dumps([_jsonable(r) for r in rows], indent=2))
        return
    if not rows:
        echo("No services yet: add one with `smtui service add`.")
        return
    table = [("SERVICE", "STATE", "CHILDREN", "LAST SYNC", "RESULT", "NEXT DUE")]
    for r in rows:
        table.append(
            (
                r.name,
                r.state,
                str(r.integrated_children),
                _when(r.last_sync_at),
                r.last_result or "-",
                _when(r.next_due),
            )
        )
    _print_table(table)


@service.command("show")
@click.argument("name")
@pass_ctx
@friendly
def service_show(ctx: Ctx, name: str) -> None:
    """Show one service's settings (token sources, never tokens)."""
    from smtui.engine import service_config, service_summary

    cfg, summary = service_config(ctx.store, name), service_summary(ctx.store, name)
    for key, value in _jsonable(cfg).items():
        if value is not None and key != "state":  # the summary's state says more
            echo(f"{key:28} {value}")
    echo(f"{'state':28} {summary.state}")
    echo(f"{'integrated children':28} {summary.integrated_children}")
    echo(f"{'next due':28} {_when(summary.next_due)}")


@service.command("set")
@click.argument("name")
@click.option("--interval", "interval_hours", type=float, help="Hours between syncs.")
@click.option("--timezone", help="IANA timezone, e.g. Pacific/Auckland.")
@click.option(
    "--max-archive-pct",
    "max_archive_children_pct",
    type=float,
    help="Hold archives above this % of integrated children (default 10).",
)
@click.option(
    "--max-archive-min",
    "max_archive_children_min",
    type=int,
    help="...but always allow this many (default 3).",
)
@click.option(
    "--max-remove-rooms-pct",
    "max_remove_rooms_pct",
    type=float,
    help="Hold room removals above this % of managed rooms (default 25).",
)
@click.option(
    "--max-remove-rooms-min",
    "max_remove_rooms_min",
    type=int,
    help="...but always allow this many (default 2).",
)
@click.option(
    "--hold-window-days",
    "hold_window_days",
    type=float,
    help="The holds count archives and removals over this many days (default 7).",
)
@click.option(
    "--suspicious-drop-pct",
    "suspicious_drop_pct",
    type=float,
    help="Hold every archive when the CCMS lists this % fewer children than are integrated "
    "(default 50).",
)
@click.option("--on/--off", "enabled", default=None, help="Turn the integration on or off.")
@click.option("--purge", is_flag=True, help="With --off: also delete cached personal data.")
@click.option("--ccms-url", help="New CCMS base URL (mappings and history are kept).")
@click.option("--portfolio-url", help="New portfolio base URL (mappings and history are kept).")
@click.option("--ccms-token-env", metavar="VAR", help="Read the CCMS token from this env var.")
@click.option("--ccms-token-file", metavar="PATH", help="Read the CCMS token from this file.")
@click.option("--portfolio-token-env", metavar="VAR", help="Portfolio token from this env var.")
@click.option("--portfolio-token-file", metavar="PATH", help="Portfolio token from this file.")
@pass_ctx
@friendly
def service_set(ctx: Ctx, name: str, enabled: bool | None, purge: bool, **fields: Any) -> None:
    """Change a service's interval, timezone, thresholds, URLs or token sources; turn it on/off."""
    from smtui import engine

    changes = {k: v for k, v in fields.items() if v is not None}
    if purge and enabled is not False:
        fail("--purge goes with --off")
    for system in ("ccms", "portfolio"):
        if f"{system}_token_env" in changes and f"{system}_token_file" in changes:
            fail(f"give one of --{system}-token-env or --{system}-token-file, not both")
    if not changes and enabled is None:
        fail("nothing to change: see `smtui service set --help`")
    if changes:
        cfg = engine.update_settings(ctx.store, name, **changes)
        if any("token" in k for k in changes):
            for warning in engine.token_warnings(cfg):
                echo(f"smtui: warning: {warning}", err=True)
    if enabled is True:
        engine.turn_on(ctx.store, name)
    elif enabled is False:
        engine.turn_off(ctx.store, name, purge=purge)
    echo(f"{name}: updated")


@service.command("unlock")
@click.argument("name")
@pass_ctx
@friendly
def service_unlock(ctx: Ctx, name: str) -> None:
    """Free a service whose sync run is gone (killed, or its host down), saying who held it.

    A run that is in fact still alive notices at its next lease renewal and stops.
    """
    from smtui import engine

    holder = engine.unlock(ctx.store, name)
    if holder is None:
        echo(f"{name}: not locked")
        return
    echo(safe(f"{name}: unlocked; it was held by {holder.describe().split(' by ', 1)[1]}"))


@service.command("remove")
@click.argument("name")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@pass_ctx
@friendly
def service_remove(ctx: Ctx, name: str, yes: bool) -> None:
    """Forget a service and everything cached about it (the vendor systems are untouched)."""
    from smtui.engine import service_config

    service_config(ctx.store, name)
    if not yes and not click.confirm(f"Remove {name} and all its cached data and history?"):
        fail("nothing removed")
    ctx.store.remove_service(name)
    echo(f"Removed {name}.")


@main.command()
@click.argument("name")
@pass_ctx
@friendly
def refresh(ctx: Ctx, name: str) -> None:
    """Pull both sides of a service into the store and print counts."""
    from smtui.engine import refresh as do_refresh

    result = do_refresh(ctx.store, name, progress=lambda line: echo(line, err=True))
    for key, value in result.counts.items():
        echo(f"{key:16} {value}")
    if not result.complete:
        for problem in result.problems:
            echo(f"incomplete: {problem}", err=True)
        if result.kept:
            sides = " and ".join(result.kept)
            echo(f"kept the last complete {sides} read for explain, invitations and mapping")
        fail("the read was incomplete; nothing will be archived or removed from it")


# --- helpers -------------------------------------------------------------------------------


def _when(value: dt.datetime | None) -> str:
    if value is None:
        return "-"
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone().strftime("%Y-%m-%d %H:%M %Z")


def _jsonable(record: Any) -> dict[str, Any]:
    import dataclasses

    out = {}
    for f in dataclasses.fields(record):
        value = getattr(record, f.name)
        if isinstance(value, dt.date | dt.datetime):
            value = value.isoformat()
        out[f.name] = value
    return out


def _print_table(rows: list[tuple[str, ...]]) -> None:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        echo("  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip())


def _write_csv(path: Path | None, header: list[str], rows: list[list[Any]]) -> None:
    out = path.open("w", newline="", encoding="utf-8") if path else sys.stdout
    try:
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows(rows)
    finally:
        if path:
            out.close()


# --- engine commands -----------------------------------------------------------------------


@main.command()
@click.argument("source", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("target", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write CSV here.")
@friendly
def match(source: Path, target: Path, out: Path | None) -> None:
    """Match children in SOURCE.csv to profiles in TARGET.csv; print proposals as CSV.

    \b
    SOURCE columns: id,first_name,last_name,preferred_name,birth_date
    TARGET columns: id,first_name,last_name,birth_date
    Dates are YYYY-MM-DD and may be empty. Output columns:
    source_id,action,target_id,score,reason (action: link, review or create).
    """
    from smtui.match import match_children
    from smtui.match.csvio import read_children_csv, read_profiles_csv, write_proposals_csv

    proposals = match_children(read_children_csv(source), read_profiles_csv(target))
    if out is None:
        write_proposals_csv(proposals, sys.stdout)
        return
    with out.open("w", newline="", encoding="utf-8") as fh:
        write_proposals_csv(proposals, fh)
    counts: dict[str, int] = {}
    for p in proposals:
        counts[p.action] = counts.get(p.action, 0) + 1
    echo(", ".join(f"{n} {a}" for a, n in sorted(counts.items())) + f" -> {out}", err=True)


class AsOf(click.ParamType):
    """A plan date: ISO, and within a range the calendar arithmetic of the window can reach."""

    name = "YYYY-MM-DD"
    low, high = dt.date(2000, 1, 1), dt.date(2099, 12, 31)

    def convert(self, value: Any, param: Any, ctx: Any) -> dt.date:
        if isinstance(value, dt.date):
            return value
        try:
            day = dt.date.fromisoformat(str(value))
        except ValueError:
            self.fail(f"{value!r} is not a date like 2026-11-30", param, ctx)
        if not self.low <= day <= self.high:
            self.fail(f"{day} is out of range: use {self.low} to {self.high}", param, ctx)
        return day


AS_OF = click.option("--as-of", type=AsOf(), help="Plan as of this date (default: today there).")


def _read_note(ctx: Ctx, name: str) -> str:
    from smtui import engine

    return (
        f"(from the read of {_when(engine.read_at(ctx.store, name))}; "
        f"`smtui refresh {name}` reads both systems again)"
    )


def _plan_rows(plan: Any) -> list[dict[str, Any]]:
    return [
        {"id": op.id, "kind": op.kind, "label": op.label, "held": op.held} for op in plan.operations
    ]


@main.command()
@click.argument("services", nargs=-1)
@click.option("--all", "all_due", is_flag=True, help="Every enabled service that is due (cron).")
@click.option("--dry-run", is_flag=True, help="Print the plan; exit 2 if it has changes, else 0.")
@AS_OF
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
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
    from smtui import engine

    if all_due and services:
        fail("give service names or --all, not both")
    if not all_due and not services:
        fail("name a service, or use --all for every service that is due")
    names = engine.due_services(ctx.store) if all_due else list(services)
    if not names:
        echo("No service is due.")
        return
    report: list[dict[str, Any]] = []
    code = EXIT_OK
    for name in names:
        entry, rc = _sync_one(ctx, name, dry_run, as_of, approve, verbose and not as_json)
        report.append(entry)
        code = _worse(code, rc)
        if not as_json:
            echo(entry["line"])
    if as_json:
        echo(json.dumps(report, indent=2, default=str))
    sys.exit(code)


def _worse(a: int, b: int) -> int:
    order = [EXIT_OK, EXIT_CHANGES, EXIT_HELD, EXIT_LOCKED, EXIT_ERROR]
    return max(a, b, key=order.index)


def _sync_one(
    ctx: Ctx, name: str, dry_run: bool, as_of: dt.date | None, approve: bool, verbose: bool
) -> tuple[dict[str, Any], int]:
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
        return {"service": name, "result": "locked", "line": f"{name}: locked: {exc}"}, EXIT_LOCKED
    except _user_errors() as exc:
        return {"service": name, "result": "error", "line": f"{name}: error: {exc}"}, EXIT_ERROR
    run = result.run
    line = f"{name}: {run.result} (run {run.run_id}): {_counts_text(run.counts) or 'nothing to do'}"
    if run.settled():
        line += f" ({run.settled()})"
    if result.outcome.held:
        line += f"; {result.outcome.held} held for approval: `smtui sync {name} --approve`"
    if run.message:
        line += f"; {safe(run.message)}"
    for w in result.plan.warnings:
        line += f"\n  warning: {safe(w.text)}"
    line += _review_lines(ctx, name, result.plan.needs_review)
    entry = {
        "service": name,
        "result": run.result,
        "run": run.run_id,
        "counts": run.counts,
        "held": result.outcome.held,
        "failed": result.outcome.failed,
        "outcome": run.outcome,
        "warnings": _warning_rows(result.plan),
        "needs_review": list(result.plan.needs_review),
        "line": line,
    }
    code = {"ok": EXIT_OK, "held": EXIT_HELD}.get(run.result, EXIT_ERROR)
    return entry, code


def _dry_run_one(
    ctx: Ctx, name: str, as_of: dt.date | None, approve: bool
) -> tuple[dict[str, Any], int]:
    """Exit 2 for pending changes, 0 for none, 1 when a list could not be read in full."""
    from smtui import engine

    result = engine.dry_run(ctx.store, name, as_of=as_of, approve=approve)
    plan = result.plan
    changes = not plan.is_empty
    line = f"{name}: " + (_counts_text(plan.counts()) if changes else "nothing to do")
    set_up = engine.service_config(ctx.store, name).set_up_at is not None
    if not set_up:
        line += f" (not set up yet: this is what `smtui setup {name} --accept-proposals` would do)"
    for op in plan.operations:
        line += f"\n  {op.kind:18} {safe(op.label)}" + ("  [held]" if op.held else "")
    for w in plan.warnings:
        line += f"\n  warning: {safe(w.text)}"
    if set_up:  # before setup, `smtui setup` is where reviews are listed
        line += _review_lines(ctx, name, plan.needs_review)
    entry: dict[str, Any] = {
        "service": name,
        "result": "changes" if changes else "no changes",
        "counts": dict(plan.counts()),
        "operations": _plan_rows(plan),
        "warnings": _warning_rows(plan),
        "needs_review": list(plan.needs_review),
    }
    if result.problems:
        entry["result"] = "incomplete read"
        entry["problems"] = list(result.problems)
        entry["line"] = line + "".join(f"\n  incomplete read: {safe(p)}" for p in result.problems)
        return entry, EXIT_ERROR
    entry["line"] = line
    return entry, EXIT_CHANGES if changes else EXIT_OK


def _warning_rows(plan: Any) -> list[dict[str, Any]]:
    return [dataclasses.asdict(w) for w in plan.warnings]


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


def safe(text: str) -> str:
    """One line per record in cron mail: control characters in names become visible escapes."""
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)


def _counts_text(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {kind.replace('_', ' ')}" for kind, n in counts.items() if n)


@main.command()
@click.argument("name")
@click.option(
    "--accept-proposals",
    is_flag=True,
    help="Connect now with the confident links and creates; leave reviews undecided.",
)
@AS_OF
@pass_ctx
@friendly
def setup(ctx: Ctx, name: str, accept_proposals: bool, as_of: dt.date | None) -> None:
    """Set up a service headless: read both sides, auto-map, print what needs review."""
    from smtui import engine

    cfg = engine.service_config(ctx.store, name)
    if cfg.set_up_at is not None:
        fail(f"{name} is already set up: use `smtui sync {name}` or `smtui mapping`")
    engine.refresh(ctx.store, name, progress=lambda line: echo(line, err=True))
    rows = engine.child_rows(ctx.store, name, as_of=as_of)
    counts: dict[str, int] = {}
    for r in rows:
        counts[r.action] = counts.get(r.action, 0) + 1
    echo("Proposals: " + ", ".join(f"{n} {a}" for a, n in sorted(counts.items())))
    reviews = [r for r in rows if r.action == "review"]
    for r in reviews:
        echo(
            safe(
                f"  review {r.child_id:10} {r.name} -> {r.profile_name or '-'} "
                f"({r.profile_id or '-'}): {r.reason}"
            )
        )
    check = engine.check_mapping(ctx.store, name)
    for problem in check.problems:
        echo(safe(f"  problem: {problem}"))
    preview = engine.preview(ctx.store, name, as_of=as_of)
    echo("Connecting now would: " + (_counts_text(preview.counts) or "change nothing"))
    for label in (*preview.relinks, *preview.archives, *preview.room_removals, *preview.held):
        echo(safe(f"  {label}"))
    for warning in preview.warnings:
        echo(safe(f"  warning: {warning}"))
    if not accept_proposals:
        echo(
            f"Decide with `smtui mapping set {name} CHILD link:PROFILE|create|ignore`, "
            f"then `smtui setup {name} --accept-proposals` (or use the UI)."
        )
        return
    if check.problems:
        fail("fix the problems above before connecting")
    result = engine.run_sync(ctx.store, name, setup=True, as_of=as_of)
    echo(f"{name}: set up ({result.run.result}): {_counts_text(result.run.counts)}")
    if reviews:
        echo(f"{len(reviews)} children still need review; they were not added.")
    sys.exit({"ok": EXIT_OK, "held": EXIT_HELD}.get(result.run.result, EXIT_ERROR))


@main.command()
@click.argument("name")
@click.argument("child")
@AS_OF
@pass_ctx
@friendly
def explain(ctx: Ctx, name: str, child: str, as_of: dt.date | None) -> None:
    """Why a child is in its rooms, why archived, and what the next sync will do."""
    from smtui import engine

    for line in engine.explain(ctx.store, name, _child_id(ctx, name, child), as_of=as_of):
        echo(safe(line))
    echo(_read_note(ctx, name))


def _child_id(ctx: Ctx, name: str, child: str) -> str:
    """Accept a CCMS child id, or a full name when it is unique."""
    from smtui import engine

    rows = engine.child_rows(ctx.store, name)
    if any(r.child_id == child for r in rows):
        return child
    hits = [r for r in rows if r.name.casefold() == child.casefold()]
    if len(hits) == 1:
        return hits[0].child_id
    if len(hits) > 1:
        fail(
            f"{len(hits)} children are called {child!r}: use an id ("
            + ", ".join(h.child_id for h in hits)
            + ")"
        )
    return child


@main.command()
@click.argument("name")
@click.option("--run", "run_id", type=int, help="Show the operations of this run.")
@click.option("--limit", default=20, show_default=True)
@pass_ctx
@friendly
def log(ctx: Ctx, name: str, run_id: int | None, limit: int) -> None:
    """Past sync runs of a service, or one run's operations."""
    from smtui import engine

    if run_id is None:
        rows = [("RUN", "KIND", "STARTED", "RESULT", "WHO", "CHANGES")]
        for r in engine.runs(ctx.store, name, limit=limit):
            rows.append(
                (
                    str(r.run_id),
                    r.kind,
                    _when(r.started_at),
                    r.result,
                    r.who,
                    _counts_text(r.counts) or r.message or "-",
                )
            )
        _print_table(rows)
        return
    for ev in engine.run_events(ctx.store, run_id, service=name):
        echo(safe(f"{ev.state:9} {ev.kind:18} {ev.label}" + (f": {ev.error}" if ev.error else "")))


@main.command()
@click.argument("name")
@pass_ctx
@friendly
def invitations(ctx: Ctx, name: str) -> None:
    """Integrated children whose families have no invitation yet (smtui never sends one)."""
    from smtui import engine

    missing = engine.uninvited(ctx.store, name)
    echo(
        f"{len(missing)} integrated children have no invitation yet. smtui never sends "
        "invitations: send them from the portfolio app."
    )
    for child_name, profile_id in missing:
        echo(f"  {profile_id:10} {safe(child_name)}")
    echo(_read_note(ctx, name))


# --- mapping -------------------------------------------------------------------------------


@main.group()
def mapping() -> None:
    """Set, export and import child and room mappings."""


def _parse_action(value: str, extra: tuple[str, ...] = ()) -> tuple[str, str | None]:
    action, _, target = value.partition(":")
    allowed = ("link", "create", "ignore", *extra)
    if action not in allowed or (action == "link") != bool(target):
        fail(f"action {value!r} is not one of link:ID, {', '.join(allowed[1:])}")
    return action, target or None


@mapping.command("set")
@click.argument("name")
@click.argument("child")
@click.argument("action", metavar="link:PROFILE|create|ignore")
@click.option(
    "--force",
    is_flag=True,
    help="Link to a profile that carries another CCMS child's id (a re-enrolled child).",
)
@pass_ctx
@friendly
def mapping_set(ctx: Ctx, name: str, child: str, action: str, force: bool) -> None:
    """Decide for one CCMS child."""
    from smtui import engine

    kind, target = _parse_action(action)
    child_id = _child_id(ctx, name, child)
    if kind == "link" and target is not None:
        conflict = engine.link_conflict(ctx.store, name, child_id, target)
        if conflict is not None and not (force and conflict[1]):
            message, forceable = conflict
            fix = (
                "add --force if it really is this child"
                if forceable
                else "link that child elsewhere first"
            )
            fail(f"{safe(message)}: {fix}; nothing changed")
    engine.set_children(ctx.store, name, [child_id], kind, profile_id=target, who=engine.who_am_i())
    echo(f"{name}: child {child} -> {action}")


@mapping.command("room")
@click.argument("name")
@click.argument("room")
@click.argument("action", metavar="link:PORTFOLIO_ROOM|create|ignore|relink")
@pass_ctx
@friendly
def mapping_room(ctx: Ctx, name: str, room: str, action: str) -> None:
    """Decide for one CCMS room (ignore = unlink, e.g. over a holiday closure: the sync never
    touches it; relink links it again to the portfolio room it had)."""
    from smtui import engine

    kind, target = _parse_action(action, ("relink",))
    engine.set_rooms(ctx.store, name, [room], kind, portfolio_room_id=target, who=engine.who_am_i())
    echo(f"{name}: room {room} -> {action}")


@mapping.command("export")
@click.argument("name")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@pass_ctx
@friendly
def mapping_export(ctx: Ctx, name: str, file: Path) -> None:
    """Write every child and room mapping to a CSV for bulk edits."""
    from smtui import engine

    rows = engine.export_mappings(ctx.store, name)
    _write_csv(file, list(engine.MAPPING_COLUMNS), [list(r) for r in rows])
    echo(f"{len(rows)} mappings -> {file}")


@mapping.command("import")
@click.argument("name")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@pass_ctx
@friendly
def mapping_import(ctx: Ctx, name: str, file: Path) -> None:
    """Apply a CSV edited from `mapping export`; all rows are checked before any is written."""
    from smtui import engine

    changed = engine.import_mappings(ctx.store, name, file, who=engine.who_am_i())
    echo(f"{changed} mappings changed from {file}")
