"""The plumbing every command shares: exit codes, one-line errors, the lazily opened store,
output helpers and the JSON shape of records.

Nothing here imports the engine at module level: `smtui --help` and `smtui sync --all` with
nothing due must not pay for the matcher, the planner or the vendor clients.
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
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

if TYPE_CHECKING:
    from smtui.config import Settings, Source
    from smtui.store import Store

F = TypeVar("F", bound=Callable[..., Any])

EXIT_OK, EXIT_ERROR, EXIT_CHANGES, EXIT_HELD, EXIT_LOCKED = 0, 1, 2, 3, 4
#: when several services end differently, the exit code is the worst of them, in this order
SEVERITY = (EXIT_OK, EXIT_CHANGES, EXIT_HELD, EXIT_LOCKED, EXIT_ERROR)


def worse(a: int, b: int) -> int:
    """The exit code that says more is wrong, of two."""
    return max(a, b, key=SEVERITY.index)


def run_exit_code(result: str) -> int:
    """A run's result as cron reads it: ok 0, held 3, anything else (partial, failed) 1."""
    return {"ok": EXIT_OK, "held": EXIT_HELD}.get(result, EXIT_ERROR)


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
    """One line on stderr and an exit code: what a user error looks like, never a traceback."""
    echo(f"smtui: {message}", err=True)
    sys.exit(code)


def warn(message: str) -> None:
    echo(f"smtui: warning: {message}", err=True)


def safe(text: str) -> str:
    """One line per record in cron mail: control characters in names become visible escapes."""
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)


def user_errors() -> tuple[type[BaseException], ...]:
    """Exceptions that mean the user (or their data) needs to act, not a bug in smtui."""
    from smtui.config import ConfigError
    from smtui.connectors import ApiError
    from smtui.engine import EngineError
    from smtui.match.csvio import CsvInputError
    from smtui.store import StoreError
    from smtui.tokens import TokenError

    return (EngineError, StoreError, TokenError, ApiError, CsvInputError, ConfigError)


def friendly(func: F) -> F:
    """Turn user errors into one line on stderr and an exit code."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from smtui.engine import Locked

        try:
            return func(*args, **kwargs)
        except Locked as exc:
            fail(str(exc), EXIT_LOCKED)
        except user_errors() as exc:
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
    """Lazily loaded settings and store, so `smtui --help` and `smtui sandbox` never touch the
    database, and a bad config file only stops the commands that need it."""

    def __init__(self, db: str | None) -> None:
        self.db = db  # --db as given on the command line (None: the settings decide)
        self._settings: tuple[Settings, dict[str, Source]] | None = None
        self._store: Store | None = None

    @property
    def settings(self) -> Settings:
        return self.settings_with_sources()[0]

    def settings_with_sources(self) -> tuple[Settings, dict[str, Source]]:
        if self._settings is None:
            from smtui.config import ConfigError, load_settings

            try:
                self._settings = load_settings(self.db)
            except ConfigError as exc:
                fail(str(exc))
        return self._settings

    @property
    def store(self) -> Store:
        if self._store is None:
            from smtui.engine import open_store

            self._store = open_store(self.settings.db)
        return self._store


pass_ctx = click.make_pass_decorator(Ctx)


def has_terminal() -> bool:
    return sys.stdin.isatty() and sys.stdout.isatty()


# --- output --------------------------------------------------------------------------------


def when(value: dt.datetime | None) -> str:
    """A stored time (UTC) as the reader's local time, "-" for never."""
    if value is None:
        return "-"
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone().strftime("%Y-%m-%d %H:%M %Z")


def _json_default(value: Any) -> Any:
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, tuple | set | frozenset):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


def as_dict(record: Any) -> dict[str, Any]:
    """A result dataclass as JSON-ready data: dates as ISO text, tuples as lists."""
    return json.loads(json.dumps(dataclasses.asdict(record), default=_json_default))


def emit_json(value: Any) -> None:
    """The one way a command prints --json: indented, dates as ISO 8601 (docs/cli-json.md)."""
    echo(json.dumps(value, indent=2, default=_json_default))


def counts_text(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {kind.replace('_', ' ')}" for kind, n in counts.items() if n)


def print_table(rows: list[tuple[str, ...]]) -> None:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        echo("  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip())


def write_csv(path: Path | None, header: list[str], rows: list[list[Any]]) -> None:
    out = path.open("w", newline="", encoding="utf-8") if path else sys.stdout
    try:
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows(rows)
    finally:
        if path:
            out.close()


# --- options and arguments shared by several commands --------------------------------------


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
JSON = click.option(
    "--json", "as_json", is_flag=True, help="Machine-readable output (docs/cli-json.md)."
)


def read_note(ctx: Ctx, name: str) -> str:
    """Reports read the cache: say how old it is and how to refresh it."""
    from smtui import engine

    return (
        f"(from the read of {when(engine.read_at(ctx.store, name))}; "
        f"`smtui refresh {name}` reads both systems again)"
    )


def child_id(ctx: Ctx, name: str, child: str) -> str:
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
