"""One run in full: what it was asked to do, how each part ended, every error as written.

The sync log's grid cuts messages to fit a row; a support person reading why a run failed needs
the whole text, so here nothing is cut: the message and each operation's error wrap.
"""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from smtui import engine
from smtui.tui.cells import OP_STATE_STYLES, RESULT_STYLES, ago, counts_text, haystack
from smtui.tui.working import ReportsWorkerErrors
from smtui.views import OpEvent, RunSummary

#: what each result means, in words: "partial" alone made a run that read nothing look half done
RESULT_WORDS = {
    "ok": "ok: everything planned was done",
    "held": "held: waiting for approval (A in the sync log approves it)",
    "partial": "partial: some operations did not go through",
    "failed": "failed: the run could not do what it planned",
    "running": "running now",
    "locked": "not run: another sync of this service held the lock",
}
#: the order outcomes are counted in; "not started" is what a run stopped early never tried
OUTCOMES = ("done", "failed", "unknown", "held", "not_started")


def result_words(run: RunSummary) -> str:
    return RESULT_WORDS.get(run.result, run.result)


def outcome_counts(run: RunSummary, events: list[OpEvent]) -> dict[str, int]:
    """Done / failed / unknown / held / not started, from the run record when it has them
    (runs before 0.2 do not), else from the operations themselves."""
    if run.outcome:
        return {k: run.outcome.get(k, 0) for k in OUTCOMES}
    out = dict.fromkeys(OUTCOMES, 0)
    for ev in events:
        key = "not_started" if ev.state in ("planned", "in_flight") else ev.state
        out[key] = out.get(key, 0) + 1
    return out


def outcome_text(counts: dict[str, int]) -> Text:
    text = Text()
    for key in OUTCOMES:
        n = counts.get(key, 0)
        style = OP_STATE_STYLES.get(key, "dim") if n else "dim"
        if text:
            text.append(" · ")
        text.append(f"{key.replace('_', ' ')} {n:,}", style=style)
    return text


def header_lines(run: RunSummary, now: dt.datetime) -> list[Text]:
    finished = "still running" if run.finished_at is None else ago(run.finished_at, now)
    lines = [
        Text.assemble(("Result  ", "bold"), (result_words(run), RESULT_STYLES.get(run.result, ""))),
        Text.assemble(
            ("Started ", "bold"),
            f"{ago(run.started_at, now)} by ",
            (run.who, "dim"),
            f" ({run.kind}) · finished {finished}",
        ),
    ]
    planned = counts_text(run.counts)
    if run.result == "running" and not planned:
        planned = "still planning"
    lines.append(Text.assemble(("Planned ", "bold"), planned or "nothing to do"))
    settled = run.settled()
    if settled:
        lines.append(Text(settled, style="yellow"))
    if run.message:
        lines.append(Text.assemble(("Message ", "bold"), Text(run.message)))
    return lines


class RunDetailScreen(ReportsWorkerErrors, ModalScreen[None]):
    """Esc goes back one level: the filter first, then the sync log."""

    HELP_SECTION = "Run detail"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="run.back"),
        Binding("q", "close", "Close", show=False, id="run.close"),
        Binding("slash", "find", "Filter", id="run.find", priority=True),
        Binding("e", "errors_only", "Errors only", id="run.errors_only"),
    ]

    def __init__(self, run: RunSummary) -> None:
        super().__init__()
        self.run = run
        self.events: list[OpEvent] = []
        self.needle = ""
        self.errors_only = False

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog run-detail"):
            yield Static(
                Text(f"Run {self.run.run_id} of {self.run.service}", style="bold"),
                classes="dialog-title",
            )
            yield Static(id="run-head")
            yield Static(id="run-outcome")
            yield Input(placeholder="/ filter operations", id="run-filter", compact=True)
            with VerticalScroll(id="run-ops"):
                yield Static(id="run-ops-text")
            yield Static(
                Text("/ filter · e errors only · esc back", style="dim"), classes="dialog-hint"
            )

    def on_mount(self) -> None:
        self.query_one("#run-head", Static).update(
            Text("\n").join(header_lines(self.run, self.app.now()))
        )
        self.query_one("#run-ops", VerticalScroll).focus()
        self.load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="run-detail")
    def load(self) -> None:
        events = engine.run_events(self.app.store, self.run.run_id)
        self.app.call_from_thread(self.loaded, events)

    def loaded(self, events: list[OpEvent]) -> None:
        self.events = events
        self.query_one("#run-outcome", Static).update(
            Text.assemble(("Outcome ", "bold"), outcome_text(outcome_counts(self.run, events)))
        )
        self.show()

    def show(self) -> None:
        needle = self.needle.casefold().strip()
        out = Text()
        shown = 0
        for ev in self.events:
            if self.errors_only and not ev.error and ev.state not in ("failed", "unknown"):
                continue
            if needle and needle not in haystack((ev.state, ev.kind, ev.label, ev.error)):
                continue
            shown += 1
            if out:
                out.append("\n")
            out.append(f"{ev.state.replace('_', ' '):<11}", style=OP_STATE_STYLES.get(ev.state))
            out.append_text(Text(ev.label))
            if ev.error:
                out.append("\n")
                out.append_text(Text("           " + ev.error, style="red"))
        if not shown:
            out = Text("no operations" + (" match" if needle or self.errors_only else ""))
        self.query_one("#run-ops-text", Static).update(out)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # in the box these are characters
        return not (action in ("find", "close", "errors_only") and isinstance(self.focused, Input))

    def action_find(self) -> None:
        self.set_focus(self.query_one(Input))

    def action_errors_only(self) -> None:
        self.errors_only = not self.errors_only
        self.show()

    def action_back(self) -> None:
        box = self.query_one(Input)
        if box.value:
            box.value = ""
            self.query_one("#run-ops", VerticalScroll).focus()
        elif self.focused is box:
            self.query_one("#run-ops", VerticalScroll).focus()
        else:
            self.dismiss(None)

    def action_close(self) -> None:
        self.dismiss(None)

    def on_input_changed(self, event: Input.Changed) -> None:
        self.needle = event.value
        self.show()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.query_one("#run-ops", VerticalScroll).focus()
