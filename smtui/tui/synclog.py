"""The sync log: live lines from the running sync, and the history of past runs with their ops.

History is re-read every few seconds so a ``smtui sync`` run from cron or another shell shows up
without a key press (and the service screen's header follows it). A run held for approval is
approved from here, after a confirmation.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import DataTable, Input, Log, Static

from smtui import engine
from smtui.tui.cells import BARS, OP_STATE_STYLES, RESULT_STYLES, haystack, plain, run_cells
from smtui.tui.rundetail import RunDetailScreen
from smtui.tui.working import ReportsWorkerErrors
from smtui.views import OpEvent, RunSummary

RESULT_FILTERS = ("all", "ok", "held", "partial", "failed")
HISTORY_SECONDS = 5.0
COUNTS_WIDTH = 40


def event_line(ev: OpEvent) -> str:
    """One live-log line; plain text, so names are never read as markup."""
    line = f"{ev.state.replace('_', ' '):<9} {ev.label}"
    return f"{line}: {ev.error}" if ev.error else line


STRIP_RUNS = 30


def run_strip(runs: list[RunSummary]) -> Text:
    """The last 30 runs, oldest first, one bar each: its height the changes it planned (scaled
    to the busiest), its colour the result, so a streak of failures or holds shows at a glance;
    a run that failed or was held is a red ✗ or a magenta ‖ whatever its size."""
    recent = list(reversed(runs[:STRIP_RUNS]))
    sizes = [sum(r.counts.values()) for r in recent]
    top = max(sizes, default=0) or 1
    strip = Text()
    for run, size in zip(recent, sizes, strict=True):
        style = RESULT_STYLES.get(run.result, "")
        if run.result == "failed":
            strip.append("✗", style=style)
        elif run.result == "held":
            strip.append("‖", style=style)
        else:
            level = min(len(BARS) - 1, (size * (len(BARS) - 1) + top - 1) // top)
            strip.append(BARS[level] if size else "·", style=style)
    return strip


class RunsTable(DataTable):
    """The past runs; enter shows the one under the cursor in full (and says so in the footer)."""

    HELP_SECTION = "Sync log"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select_cursor", "Run detail", id="log.run_detail")
    ]


class SyncLogPane(ReportsWorkerErrors, Vertical):
    HELP_SECTION = "Sync log"

    class ApproveRequested(Message):
        """The person asked to approve the held run; the service screen confirms and runs it."""

        def __init__(self, run: RunSummary, held: list[str]) -> None:
            super().__init__()
            self.run = run
            self.held = held

    class HistoryChanged(Message):
        """A run started, finished or changed result, maybe from another shell or cron."""

    BINDINGS: ClassVar[list[BindingType]] = [
        # whichever run is selected: only the newest run can be held, so there is one to approve
        Binding("A", "approve", "Approve held run", id="log.approve"),
        Binding("f", "cycle_result", "Result filter", id="log.result_filter"),
        Binding("slash", "search", "Filter ops", show=False, id="log.search", priority=True),
        Binding("enter", "open_run", "Run detail", show=False, id="log.open_run"),
        # esc goes one level back: a filter is cleared before the screen leaves the service
        Binding("escape", "clear_filter", "Clear filter", show=False, id="log.clear_filter"),
    ]

    def __init__(self, service: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.service = service
        self.runs: list[RunSummary] = []
        self.events: list[OpEvent] = []
        self.result_filter = "all"
        self.text_filter = ""
        self.selected: int | None = None
        self._known_runs: set[int] = set()

    def compose(self) -> ComposeResult:
        yield Static(
            Text.assemble(("Live", "bold"), ("  a sync started here shows its lines", "dim")),
            classes="pane-title",
        )
        yield Log(id="live", max_lines=1000, auto_scroll=True)
        yield Static(id="runs-title", classes="pane-title")
        runs = RunsTable(id="runs", cursor_type="row")
        runs.add_columns("Run", "Kind", "Started", "Result", "Who")
        # fixed: sized to a running row's "nothing to do", it once stayed that narrow
        runs.add_column("Counts", width=COUNTS_WIDTH)
        runs.add_column("Message")
        yield runs
        yield Input(placeholder="/ filter operations by text or state", id="ops-filter")
        ops: DataTable[Text] = DataTable(id="ops", cursor_type="row")
        ops.add_columns("State", "Operation", "Error")
        yield ops

    def on_mount(self) -> None:
        self.show_title()
        self.load_history()
        self.set_interval(HISTORY_SECONDS, self.load_history)

    # --- live --------------------------------------------------------------------------------

    def live(self, line: str) -> None:
        self.query_one("#live", Log).write_line(line)

    def saw_run(self, run_id: int) -> None:
        """A run started here shows in the history at its first operation, not at the next
        poll."""
        if run_id not in self._known_runs:
            self._known_runs.add(run_id)
            self.load_history()

    # --- history -----------------------------------------------------------------------------

    @work(thread=True, exclusive=True, exit_on_error=False, group="history")
    def load_history(self) -> None:
        app = self.app
        runs = engine.runs(app.store, self.service)
        app.call_from_thread(self.set_runs, runs)

    def set_runs(self, runs: list[RunSummary]) -> None:
        self._known_runs.update(r.run_id for r in runs)
        if runs == self.runs:
            return
        self.runs = runs
        self.post_message(self.HistoryChanged())
        if runs and (self.selected is None or runs[0].result == "running"):
            self.selected = runs[0].run_id  # chosen before the table is redrawn: the cursor follows
        self.show_runs()
        if self.selected is not None:
            self.load_events(self.selected)  # it may have finished: show all its operations

    def shown_runs(self) -> list[RunSummary]:
        return [r for r in self.runs if self.result_filter in ("all", r.result)]

    def show_runs(self) -> None:
        table = self.query_one("#runs", DataTable)
        now = self.app.now()
        table.clear()
        shown = self.shown_runs()
        for run in shown:
            table.add_row(*run_cells(run, now), key=str(run.run_id))
        ids = [r.run_id for r in shown]
        if self.selected in ids:
            table.move_cursor(row=ids.index(self.selected), animate=False)
        self.show_title()

    def show_title(self) -> None:
        run = self.held_run()
        held = f" · A approves held run {run.run_id}" if run else ""
        title = Text(f"Runs ({self.result_filter}; f cycles){held}", style="bold")
        if self.runs:
            title.append("  last runs ", style="dim")
            title.append_text(run_strip(self.runs))
        self.query_one("#runs-title", Static).update(title)
        self.refresh_bindings()

    def select(self, run_id: int) -> None:
        self.selected = run_id
        self.load_events(run_id)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table.id == "runs" and event.row_key.value is not None:
            run_id = int(event.row_key.value)
            if run_id != self.selected:
                self.select(run_id)
            self.refresh_bindings()

    @work(thread=True, exclusive=True, exit_on_error=False, group="events")
    def load_events(self, run_id: int) -> None:
        app = self.app
        events = engine.run_events(app.store, run_id)
        app.call_from_thread(self.set_events, run_id, events)

    def set_events(self, run_id: int, events: list[OpEvent]) -> None:
        if run_id != self.selected:
            return
        self.events = events
        self.show_events()

    def show_events(self) -> None:
        table = self.query_one("#ops", DataTable)
        table.clear()
        needle = self.text_filter.casefold().strip()
        for ev in self.events:
            if needle and needle not in haystack((ev.state, ev.kind, ev.label, ev.error)):
                continue
            table.add_row(
                Text(ev.state.replace("_", " "), style=OP_STATE_STYLES.get(ev.state, "")),
                plain(ev.label, 70),
                plain(ev.error or "", 50, "red"),
            )

    def action_cycle_result(self) -> None:
        i = RESULT_FILTERS.index(self.result_filter)
        self.result_filter = RESULT_FILTERS[(i + 1) % len(RESULT_FILTERS)]
        self.show_runs()

    def action_search(self) -> None:
        self.screen.set_focus(self.query_one("#ops-filter", Input))

    def action_clear_filter(self) -> None:
        box = self.query_one("#ops-filter", Input)
        box.value = ""
        self.text_filter = ""
        self.show_events()
        self.query_one("#runs", DataTable).focus()

    def selected_run(self) -> RunSummary | None:
        return next((r for r in self.runs if r.run_id == self.selected), None)

    def action_open_run(self) -> None:
        run = self.selected_run()
        if run is not None:
            self.app.push_screen(RunDetailScreen(run))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """Enter on a run (or on one of its operations) shows the run in full."""
        event.stop()
        self.action_open_run()

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.text_filter = event.value
        self.show_events()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.query_one("#ops", DataTable).focus()

    # --- approval ----------------------------------------------------------------------------

    def held_run(self) -> RunSummary | None:
        """The newest run, if it is held: approving applies what it held, whatever is selected
        (an older held run was superseded by the runs after it)."""
        if not self.runs or self.runs[0].result != "held":
            return None
        return self.runs[0]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "search":  # priority, so what is typed straight after / lands in the box
            return not isinstance(self.screen.focused, Input)
        if action == "clear_filter":
            return bool(self.text_filter)  # else esc is the screen's: back to the services
        if action == "open_run":
            return None if self.selected_run() is None else True
        if action == "approve":
            return self.held_run() is not None  # hidden unless there is a held run to approve
        return True

    def action_approve(self) -> None:
        run = self.held_run()
        if run is None:
            return
        if self.selected != run.run_id:
            # show the run being approved, and its held operations, behind the dialog
            if run not in self.shown_runs():
                self.result_filter = "all"
            self.select(run.run_id)
            self.show_runs()
        self.request_approval(run)

    @work(thread=True, exclusive=True, exit_on_error=False, group="approve")
    def request_approval(self, run: RunSummary) -> None:
        """Read the run's own held operations for the dialog, not the selected run's."""
        events = engine.run_events(self.app.store, run.run_id)
        held = [ev.label for ev in events if ev.state == "held"]
        self.post_message(self.ApproveRequested(run, held))
