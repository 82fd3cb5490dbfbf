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
from textual.widgets import Button, Checkbox, Static

from smtui.tui.cells import plain
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

    def body_widgets(self) -> list[Static]:
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
        self.query_one("#no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "yes")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)

    def action_scroll(self, lines: int) -> None:
        """Focus stays on a button (enter on it is safe), so the arrows scroll the body."""
        self.query_one(".dialog-body", VerticalScroll).scroll_relative(y=lines, animate=False)


class ConfirmPlanScreen(Dialog):
    """The last look before a sync: counts per operation and every destructive op by name."""

    def __init__(self, preview: PlanPreview, *, setup: bool) -> None:
        verb = "Set up" if setup else "Sync"
        super().__init__(f"{verb} {preview.service} now?", [], yes="Continue", no="Cancel")
        self.preview = preview

    def body_widgets(self) -> list[Static]:
        p = self.preview
        if p.is_empty:
            out = [Static(f"As of {p.as_of.isoformat()} there is nothing to change.")]
        else:
            out = [Static(f"As of {p.as_of.isoformat()} this will:")]
            out.extend(
                Static(Text(f"  {kind.replace('_', ' '):<22}{n:>6}"))
                for kind, n in sorted(p.counts.items())
                if n
            )
        out += _lines("Mapping changes (old records are kept, not archived)", p.relinks, "cyan")
        out += _lines("Archive these profiles", p.archives, "red")
        out += _lines("Remove these rooms", p.room_removals, "red")
        out += _lines("Held for approval, not done now", p.held, "magenta")
        out += _lines("Warnings", p.warnings, "yellow")
        if p.needs_review:
            out.append(
                Static(
                    Text(
                        f"{p.needs_review} children still need review and will not be added.",
                        style="yellow",
                    )
                )
            )
        return out


class LinesScreen(ModalScreen[None]):
    """Read-only lines: why a child is where it is, what blocks setup. esc, enter or q closes."""

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


class TurnOffScreen(ModalScreen[tuple[bool, bool]]):
    """Turning a service off; answers (confirmed, purge cached personal data)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="turnoff.cancel")
    ]

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(plain(f"Turn {self.service} off?", None, "bold"), classes="dialog-title")
            yield Static("Scheduled syncs stop. The portfolio is left as it is.")
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
