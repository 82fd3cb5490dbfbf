"""Modal dialogs: confirm a plan, ask a yes/no question, show lines, turn a service off.

Each dialog returns its answer through ``dismiss`` so the caller decides what happens; a dialog
never calls the engine, which keeps "Cancel changes nothing" true by construction.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Button, Checkbox, Input, Static

from smtui.tui.cells import plain
from smtui.tui.fit import Col, FitTable
from smtui.views import PlanPreview


def _lines(title: str, items: Iterable[str], style: str = "") -> list[Static]:
    items = list(items)
    if not items:
        return []
    out = [Static(Text(f"{title} ({len(items)}):", style="bold " + style), classes="section")]
    out.extend(Static(plain(f"  {item}", None, style)) for item in items)
    return out


class Dialog(ModalScreen[bool]):
    """A question with a yes and a no button; y / n / esc answer it from the keyboard."""

    HELP_SECTION = "Dialog"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Yes", id="dialog.yes"),
        Binding("n,escape", "answer(False)", "No", id="dialog.no"),
        Binding("up", "scroll(-1)", "Scroll up", show=False, id="dialog.up"),
        Binding("down", "scroll(1)", "Scroll down", show=False, id="dialog.down"),
        Binding("pageup", "scroll(-10)", "Page up", show=False, id="dialog.page_up"),
        Binding("pagedown", "scroll(10)", "Page down", show=False, id="dialog.page_down"),
    ]

    def __init__(
        self, title: str, body: Iterable[str], *, yes: str = "Yes", no: str = "Cancel"
    ) -> None:
        super().__init__()
        self.title_text = title
        self.body = list(body)
        self.yes_label, self.no_label = yes, no

    def body_widgets(self) -> list[Widget]:
        return [Static(plain(line)) for line in self.body]

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(plain(self.title_text, None, "bold"), classes="dialog-title")
            with VerticalScroll(classes="dialog-body"):
                yield from self.body_widgets()
            # buttons and keys on one line, so a long plan still leaves them on screen at 80x24
            with Horizontal(classes="dialog-buttons"):
                yield Button(self.yes_label, variant="primary", id="yes", compact=True)
                yield Button(self.no_label, id="no", compact=True)
                yield Static(
                    Text(
                        f"y {self.yes_label.lower()} · n/esc {self.no_label.lower()}", style="dim"
                    ),
                    classes="dialog-hint",
                )

    def on_mount(self) -> None:
        self.initial_focus()

    def initial_focus(self) -> None:
        """No, so an enter typed ahead never confirms; subclasses may offer something safer."""
        self.query_one("#no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "yes")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)

    def action_scroll(self, lines: int) -> None:
        """Focus stays on a button (enter on it is safe), so the arrows scroll the body."""
        self.query_one(".dialog-body", VerticalScroll).scroll_relative(y=lines, animate=False)


#: what takes something away goes first, so it is read before the long lists of adds and links
DESTRUCTIVE = ("archive_profile", "archive_room", "remove_membership", "release_profile",
               "release_room")  # fmt: skip
KIND_COLUMNS = (
    Col("kind", "What", rank=0, floor=18),
    Col("count", "How many", rank=1),
    Col("held", "Held", rank=2),
)
OP_COLUMNS = (
    Col("label", "Operation", rank=0, floor=24),
    Col("change", "Before -> after", rank=1, floor=16),
)


def kind_label(kind: str) -> str:
    return kind.replace("_", " ")


def kinds_in_order(counts: dict[str, int]) -> list[str]:
    """Kinds with something to do: destructive ones first, then the rest by name."""
    kinds = [k for k, n in counts.items() if n]
    return sorted(kinds, key=lambda k: (k not in DESTRUCTIVE, DESTRUCTIVE.index(k)
                                        if k in DESTRUCTIVE else 0, k))  # fmt: skip


def before_after(kind: str, label: str, change: str) -> str:
    """The change an operation makes, as before -> after, from what the plan says."""
    if change:
        return change
    if kind == "archive_profile" or kind == "archive_room":
        return "live -> archived"
    if kind in ("unarchive_profile", "unarchive_room"):
        return "archived -> live"
    if ": from " in label and " to " in label:
        return label.split(": from ", 1)[1].replace(" to ", " -> ", 1)
    if kind == "add_membership" and " to " in label:
        return "-> " + label.rsplit(" to ", 1)[1]
    if kind == "remove_membership" and " from " in label:
        return label.rsplit(" from ", 1)[1] + " -> (none)"
    if kind in ("create_profile", "create_room"):
        return "(none) -> new"
    return ""


class KindGrid(FitTable):
    """The plan's kinds; enter lists the operations of the one under the cursor."""

    HELP_SECTION = "Plan"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select_cursor", "List them", id="plan.drill")
    ]


class ConfirmPlanScreen(Dialog):
    """The last look before a sync: counts per kind (enter lists them), every destructive op by
    name."""

    HELP_SECTION = "Plan"

    def __init__(self, preview: PlanPreview, *, setup: bool) -> None:
        verb = "Set up" if setup else "Sync"
        super().__init__(f"{verb} {preview.service} now?", [], yes="Continue", no="Cancel")
        self.preview = preview

    def body_widgets(self) -> list[Widget]:
        p = self.preview
        out: list[Widget] = []
        if p.is_empty:
            out.append(Static(f"As of {p.as_of.isoformat()} there is nothing to change."))
        else:
            out.append(Static(f"As of {p.as_of.isoformat()} this will (enter lists a kind):"))
            out.append(KindGrid(KIND_COLUMNS, id="plan-kinds", cursor_type="row"))
        out += _lines("Mapping changes (old records are kept, not archived)", p.relinks, "cyan")
        out += _lines("Archive these profiles", p.archives, "red")
        out += _lines("Remove these rooms", p.room_removals, "red")
        out += _lines("Held for approval, not done now", p.held, "magenta")
        out += _lines("Warnings", p.warnings, "yellow")
        if p.needs_review:
            out.append(
                Static(
                    Text(
                        f"{p.needs_review:,} children still need review and will not be added.",
                        style="yellow",
                    )
                )
            )
        return out

    def initial_focus(self) -> None:
        grids = self.query(KindGrid)
        if grids:
            grids.first().focus()  # enter drills down; y continues, n or esc cancels
        else:
            super().initial_focus()

    def on_mount(self) -> None:
        """Fill the kinds (Dialog.on_mount then gives the focus)."""
        grids = self.query(KindGrid)
        if not grids:
            return
        held: dict[str, int] = {}
        held_labels = set(self.preview.held)
        for kind, label, _change in self.preview.operations:
            if label in held_labels:
                held[kind] = held.get(kind, 0) + 1
        rows = []
        for kind in kinds_in_order(self.preview.counts):
            style = "red" if kind in DESTRUCTIVE else ""
            n = self.preview.counts[kind]
            rows.append(
                (
                    kind,
                    (
                        Text(kind_label(kind), style=style),
                        Text(f"{n:,}", justify="right", style=style),
                        Text(f"{held[kind]:,}" if held.get(kind) else "", style="magenta"),
                    ),
                )
            )
        grids.first().set_rows(rows)

    def on_fit_table_row_selected(self, event: FitTable.RowSelected) -> None:
        event.stop()
        kind = event.key
        ops = [(label, change) for k, label, change in self.preview.operations if k == kind]
        self.app.push_screen(PlanKindScreen(kind, ops, self.preview.counts.get(kind, len(ops))))


class FilteredListScreen(ModalScreen[None]):
    """A modal list with a filter box over it: / goes to the box, each keystroke filters, enter
    goes back to the list. A subclass composes one ``Input`` and one ``FitTable``, fills the
    table in ``show`` and binds ``find`` (and its own esc)."""

    def show(self, needle: str) -> None:
        """Fill the list with the rows that match ``needle``, casefolded and stripped."""
        raise NotImplementedError

    def on_mount(self) -> None:
        self.show("")
        self.query_one(FitTable).focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # in the box / is a character
        return not (action == "find" and isinstance(self.focused, Input))

    def action_find(self) -> None:
        self.set_focus(self.query_one(Input))

    def on_input_changed(self, event: Input.Changed) -> None:
        self.show(event.value.casefold().strip())

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.query_one(FitTable).focus()


class PlanKindScreen(FilteredListScreen):
    """The operations of one kind, before -> after; / filters, esc goes back (the filter first)."""

    HELP_SECTION = "Plan: one kind"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="plankind.back"),
        Binding("slash", "find", "Filter", id="plankind.find", priority=True),
    ]

    def __init__(self, kind: str, ops: list[tuple[str, str]], count: int) -> None:
        super().__init__()
        self.kind = kind
        self.ops = ops
        self.count = count

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog plan-kind"):
            title = f"{kind_label(self.kind)}: {self.count:,}"
            yield Static(Text(title, style="bold"), classes="dialog-title")
            yield Input(placeholder="/ filter by name or room", id="plankind-filter", compact=True)
            yield FitTable(OP_COLUMNS, id="plankind-ops", cursor_type="row", zebra_stripes=True)
            yield Static(id="plankind-foot", classes="dialog-hint")

    def show(self, needle: str) -> None:
        rows = []
        for i, (label, change) in enumerate(self.ops):
            after = before_after(self.kind, label, change)
            if needle and needle not in f"{label} {after}".casefold():
                continue
            rows.append((str(i), (plain(label), plain(after, None, "cyan"))))
        self.query_one(FitTable).set_rows(rows)
        foot = f"showing {len(rows):,} of {len(self.ops):,} · / filter · esc back"
        self.query_one("#plankind-foot", Static).update(Text(foot, style="dim"))

    def action_back(self) -> None:
        box = self.query_one(Input)
        if box.value:
            box.value = ""
            self.query_one(FitTable).focus()
        elif self.focused is box:
            self.query_one(FitTable).focus()
        else:
            self.dismiss(None)


class LinesScreen(ModalScreen[None]):
    """Read-only lines: why a child is where it is, what blocks setup. esc, enter or q closes."""

    HELP_SECTION = "Dialog"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,enter,q", "close", "Close", id="lines.close")
    ]

    def __init__(self, title: str, lines: Iterable[str]) -> None:
        super().__init__()
        self.title_text = title
        self.lines = list(lines)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(plain(self.title_text, None, "bold"), classes="dialog-title")
            with VerticalScroll(classes="dialog-body"):
                for line in self.lines:
                    yield Static(Text(line))
            yield Static(Text("esc close", style="dim"), classes="dialog-hint")

    def action_close(self) -> None:
        self.dismiss(None)


class UnsavedScreen(ModalScreen[str | None]):
    """Unsaved settings and the person is leaving: answers "save", "discard" or None (stay)."""

    HELP_SECTION = "Dialog"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("s", "answer('save')", "Save", id="unsaved.save"),
        Binding("d", "answer('discard')", "Discard", id="unsaved.discard"),
        Binding("escape", "answer('')", "Stay", id="unsaved.stay"),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(Text("Save the changed settings?", style="bold"), classes="dialog-title")
            yield Static("Typed but not saved: the service still uses the old values.")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Save", variant="primary", id="save", compact=True)
                yield Button("Discard", variant="error", id="discard", compact=True)
                yield Button("Stay", id="stay", compact=True)
                yield Static(
                    Text("s save · d discard · esc stay", style="dim"), classes="dialog-hint"
                )

    def on_mount(self) -> None:
        self.query_one("#stay", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_answer(str(event.button.id))

    def action_answer(self, answer: str) -> None:
        self.dismiss(answer if answer in ("save", "discard") else None)


class TurnOffScreen(ModalScreen[tuple[bool, bool]]):
    """Turning a service off; answers (confirmed, purge cached personal data)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,n", "cancel", "Cancel", id="turnoff.cancel"),
        # y answers like every other dialog's yes; p ticks the purge box from anywhere
        Binding("y", "turn_off", "Turn off", id="turnoff.yes"),
        Binding("p", "toggle_purge", "Purge too", id="turnoff.purge"),
    ]

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def action_turn_off(self) -> None:
        self.dismiss((True, self.query_one("#purge", Checkbox).value))

    def action_toggle_purge(self) -> None:
        box = self.query_one("#purge", Checkbox)
        box.value = not box.value

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(plain(f"Turn {self.service} off?", None, "bold"), classes="dialog-title")
            yield Static("Scheduled syncs stop. The portfolio is left as it is. (y / n, p: purge)")
            yield Checkbox("Also purge cached personal data", id="purge")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Turn off", variant="error", id="yes", compact=True)
                yield Button("Cancel", id="no", compact=True)

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        purge = self.query_one("#purge", Checkbox).value
        self.dismiss((event.button.id == "yes", purge))

    def action_cancel(self) -> None:
        self.dismiss((False, False))
