"""The rooms grid: each CCMS room, its bookings week by week, and what the sync does with it.

A room with no bookings in the current and next five weeks is removed (docs/sync-rules.md): each
room shows its sessions in those six weeks as a bar per week, so one running out of bookings is
seen weeks before, and the date it will be removed unless a person unlinks it (``n``, e.g. over
a holiday closure; ``L`` relinks it). Edits go through the screen's ``ServiceSession``.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Static

from smtui import engine
from smtui.engine.session import RoomWeeksRow, ServiceSession
from smtui.tui.cells import NAME_WIDTH, plain, room_cells
from smtui.tui.fit import Col, FitTable
from smtui.tui.node import SmtuiNode
from smtui.tui.picker import Choice, PickerScreen, ranked

#: The mapping and the removal date first: narrow screens drop the highest ranks.
COLUMNS = (
    Col("name", "CCMS room", rank=0, floor=12),
    Col("action", "Action", rank=1),
    Col("portfolio", "Portfolio room", rank=4, floor=12),
    Col("weeks", "6 weeks", rank=3),
    Col("occurrences", "Sessions", rank=5),
    Col("removal", "Removed on", rank=2, floor=10),
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


class RoomsPane(SmtuiNode, Vertical):
    HELP_SECTION = "Rooms"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("l", "link", "Link", id="rooms.link"),
        Binding("c", "set('create')", "Create", id="rooms.create"),
        Binding("x", "dont_add", "Don't add", id="rooms.ignore"),
        Binding("n", "unlink", "Unlink", id="rooms.unlink"),
        Binding("L", "set('relink')", "Relink", id="rooms.relink"),
        Binding("u", "undo", "Undo", show=False, id="rooms.undo"),  # the foot line offers it
    ]

    class Edited(Message):
        """An edit or an undo changed the session: the screen writes it and re-plans."""

    def __init__(self, service: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.service = service
        self.rows: list[RoomWeeksRow] = []
        self.by_id: dict[str, RoomWeeksRow] = {}
        self.session: ServiceSession | None = None
        #: a read or a sync is under way: its result replaces the session, so no edit now
        self.frozen = False

    def compose(self) -> ComposeResult:
        yield FitTable(COLUMNS, id="room-grid", cursor_type="row", zebra_stripes=True)
        yield Static(id="room-foot")

    @property
    def grid(self) -> FitTable:
        return self.query_one("#room-grid", FitTable)

    def show_session(self, session: ServiceSession | None) -> None:
        """The service as just opened: its rooms once their weeks are worked out (the screen
        calls ``show_rows`` then, from the opening's first plan). Until then the rooms of an
        earlier read stay, and the cursor on its room."""
        self.session = session
        if session is None or session.rooms_ready:
            self.set_rows(session.room_rows() if session else [])
        elif not self.rows:
            foot = Text("working out each room's bookings…", style="dim")
            self.query_one("#room-foot", Static).update(foot)

    def show_rows(self) -> None:
        if self.session is not None:
            self.set_rows(self.session.room_rows())

    def set_rows(self, rows: list[RoomWeeksRow]) -> None:
        self.rows = rows
        self.by_id = {r.room_id: r for r in rows}
        self.grid.set_rows([(r.room_id, room_cells(r)) for r in rows])
        at_risk = sum(1 for r in rows if r.removal_date is not None)
        parts = [f"{len(rows)} rooms"]
        last = self.session.last_edit("rooms") if self.session else None
        if last is not None:
            parts.append(f"u undo {last.label}")
        first = min((r.removal_date for r in rows if r.removal_date is not None), default=None)
        if at_risk and first is not None:
            parts.append(
                f"{at_risk} removed from {first.isoformat()} unless unlinked (n keeps a room)"
            )
        if rows and self.session is not None:
            week = self.session.first_week.isoformat()
            parts.append(f"bars: sessions a week, from the week of {week}")
        foot = Text(" · ".join(parts), no_wrap=True, overflow="ellipsis")
        self.query_one("#room-foot", Static).update(foot)
        self.refresh_bindings()

    def cursor_row(self) -> RoomWeeksRow | None:
        key = self.grid.cursor_key()
        return None if key is None else self.by_id.get(key)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Offer only what makes sense for the cursor room (unlink a linked one, and so on);
        the rest is hidden so the footer fits 80 columns."""
        row = self.cursor_row()
        if action not in ("link", "set", "dont_add", "unlink", "undo"):
            return True
        if self.frozen or self.session is None or row is None:
            return None
        if action == "undo":
            return self.session.last_edit("rooms") is not None
        return {
            "link": True,
            "dont_add": row.action == "create",
            "unlink": row.action == "link",
            "set": row.action != "create"
            if parameters == ("create",)
            else (row.action != "link" and row.portfolio_room_id is not None),
        }[action]

    def on_fit_table_row_highlighted(self, event: FitTable.RowHighlighted) -> None:
        self.refresh_bindings()

    def action_link(self) -> None:
        row = self.cursor_row()
        session = self.session
        if row is None or session is None:
            return
        linked = {  # portfolio room -> the other CCMS room linked to it
            r.portfolio_room_id: r.name
            for r in self.rows
            if r.action == "link" and r.room_id != row.room_id
        }
        rooms = session.portfolio_rooms()
        current = row.portfolio_room_id if row.action == "link" else None

        def load(query: str) -> list[Choice]:
            needle = query.casefold().strip()
            found = [(rid, name) for rid, name in rooms if needle in name.casefold()]
            order = ranked(query, found, current)
            return [
                (rid, room_choice(name, linked.get(rid), current=rid == current))
                for rid, name in (found[i] for i in order)
            ]

        def chosen(room_id: str | None) -> None:
            if room_id:
                self.edit(row.room_id, "link", room_id, "link")

        self.app.push_screen(
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
        """Decide the room in the session: shown now, written and planned by the screen."""
        if self.session is None or self.frozen:
            return
        try:
            self.session.set_rooms(
                [room_id],
                action,
                portfolio_room_id=portfolio_room_id,
                label=f"{label} {self.by_id[room_id].name}",
            )
        except engine.EngineError as exc:
            self.app.report_error(exc)
            return
        self.show_rows()
        self.post_message(self.Edited())

    def action_undo(self) -> None:
        if self.session is None or self.frozen:
            return
        edit = self.session.undo("rooms")
        if edit is not None:
            self.show_rows()
            self.notify(f"Undone: {edit.label}", timeout=3)
            self.post_message(self.Edited())
