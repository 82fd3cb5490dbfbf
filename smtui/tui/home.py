"""The first screen: every service, its state, last sync and when the next one is due."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Footer, Header, Input, Static
from textual.worker import Worker

from smtui import engine
from smtui.tui.add_service import AddServiceScreen
from smtui.tui.cells import run_counts, service_cells
from smtui.tui.fit import Col, FitTable
from smtui.tui.service import ServiceScreen
from smtui.tui.working import ReportsWorkerErrors
from smtui.views import ServiceSummary

#: "Integrated": children with a portfolio profile, which is fewer than the CCMS's children the
#: service screen counts; "Children" made the two numbers look contradictory.
COLUMNS = (
    Col("name", "Service", rank=0, floor=14),
    Col("state", "State", rank=1),
    Col("integrated", "Integrated", rank=3),
    Col("last", "Last sync", rank=2, floor=10),
    Col("due", "Next due", rank=4),
)
REFRESH_SECONDS = 30.0


def short_path(path: Path) -> str:
    """The path with the home directory as ~, so it fits the header at 80 columns."""
    try:
        return f"~/{path.relative_to(Path.home())}"
    except ValueError:
        return str(path)


class ServiceTable(FitTable):
    """Widths are set when the rows are, never left to a later idle pass: a list painted before
    it would show names cut to the width of their column label."""

    HELP_SECTION = "Services"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select_cursor", "Open", id="home.open")
    ]


class FilterInput(Input):
    """The filter box: up and down move the cursor in the list it filters, enter opens it."""

    HELP_SECTION = "Services filter box"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("down", "move(1)", "Next match", show=False, id="home.filter_down"),
        Binding("up", "move(-1)", "Previous match", show=False, id="home.filter_up"),
    ]

    def action_move(self, step: int) -> None:
        table = self.screen.query_one(ServiceTable)
        if table.row_count:
            table.move_cursor(row=table.cursor_row + step, animate=False)


class HomeScreen(ReportsWorkerErrors, Screen):
    HELP_SECTION = "Services"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "add", "Add service", id="home.add"),
        Binding("r", "reload", "Refresh", id="home.refresh"),
        Binding("s", "sync", "Sync now", id="home.sync"),
        # priority: acted on as it arrives, so the name typed straight after it (one burst over
        # SSH) lands in the box rather than on the list
        Binding("slash", "filter", "Filter", id="home.filter", priority=True),
        Binding("ctrl+q", "app.quit", "Quit", priority=True, id="home.quit"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.summaries: list[ServiceSummary] = []
        self.filter_text = ""
        self.syncing: str | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield FilterInput(
            placeholder="/ filter services by name or state; enter opens", id="home-filter"
        )
        yield ServiceTable(COLUMNS, id="services", cursor_type="row", zebra_stripes=True)
        yield Static(id="home-status")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.title = "smtui"
        demo = self.app.demo
        # In the demo, name its database: `smtui --db PATH sync NAME` from another shell.
        self.sub_title = f"services · demo db {short_path(demo.db_path)}" if demo else "services"
        self.query_one(ServiceTable).focus()
        self.reload()
        self.set_interval(REFRESH_SECONDS, self.reload)

    def on_screen_resume(self) -> None:
        self.reload()

    @work(thread=True, exclusive=True, exit_on_error=False, group="summaries")
    def reload(self) -> None:
        summaries = engine.service_summaries(self.app.store)
        self.app.call_from_thread(self.show, summaries)

    def action_reload(self) -> None:
        self.reload()

    def show(self, summaries: list[ServiceSummary]) -> None:
        self.summaries = summaries
        needle = self.filter_text.casefold().strip()
        shown = [s for s in summaries if not needle or needle in f"{s.name} {s.state}".casefold()]
        now = self.app.now()
        self.query_one(ServiceTable).set_rows([(s.name, service_cells(s, now)) for s in shown])
        self.show_status(shown)

    def show_status(self, shown: list[ServiceSummary]) -> None:
        if not self.summaries:
            text = Text("No services yet: press a to add one.")
        else:
            states: dict[str, int] = {}
            for s in self.summaries:
                states[s.state] = states.get(s.state, 0) + 1
            text = Text(
                f"{len(shown)} of {len(self.summaries)} services · "
                + ", ".join(f"{n} {state}" for state, n in sorted(states.items()))
            )
        if self.syncing:
            text.append(f" · syncing {self.syncing}…", style="bold cyan")
        self.query_one("#home-status", Static).update(text)
        self.refresh_bindings()

    def selected(self) -> str | None:
        return self.query_one(ServiceTable).cursor_key()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "filter":
            return not isinstance(self.focused, Input)  # in the box, / is a character
        if action == "sync":
            return None if self.syncing or self.selected() is None else True
        return True

    def on_fit_table_row_highlighted(self, event: FitTable.RowHighlighted) -> None:
        self.refresh_bindings()

    def on_fit_table_row_selected(self, event: FitTable.RowSelected) -> None:
        event.stop()
        self.app.push_screen(ServiceScreen(event.key))

    def action_add(self) -> None:
        def added(name: str | None) -> None:
            if name:
                self.notify(f"Added {name}: open it to set it up", timeout=4)
                self.reload()

        self.app.push_screen(AddServiceScreen(), added)

    def action_filter(self) -> None:
        # at once, not on the next idle, so the name typed straight after / lands in the box
        self.set_focus(self.query_one(FilterInput))

    def on_input_changed(self, event: Input.Changed) -> None:
        self.filter_text = event.value
        self.show(self.summaries)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter opens the match under the cursor (the first, unless moved with up/down).

        Handing focus to the list and waiting for a second enter lost that enter when it came
        before the focus moved; opening from here cannot."""
        table = self.query_one(ServiceTable)
        self.set_focus(table)  # where the person lands when they come back
        name = self.selected()
        if not event.value.strip():
            return
        if name is None:
            self.notify(f"No service matches {event.value.strip()!r}", timeout=3)
            self.set_focus(event.input)
            return
        self.app.push_screen(ServiceScreen(name))

    def action_sync(self) -> None:
        name = self.selected()
        summary = next((s for s in self.summaries if s.name == name), None)
        if summary is None:
            return
        if summary.state == "not set up":
            self.notify(f"{name} is not set up yet: open it (enter) to set it up", timeout=4)
            return
        self.syncing = name
        self.show_status(self.summaries)
        self.sync(name)

    @work(thread=True, exclusive=True, exit_on_error=False, group="home-sync")
    def sync(self, name: str) -> None:
        app = self.app
        result = engine.run_sync(app.store, name, as_of=app.as_of, who=app.who)
        run = result.run
        line = f"{name}: {run.result} (run {run.run_id}): {run_counts(run)}"
        if run.message:
            line += f"; {run.message}"
        severity = "information" if run.result == "ok" else "warning"
        app.call_from_thread(self.notify, line, severity=severity, timeout=6)

    def work_finished(self, worker: Worker) -> None:
        if worker.group == "home-sync":
            self.syncing = None
            self.reload()
