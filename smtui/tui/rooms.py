"""The rooms grid: each CCMS room, whether it is in use, and what the sync does with it.

A room with no bookings in the window shows the date it will be removed; unlinking it (``n``)
tells the engine to leave it alone, e.g. over a holiday closure, and ``L`` relinks it.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import DataTable, Static
from textual.worker import Worker

from smtui import engine
from smtui.records import RoomMapping
from smtui.tui.cells import NAME_WIDTH, plain, room_cells
from smtui.tui.fit import Col, FitTable
from smtui.tui.picker import Choice, PickerScreen, ranked
from smtui.tui.working import ReportsWorkerErrors
from smtui.views import RoomRow

#: The mapping and the removal date first: narrow screens drop the highest ranks.
COLUMNS = (
    Col("name", "CCMS room", rank=0, floor=12),
    Col("action", "Action", rank=1),
    Col("portfolio", "Portfolio room", rank=3, floor=12),
    Col("active", "Active", rank=5),
    Col("occurrences", "Sessions", rank=4),
    Col("removal", "Removed on", rank=2),
)


def room_choice(name: str, linked_from: str | None, *, current: bool = False) -> Text:
    """A portfolio room in the picker, flagged when a CCMS room already links to it."""
    line = plain(name, 40)
    if current:
        line.append(" current link", style="bold green")
    if linked_from:
        line.append(" linked from ", style="yellow")
        line.append_text(plain(linked_from, NAME_WIDTH, "yellow"))
    return line


class RoomsPane(ReportsWorkerErrors, Vertical):
    HELP_SECTION = "Rooms"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("l", "link", "Link", id="rooms.link"),
        Binding("c", "set('create')", "Create", id="rooms.create"),
        Binding("x", "dont_add", "Don't add", id="rooms.ignore"),
        Binding("n", "unlink", "Unlink", id="rooms.unlink"),
        Binding("L", "set('relink')", "Relink", id="rooms.relink"),
        Binding("u", "undo", "Undo", show=False, id="rooms.undo"),  # the foot line offers it
    ]

    def __init__(self, service: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.service = service
        self.rows: list[RoomRow] = []
        self.by_id: dict[str, RoomRow] = {}
        self.undo_stack: list[tuple[str, list[RoomMapping]]] = []
        self.busy = False

    def compose(self) -> ComposeResult:
        yield FitTable(COLUMNS, id="room-grid", cursor_type="row", zebra_stripes=True)
        yield Static(id="room-foot")

    @property
    def grid(self) -> FitTable:
        return self.query_one("#room-grid", FitTable)

    def set_rows(self, rows: list[RoomRow]) -> None:
        self.rows = rows
        self.by_id = {r.room_id: r for r in rows}
        self.grid.set_rows([(r.room_id, room_cells(r)) for r in rows])
        at_risk = sum(1 for r in rows if r.removal_date is not None)
        parts = [f"{len(rows)} rooms"]
        if self.undo_stack:
            parts.append(f"u undo {self.undo_stack[-1][0]}")
        first = min((r.removal_date for r in rows if r.removal_date is not None), default=None)
        if at_risk and first is not None:
            parts.append(
                f"{at_risk} removed from {first.isoformat()} unless unlinked (n keeps a room)"
            )
        foot = Text(" · ".join(parts), no_wrap=True, overflow="ellipsis")
        self.query_one("#room-foot", Static).update(foot)
        self.refresh_bindings()

    def cursor_row(self) -> RoomRow | None:
        key = self.grid.cursor_key()
        return None if key is None else self.by_id.get(key)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Offer only what makes sense for the cursor room (unlink a linked one, and so on);
        the rest is hidden so the footer fits 80 columns."""
        row = self.cursor_row()
        if action not in ("link", "set", "dont_add", "unlink", "undo"):
            return True
        if self.busy or row is None:
            return None
        if action == "undo":
            return bool(self.undo_stack)
        return {
            "link": True,
            "dont_add": row.action == "create",
            "unlink": row.action == "link",
            "set": row.action != "create"
            if parameters == ("create",)
            else (row.action != "link" and row.portfolio_room_id is not None),
        }[action]

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.refresh_bindings()

    def action_link(self) -> None:
        row = self.cursor_row()
        if row is None:
            return
        app = self.app
        linked = {r.portfolio_room_id: r.name for r in self.rows if r.action == "link"}
        rooms: list[tuple[str, str]] = []

        def load(query: str) -> list[Choice]:
            if not rooms:  # read once (on the picker's worker thread), then filter per keystroke
                rooms.extend(engine.portfolio_rooms(app.store, self.service))
            needle = query.casefold().strip()
            found = [(rid, name) for rid, name in rooms if needle in name.casefold()]
            current = row.portfolio_room_id if row.action == "link" else None
            order = ranked(query, found, current)
            return [
                (rid, room_choice(name, linked.get(rid), current=rid == current))
                for rid, name in (found[i] for i in order)
            ]

        def chosen(room_id: str | None) -> None:
            if room_id:
                self.edit(row.room_id, "link", room_id, "link")

        app.push_screen(
            PickerScreen(f"Link room {row.name} to which portfolio room?", load), chosen
        )

    def action_dont_add(self) -> None:
        self.action_set("ignore", "don't add")

    def action_unlink(self) -> None:
        self.action_set("ignore", "unlink")

    def action_set(self, action: str, label: str | None = None) -> None:
        row = self.cursor_row()
        if row is not None:
            self.edit(row.room_id, action, None, label or action)

    def edit(self, room_id: str, action: str, portfolio_room_id: str | None, label: str) -> None:
        self.busy = True
        self.refresh_bindings()
        self.apply_edit(room_id, action, portfolio_room_id, label)

    @work(thread=True, exclusive=True, exit_on_error=False, group="rooms-edit")
    def apply_edit(
        self, room_id: str, action: str, portfolio_room_id: str | None, label: str
    ) -> None:
        app = self.app
        previous = engine.set_rooms(
            app.store,
            self.service,
            [room_id],
            action,
            portfolio_room_id=portfolio_room_id,
            who=app.who,
        )
        rows = engine.room_rows(app.store, self.service, as_of=app.as_of)
        app.call_from_thread(self.edited, f"{label} {self.by_id[room_id].name}", previous, rows)

    def edited(self, label: str, previous: list[RoomMapping], rows: list[RoomRow]) -> None:
        self.undo_stack.append((label, previous))
        self.set_rows(rows)

    def action_undo(self) -> None:
        if self.undo_stack:
            self.busy = True
            self.restore(*self.undo_stack.pop())

    @work(thread=True, exclusive=True, exit_on_error=False, group="rooms-edit")
    def restore(self, label: str, previous: list[RoomMapping]) -> None:
        app = self.app
        engine.restore_rooms(app.store, self.service, previous, who=app.who)
        rows = engine.room_rows(app.store, self.service, as_of=app.as_of)
        app.call_from_thread(self.set_rows, rows)
        app.call_from_thread(self.notify, f"Undone: {label}", timeout=3)

    def work_finished(self, worker: Worker) -> None:
        if worker.group == "rooms-edit":
            self.busy = False
            self.refresh_bindings()
