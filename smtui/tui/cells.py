"""Turning view records into grid cells and short phrases.

Every string that came from a vendor system is wrapped in ``rich.text.Text`` so a child called
``[b]x[/b]`` is shown as typed, never parsed as markup. Times are shown relative to the app's clock
("5 min ago"), which is what support staff ask about and keeps screenshots stable.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from functools import lru_cache

from rich.console import JustifyMethod
from rich.text import Text

from smtui.engine.session import RoomWeeksRow
from smtui.views import ChildRow, RoomRow, RunSummary, ServiceSummary

NAME_WIDTH = 22

ACTION_LABELS = {"link": "link", "create": "create", "ignore": "don't add", "review": "review"}
ACTION_STYLES = {"link": "green", "create": "cyan", "ignore": "dim", "review": "bold yellow"}
STATE_STYLES = {
    "not set up": "cyan",
    "active": "green",
    "needs review": "yellow",
    "held for approval": "bold magenta",
    "failing": "bold red",
    "off": "dim",
}
RESULT_STYLES = {
    "ok": "green",
    "held": "magenta",
    "partial": "yellow",
    "failed": "bold red",
    "running": "cyan",
    "locked": "yellow",
}
OP_STATE_STYLES = {
    "done": "green",
    "failed": "bold red",
    "unknown": "yellow",
    "held": "magenta",
    "in_flight": "cyan",
    "planned": "dim",
    "not_started": "dim",
}
MARK = "●"
BARS = "▁▂▃▄▅▆▇█"


def plain(value: str | None, width: int | None = None, style: str = "") -> Text:
    """Literal text for a cell: no markup, no line breaks, long values cut with an ellipsis."""
    flat = " ".join((value or "").split())
    text = Text(flat, style=style, no_wrap=True, overflow="ellipsis")
    if width is not None and text.cell_len > width:
        text.truncate(width, overflow="ellipsis")
    return text


def _aware(when: dt.datetime) -> dt.datetime:
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def _span(seconds: float) -> str:
    if seconds < 60:
        return "under a minute"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours = round(seconds / 3600)
    if hours < 48:
        return f"{hours} h"
    return f"{round(seconds / 86400)} days"


def ago(when: dt.datetime | None, now: dt.datetime) -> str:
    if when is None:
        return "never"
    seconds = (now - _aware(when)).total_seconds()
    if seconds < 60:
        return "just now"
    return f"{_span(seconds)} ago"


def due_in(when: dt.datetime | None, now: dt.datetime) -> str:
    if when is None:
        return "-"
    seconds = (_aware(when) - now).total_seconds()
    return "overdue" if seconds <= 0 else f"in {_span(seconds)}"


def service_cells(s: ServiceSummary, now: dt.datetime) -> tuple[Text, ...]:
    last = Text("never", style="dim")
    if s.last_sync_at is not None:
        result = s.last_result or "?"
        last = Text.assemble(
            (result, RESULT_STYLES.get(result, "")), f", {ago(s.last_sync_at, now)}"
        )
    return (
        plain(s.name, NAME_WIDTH, "bold"),
        Text(s.state, style=STATE_STYLES.get(s.state, "")),
        Text(str(s.integrated_children), justify="right"),
        last,
        Text(due_in(s.next_due, now)),
    )


@lru_cache(maxsize=16384)
def _cell(
    value: str, width: int | None = None, style: str = "", justify: JustifyMethod = "left"
) -> Text:
    """A cell for a value, made once: the grids hold thousands of rows sharing a few hundred
    values (actions, reasons, dates, rooms), and a bulk edit re-makes every row it touched.
    Shared between rows, so never changed in place (the grid draws copies)."""
    text = plain(value, width, style)
    text.justify = justify
    return text


MARKED = Text(MARK, style="bold yellow")
UNMARKED = Text(" ", style="bold yellow")


def child_cells(row: ChildRow, marked: bool) -> tuple[Text, ...]:
    action = ACTION_LABELS.get(row.action, row.action)
    if row.changed:
        action += " *"
    return (
        MARKED if marked else UNMARKED,
        _cell(row.name, NAME_WIDTH),
        _cell(row.birth_date.isoformat() if row.birth_date else "-"),
        _cell(action, None, ACTION_STYLES.get(row.action, "")),
        # profile and reason whole: the grid cuts them to the room it has, so a wide screen
        # shows them in full
        _cell(row.profile_name or ""),
        _cell(f"{row.score:.0f}" if row.score else "", None, "", "right"),
        _cell(row.reason, None, "dim"),
        _cell(", ".join(row.rooms), NAME_WIDTH),
    )


def room_action(row: RoomRow) -> str:
    """A room a person unlinked keeps its portfolio room (L relinks it): that is not the same as
    a room never added, and the engine leaves it alone rather than removing it."""
    if row.action == "ignore" and row.portfolio_room_id is not None:
        return "unlinked"
    return ACTION_LABELS.get(row.action, row.action)


def week_bars(weeks: tuple[int, ...], at_risk: bool) -> Text:
    """A room's sessions per week, this week first, one bar each against its own busiest week
    (so a room running out shows it, however small); an empty week is a dot. Yellow when the
    room is heading for removal."""
    top = max(weeks, default=0)
    bars = Text(no_wrap=True)
    for n in weeks:
        if n == 0:
            bars.append("·", style="dim")
        else:
            level = min(len(BARS) - 1, -(-n * len(BARS) // top) - 1)  # ceil, so 1 shows
            bars.append(BARS[level], style="yellow" if at_risk else "green")
    return bars


def room_cells(row: RoomWeeksRow) -> tuple[Text, ...]:
    removal = Text("", no_wrap=True, overflow="ellipsis")
    if row.removal_date is not None:
        removal.append(row.removal_date.isoformat(), style="bold red")
        removal.append(" unless unlinked", style="dim")
    return (
        plain(row.name, NAME_WIDTH),
        Text(room_action(row), style=ACTION_STYLES.get(row.action, "")),
        plain(row.portfolio_room_name or "", NAME_WIDTH),
        week_bars(row.weeks, row.removal_date is not None),
        Text(f"{row.occurrences_in_window:,}", justify="right"),
        removal,
    )


def counts_text(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {kind.replace('_', ' ')}" for kind, n in counts.items() if n)


def run_counts(run: RunSummary) -> str:
    """What the run planned, and how that ended when not all of it was done; a running run has
    not finished planning, so it never says "nothing to do"."""
    planned = counts_text(run.counts)
    if run.result == "running":
        return planned or "planning…"
    settled = run.settled()
    if settled:
        return f"{settled} ({planned})" if planned else settled
    return planned or "nothing to do"


def run_cells(run: RunSummary, now: dt.datetime) -> tuple[Text, ...]:
    return (
        Text(str(run.run_id), justify="right"),
        Text(run.kind),
        Text(ago(run.started_at, now)),
        Text(run.result, style=RESULT_STYLES.get(run.result, "")),
        plain(run.who, 24, "dim"),
        plain(run_counts(run), 40),
        plain(run.message, 60, "dim"),
    )


def haystack(parts: Iterable[str | None]) -> str:
    """What type-to-filter searches, folded once so each keystroke is a substring test."""
    return " ".join(p for p in parts if p).casefold()


def one_line(exc: BaseException) -> str:
    """An error as the single line a user sees; the type only when the message is empty."""
    message = " ".join(str(exc).split())
    return message or type(exc).__name__
