"""The children grid: what will happen to each CCMS child, decided row by row or in bulk.

The grid has no multi-select, so marks are a set of row keys (child ids) plus a marker column.
Every action applies to the marked rows, or to the cursor row when none is marked. An action is
an edit of the service's ``ServiceSession``: the grid shows it at once, the screen writes it and
re-plans in a worker, and the session keeps what it replaced so ``u`` puts it back.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import events, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Input, Static

from smtui import engine
from smtui.engine.mapping import GridRow, reason_label, review_groups
from smtui.engine.session import ServiceSession
from smtui.tui.cells import MARKED, UNMARKED, child_cells, haystack
from smtui.tui.dialogs import Dialog, LinesScreen
from smtui.tui.fit import Col, FitTable
from smtui.tui.groups import ALL, GroupsScreen
from smtui.tui.picker import Choice, PickerScreen, candidate_choice, ranked
from smtui.tui.working import ReportsWorkerErrors

FILTERS: tuple[tuple[str, str], ...] = (
    ("review", "Needs review"),
    ("link", "Link"),
    ("create", "Create"),
    ("ignore", "Don't add"),
    ("changed", "Changed"),
    ("all", "All"),
)
SHORT = {"review": "Review"}
#: Narrow screens drop the highest ranks first: at 80 columns reason and rooms go (w shows why),
#: names are cut no shorter than their floor, and the score and birth date are always whole.
COLUMNS = (
    Col("mark", " ", rank=0),
    Col("name", "CCMS name", rank=1, floor=18),
    Col("born", "Born", rank=5),
    Col("action", "Action", rank=2),
    Col("profile", "Profile", rank=4, floor=16),
    Col("score", "Score", rank=3),
    Col("reason", "Reason", rank=6, floor=16),
    Col("rooms", "Rooms", rank=7, floor=8),
)
#: Most rows the grid holds at once (it draws only the lines in view: bench/bench_tui.py).
MAX_ROWS = 5000
#: how long the cursor rests on a row before its link candidates are worked out (0.1-0.3 s of
#: matching at 2,000 profiles, which opening the picker would otherwise wait for)
PREFETCH_DELAY = 0.3


def in_filter(row: GridRow, key: str, group: str | None = None) -> bool:
    """``group``: only the reviews of that reason kind (the review groups, r)."""
    if group is not None:
        return row.action == "review" and row.reason_kind == group
    if key == "all":
        return True
    if key == "changed":
        return row.changed
    return row.action == key


class SearchInput(Input):
    """Type-to-filter box: enter keeps the filter and returns to the grid, esc clears it."""

    HELP_SECTION = "Children filter box"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "leave(True)", "Clear filter", id="search.clear")
    ]

    def action_leave(self, clear: bool) -> None:
        if clear:
            self.value = ""
        self.screen.set_focus(self.screen.query_one(ChildGrid))


class ChildGrid(FitTable):
    """The grid itself; enter accepts the suggestion of the cursor (or marked) rows."""

    HELP_SECTION = "Children"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select_cursor", "Accept", id="children.accept")
    ]


class ChildrenPane(ReportsWorkerErrors, Vertical):
    HELP_SECTION = "Children"

    class Changed(Message):
        """The rows changed (an edit, an undo, a re-read): the screen's summary line follows."""

    class Edited(Message):
        """An edit or an undo changed the session: the screen writes it and re-plans."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "toggle_mark", "Mark", id="children.mark"),
        Binding("shift+down", "extend(1)", "Mark down", show=False, id="children.extend_down"),
        Binding("shift+up", "extend(-1)", "Mark up", show=False, id="children.extend_up"),
        Binding("ctrl+a,asterisk", "mark_all", "Mark all", show=False, id="children.mark_all"),
        # esc and u are announced in the line under the grid when they apply, / in the search box
        Binding("escape", "clear", "Clear marks, then filter", show=False, id="children.clear"),
        Binding("y", "accept", "Accept", show=False, id="children.accept_y"),
        Binding("l", "link", "Link", id="children.link"),
        Binding("c", "create", "Create", id="children.create"),
        Binding("x", "ignore", "Don't add", id="children.ignore"),
        # u and w are offered in the line under the grid (u while there is something to undo,
        # as in the rooms grid), which leaves the footer room for r and S at 80 columns
        Binding("u", "undo", "Undo", show=False, id="children.undo"),
        Binding("r", "groups", "Reasons", id="children.groups", tooltip="reviews by reason"),
        # announced in the line under the grid while it shows a review group
        Binding("A", "accept_group", "Accept group", show=False, id="children.accept_group"),
        Binding("w", "why", "Why", show=False, id="children.why"),
        # priority, as on the home screen: the keys typed straight after / belong in the box
        Binding("slash", "search", "Find", show=False, id="children.search", priority=True),
        *(
            Binding(
                str(i), f"filter('{key}')", f"Show {label}", show=False, id=f"children.filter_{key}"
            )
            for i, (key, label) in enumerate(FILTERS, start=1)
        ),
    ]

    def __init__(self, service: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.service = service
        self.rows: list[GridRow] = []
        self.by_id: dict[str, GridRow] = {}
        self.search_keys: dict[str, str] = {}
        self.shown_keys: list[str] = []
        self.marks: set[str] = set()
        self.filter_key = "all"
        #: the review group shown (a reason kind), None for the filter alone
        self.group: str | None = None
        self.query_text = ""
        self.counts: dict[str, int] = {}
        self._cells: dict[str, tuple[Text, ...]] = {}
        self._cells_of: dict[str, GridRow] = {}
        self.session: ServiceSession | None = None
        #: a read or a sync is under way: its result replaces the session, so no edit now
        self.frozen = False
        self.loaded = False
        self._filter_due = False
        self._prefetch_timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="child-filters")
        yield SearchInput(
            placeholder="/ type to filter by name, profile, room or reason", id="child-search"
        )
        yield ChildGrid(COLUMNS, id="child-grid", cursor_type="row", zebra_stripes=True)
        yield Static(id="child-foot")

    @property
    def grid(self) -> ChildGrid:
        return self.query_one(ChildGrid)

    # --- data ------------------------------------------------------------------------------

    def show_session(self, session: ServiceSession | None) -> None:
        """The service as just opened (None: nothing read, or turned off and purged)."""
        self.session = session
        self.set_rows(session.child_rows() if session else [])

    def show_rows(self) -> None:
        """The session's rows as they are now (after an edit, or once it is planned)."""
        if self.session is not None:
            self.set_rows(self.session.child_rows())

    def set_rows(self, rows: list[GridRow]) -> None:
        """Show these rows; the first load picks the filter that needs attention. A row object
        the grid had keeps its cells and search text (the session hands out new objects only
        for rows that changed)."""
        old, keys = self.by_id, self.search_keys
        self.rows = rows
        self.by_id = {r.child_id: r for r in rows}
        self.search_keys = {
            r.child_id: keys[r.child_id]
            if old.get(r.child_id) is r
            else haystack((r.name, r.profile_name, r.reason, *r.rooms, r.child_id))
            for r in rows
        }
        if not self.loaded:
            self.loaded = True
            self.filter_key = "review" if any(r.action == "review" for r in rows) else "all"
        self.show()
        self.post_message(self.Changed())

    def cells_of(self, row: GridRow) -> tuple[Text, ...]:
        """A row's cells, made once per read: a filter keystroke only picks which to show."""
        cells = self._cells.get(row.child_id)
        if cells is None or self._cells_of.get(row.child_id) is not row:
            cells = child_cells(row, False)
            self._cells[row.child_id] = cells
            self._cells_of[row.child_id] = row
        if row.child_id in self.marks:
            return (MARKED, *cells[1:])
        return cells

    def matching(self) -> list[GridRow]:
        needle = self.query_text.casefold().strip()
        keys = self.search_keys
        key, group = self.filter_key, self.group
        return [
            r
            for r in self.rows
            if in_filter(r, key, group) and (not needle or needle in keys[r.child_id])
        ]

    def show(self) -> None:
        """Fill the grid for the current filter; a row that left it hands the cursor on."""
        matching = self.matching()
        shown = matching[:MAX_ROWS]
        keys = [r.child_id for r in shown]
        # marks outlive a filter and an action (the same set can take the next key); only
        # rows that are gone lose theirs
        self.marks &= self.by_id.keys()
        self.grid.set_rows([(r.child_id, self.cells_of(r)) for r in shown])
        self.shown_keys = keys
        self.show_status(len(matching))

    def show_status(self, matching: int | None = None) -> None:
        counts = dict.fromkeys((key for key, _ in FILTERS), 0)
        for r in self.rows:  # one pass: this runs on every mark
            counts[r.action] = counts.get(r.action, 0) + 1
            counts["changed"] += r.changed
        counts["all"] = len(self.rows)
        self.counts = counts
        self.show_filter_bar()
        if matching is None:
            matching = len(self.matching())
        # Most important first: at 80 columns the end is cut, and esc / u are only shown here.
        shown = f"showing {len(self.shown_keys):,} of {matching:,}"
        if not matching and self.rows:
            shown += ": none here, " + ("r picks a group" if self.group else "6 shows all")
        if matching > len(self.shown_keys):
            shown += ": type to filter"
        parts = [shown]
        if self.group is not None:
            # the group's reason first: it is what the shown rows have in common
            parts.insert(0, f"{reason_label(self.group)}: {matching:,}")
            if matching:
                parts.insert(1, "A accepts them all · r groups")
        if self.marks:
            hidden = len(self.marks - set(self.shown_keys))
            mark = f"{len(self.marks):,} marked"
            if hidden:
                mark += f" ({hidden:,} not shown here)"
            parts.append(f"{mark}: keys act on the shown ones, esc clears")
        elif self.query_text.strip():
            parts.append("esc clears the filter")
        last = self.session.last_edit("children") if self.session else None
        if last is not None:
            parts.append(f"u undo {last.label}")
        if self.shown_keys:
            parts.append("w why")
        if any(self.by_id[k].changed for k in self.shown_keys):
            parts.append("* = changes at next sync")
        foot = Text(" · ".join(parts), no_wrap=True, overflow="ellipsis")
        self.query_one("#child-foot", Static).update(foot)
        self.refresh_bindings()

    def filter_bar(self, tier: int) -> Text:
        """The six filters, shorter at each tier: labelled and padded, then labelled and
        tight, then only the current one labelled; the numbers are never cut."""
        bar = Text(no_wrap=True, overflow="ellipsis")
        for i, (key, label) in enumerate(FILTERS, start=1):
            current = key == self.filter_key
            style = "reverse bold" if current else ""
            name = SHORT.get(key, label)
            n = f"{self.counts.get(key, 0):,}"
            if key == "changed" and self.session is not None and not self.session.planned:
                n = "…"  # the plan is being worked out
            if tier == 0:
                bar.append(f" {i} {name} {n} ", style=style)
            elif tier == 1 or current:
                bar.append(f"{i} {name} {n}", style=style)
                bar.append(" ")
            else:
                bar.append(f"{i}:{n}", style=style)
                bar.append(" ")
        return bar

    def show_filter_bar(self) -> None:
        box = self.query_one("#child-filters", Static)
        width = (box.size.width or self.app.size.width) - 2
        for tier in range(3):
            bar = self.filter_bar(tier)
            if bar.cell_len <= width:
                break
        box.update(bar)

    def on_resize(self, event: events.Resize) -> None:
        self.show_filter_bar()

    def cursor_key(self) -> str | None:
        return self.grid.cursor_key()

    def targets(self) -> list[str]:
        """The marked rows in grid order, else the cursor row."""
        if self.marks:
            return [k for k in self.shown_keys if k in self.marks]
        key = self.cursor_key()
        return [key] if key else []

    # --- marking ---------------------------------------------------------------------------

    def set_mark(self, key: str, on: bool) -> None:
        if on:
            self.marks.add(key)
        else:
            self.marks.discard(key)
        if key in self.grid.cells:  # a mark outside the filter has no cell to change
            self.grid.set_cell(key, "mark", MARKED if on else UNMARKED)

    def action_toggle_mark(self) -> None:
        key = self.cursor_key()
        if key is not None:
            self.set_mark(key, key not in self.marks)
            self.grid.action_cursor_down()
            self.show_status()

    def action_extend(self, step: int) -> None:
        key = self.cursor_key()
        if key is None:
            return
        self.set_mark(key, True)
        if step > 0:
            self.grid.action_cursor_down()
        else:
            self.grid.action_cursor_up()
        after = self.cursor_key()
        if after is not None:
            self.set_mark(after, True)
        self.show_status()

    def action_mark_all(self) -> None:
        for key in self.shown_keys:
            if key not in self.marks:
                self.set_mark(key, True)
        self.show_status()

    def action_clear_marks(self) -> None:
        for key in list(self.marks):
            self.set_mark(key, False)
        self.show_status()

    def action_clear(self) -> None:
        """Esc undoes the narrowest thing first: the marks, then the typed filter, then the
        review group; then the screen gets it and goes back."""
        if self.marks:
            self.action_clear_marks()
        elif self.query_text:
            self.clear_search()
        elif self.group is not None:
            self.action_filter("review")

    def clear_search(self) -> None:
        self.query_text = ""
        with self.prevent(Input.Changed):
            self.query_one(SearchInput).value = ""
        self.show()

    # --- filtering -------------------------------------------------------------------------

    def action_filter(self, key: str) -> None:
        self.filter_key = key
        self.group = None
        self.show()

    def action_groups(self) -> None:
        """The reviews counted by reason; the one picked is shown in the grid."""
        groups = review_groups(self.rows)
        if not groups:
            self.notify("No child needs review")
            return

        def picked(kind: str | None) -> None:
            if kind is None:
                return
            self.filter_key = "review"
            self.group = None if kind == ALL else kind
            self.show()
            self.grid.action_first()

        self.app.push_screen(GroupsScreen(groups, self.group), picked)

    def action_search(self) -> None:
        # at once, not on the next idle: the keys typed straight after / belong in the box
        self.screen.set_focus(self.query_one(SearchInput))

    def on_input_changed(self, event: Input.Changed) -> None:
        """Filter at once, once per burst: keys already queued change the text before the
        grid is filled, so a fast typist waits for one fill, not one per key."""
        event.stop()
        self.query_text = event.value
        if not self._filter_due:
            self._filter_due = True
            self.call_later(self.filter_now)

    def filter_now(self) -> None:
        self._filter_due = False
        self.show()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.query_text = event.value
        self.show()
        self.screen.set_focus(self.grid)

    # --- decisions -------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Hide esc/u when there is nothing to clear or undo; grey out edits while one runs."""
        if action == "search":
            return not isinstance(self.screen.focused, Input)  # in the box, / is a character
        if action == "clear":
            return bool(self.marks or self.query_text or self.group)
        if action == "accept_group":
            return False if self.group is None else (None if self.frozen else True)
        if action == "undo":
            has_undo = self.session is not None and self.session.last_edit("children")
            return None if self.frozen else bool(has_undo)
        if action in ("accept", "link", "create", "ignore", "why"):
            if self.frozen or self.session is None or not self.shown_keys:
                return None
            if action == "link" and len(self.targets()) != 1:
                return None
        return True

    def on_fit_table_row_selected(self, event: FitTable.RowSelected) -> None:
        event.stop()
        self.action_accept()

    def on_fit_table_row_highlighted(self, event: FitTable.RowHighlighted) -> None:
        """The footer follows the row; once the cursor rests, the row's link candidates are
        worked out, so ``l`` opens the picker on them at once."""
        self.refresh_bindings()
        if self._prefetch_timer is not None:
            self._prefetch_timer.stop()
        self._prefetch_timer = self.set_timer(PREFETCH_DELAY, self.prefetch_cursor)

    def prefetch_cursor(self) -> None:
        key = self.cursor_key()
        if key is not None and self.session is not None and not self.frozen:
            self.prefetch(self.session, key)

    @work(thread=True, exclusive=True, exit_on_error=False, group="children-prefetch")
    def prefetch(self, session: ServiceSession, child_id: str) -> None:
        session.candidates(child_id)

    def action_accept(self) -> None:
        if self.check_action("accept", ()) is not True:
            return
        ids = [
            k
            for k in self.targets()
            if self.by_id[k].action == "review" and self.by_id[k].profile_id
        ]
        if not ids:
            self.notify("Nothing to accept: only rows in review with a suggestion can be accepted")
            return
        self.edit("accept", ids, "accept suggestion")

    def action_create(self) -> None:
        self.edit("create", self.targets(), "create new profile")

    def action_ignore(self) -> None:
        self.edit("ignore", self.targets(), "don't add")

    def action_link(self) -> None:
        targets = self.targets()
        session = self.session
        if session is None:
            return
        if len(targets) != 1:
            self.notify("Link one child at a time: clear the marks (esc) or mark just one")
            return
        child = self.by_id[targets[0]]
        names = {cid: row.name for cid, row in self.by_id.items()}
        owners: dict[str, str] = {}  # profile id -> the other child already linked to it
        current = child.profile_id if child.action == "link" else None

        def load(query: str) -> list[Choice]:
            found = session.candidates(child.child_id, query)
            owners.update(
                (c.profile_id, c.linked_to)
                for c in found
                if c.linked_to and c.linked_to != child.child_id
            )
            order = ranked(query, [(c.profile_id, c.name) for c in found], current)
            return [
                candidate_choice(
                    found[i],
                    names.get(found[i].linked_to or ""),
                    current=found[i].profile_id == current,
                )
                for i in order
            ]

        def link(profile_id: str) -> None:
            self.edit("link", [child.child_id], "link", profile_id=profile_id)

        def chosen(profile_id: str | None) -> None:
            if not profile_id:
                return
            other = owners.get(profile_id)
            if other is None:
                link(profile_id)
                return
            # a swap passes through this state; say what it means rather than refuse it
            self.app.push_screen(
                Dialog(
                    f"{profile_id} is linked to {names.get(other, other)}",
                    [
                        "Until one of them is linked elsewhere, the sync leaves both children",
                        "alone and Set up / Update refuses to run.",
                    ],
                    yes="Link anyway",
                    no="Cancel",
                ),
                lambda yes: link(profile_id) if yes else None,
            )

        self.app.push_screen(PickerScreen(f"Link {child.name} to which profile?", load), chosen)

    def action_accept_group(self) -> None:
        """Every suggestion of the group shown becomes a link, once confirmed; one undo puts
        the group back. A review whose profile is taken stays in review, and is counted."""
        session, group = self.session, self.group
        if session is None or group is None or self.check_action("accept_group", ()) is not True:
            return
        ids = [r.child_id for r in self.matching()]  # the group, as narrowed by typed text
        ok, skipped = session.acceptable(ids)
        left = [f"{n:,} left in review: {why}" for why, n in skipped.items()]
        if not ok:
            self.notify(" · ".join(["Nothing to accept here", *left]), severity="warning")
            return
        body = [
            "Each child is linked to its suggested profile, as enter does one by one;",
            "S shows the links before anything changes, and u undoes the whole group.",
            *left,
        ]

        def answered(yes: bool | None) -> None:
            if yes:
                self.accept_group(ids)

        self.app.push_screen(
            Dialog(
                f"Accept {len(ok):,} suggestions: {reason_label(group)}?",
                body,
                yes=f"Accept {len(ok):,}",
                no="Cancel",
            ),
            answered,
        )

    def accept_group(self, ids: list[str]) -> None:
        """Decided again as it is now: the rows may have changed while the dialog was open."""
        if self.session is None or self.frozen:
            return
        edit, skipped = self.session.accept_reviews(ids)
        if not edit.ids:
            self.notify("Nothing was accepted: the group changed meanwhile", severity="warning")
            return
        self.show_rows()
        left = [f"{n:,} left in review ({why})" for why, n in skipped.items()]
        self.notify("; ".join([f"Accepted {len(edit.ids):,}", *left]), timeout=6)
        self.post_message(self.Edited())

    def action_why(self) -> None:
        key = self.cursor_key()
        if key is not None:
            self.explain(key)

    def action_undo(self) -> None:
        if self.session is None or self.frozen:
            return
        edit = self.session.undo("children")
        if edit is not None:
            self.show_rows()
            self.notify(f"Undone: {edit.label}", timeout=3)
            self.post_message(self.Edited())

    def edit(self, action: str, ids: list[str], label: str, profile_id: str | None = None) -> None:
        """Decide these rows in the session: shown now, written and planned by the screen."""
        if not ids or self.session is None or self.frozen:
            return
        try:
            done = self.session.set_children(
                ids, action, profile_id=profile_id, label=f"{label} ({len(ids)})"
            )
        except engine.EngineError as exc:
            self.app.report_error(exc)
            return
        self.show_rows()
        self.notify(f"{done.label}: done", timeout=3)
        self.post_message(self.Edited())

    @work(thread=True, exclusive=True, exit_on_error=False, group="children-why")
    def explain(self, child_id: str) -> None:
        app = self.app
        lines = engine.explain(app.store, self.service, child_id, as_of=app.as_of)
        title = f"Why: {self.by_id[child_id].name}"
        app.call_from_thread(app.push_screen, LinesScreen(title, lines))
