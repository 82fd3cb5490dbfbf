"""A modal picker with type-to-search: link a child to a profile, or a room to a portfolio room.

The list is loaded by a function the caller passes (an engine call), run in a thread worker on
each keystroke; a newer keystroke cancels the older search so results never arrive out of order.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from rich.text import Text
from textual import events, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import get_current_worker

from smtui.engine.session import ProfileChoice
from smtui.tui.cells import plain
from smtui.tui.working import ReportsWorkerErrors

Choice = tuple[str, Text]
Loader = Callable[[str], list[Choice]]
NAME = 22


def starts_a_word(query: str, name: str) -> bool:
    """ "chap" starts a word of "Matilda Chapman" but only appears fuzzily in "Charlie ...":
    what a person types is the start of a name far more often than a scatter of its letters."""
    q = query.casefold().strip()
    if not q:
        return False
    folded = name.casefold()
    return folded.startswith(q) or any(w.startswith(q) for w in folded.split())


def ranked(query: str, items: list[tuple[str, str]], current: str | None) -> list[int]:
    """Order of (id, name) items: before anything is typed the current link first; then names
    a word of which starts with the query; then the rest as the engine ranked them."""
    first = current if not query.strip() else None
    return sorted(
        range(len(items)),
        key=lambda i: (items[i][0] != first, not starts_a_word(query, items[i][1]), i),
    )


INVITATIONS = {"none": "not invited", "pending": "invitation pending", "accepted": "invited"}


def candidate_choice(
    c: ProfileChoice, linked_name: str | None = None, *, current: bool = False
) -> Choice:
    """One picker entry on two lines: name, birth date and score, then a detail line (id, who
    it is linked to and whether that link is set up in the portfolio or only proposed, its
    rooms, the parents' invitation, live or archived), so two profiles with the same name and
    birth date never look the same."""
    name = plain(c.name, NAME, "bold")
    name.set_length(NAME)
    line = Text.assemble(
        name,
        f" {c.birth_date.isoformat() if c.birth_date else '-':<10}",
        (f" {c.score:>3.0f}" if c.score else "    ", "cyan"),
        no_wrap=True,
        overflow="ellipsis",
    )
    if current:
        line.append(" current link", style="bold green")
    if c.archived:
        line.append(" archived", style="magenta")
    if c.linked_to and not current:
        line.append(" linked to ", style="yellow")
        line.append_text(plain(linked_name or c.linked_to, NAME, "yellow"))
    if c.reason:
        line.append(" ")
        line.append_text(plain(c.reason, None, "dim"))
    detail = Text.assemble("  ", (c.profile_id, "bold"), style="dim")
    if c.linked_to:
        detail.append(" · linked to ")
        detail.append_text(plain(linked_name or c.linked_to, NAME))
        detail.append(" (set up)" if c.link_set_up else " (proposed)", style="yellow")
    else:
        detail.append(" · not linked")
    detail.append(" · ")
    detail.append_text(plain(", ".join(c.rooms) or "no room", 40))
    detail.append(f" · {INVITATIONS.get(c.invitation, c.invitation)}")
    detail.append(" · archived" if c.archived else " · live")
    if not c.birth_date:
        detail.append(" · no birth date")
    return c.profile_id, Text.assemble(line, "\n", detail)


class PickerScreen(ReportsWorkerErrors, ModalScreen[str | None]):
    """Answers the chosen id, or None when dismissed with esc."""

    HELP_SECTION = "Picker"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="picker.cancel"),
        Binding("down", "move(1)", "Next", show=False, id="picker.down"),
        Binding("up", "move(-1)", "Previous", show=False, id="picker.up"),
    ]

    def __init__(self, title: str, load: Loader) -> None:
        super().__init__()
        self.title_text = title
        self.load = load
        self.typed_ahead = ""

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog picker"):
            yield Static(plain(self.title_text, None, "bold"), classes="dialog-title")
            yield Input(placeholder="type to search", id="picker-query", compact=True)
            yield OptionList(id="picker-options")
            yield Static(id="picker-detail")
            yield Static(
                Text("↑/↓ choose · enter pick · esc cancel", style="dim"), classes="dialog-hint"
            )

    def on_mount(self) -> None:
        box = self.query_one(Input)
        self.set_focus(box)
        if self.typed_ahead:
            box.value = self.typed_ahead  # Input.Changed searches for it
            box.cursor_position = len(box.value)
        else:
            self.search("")

    def on_key(self, event: events.Key) -> None:
        """Keys typed straight after the one that opened the picker (one burst over SSH) come
        before the search box has focus: they are the start of the search, not lost keys."""
        if self.focused is None and event.is_printable and event.character:
            event.stop()
            self.type_ahead(event.character)

    def type_ahead(self, text: str) -> None:
        if self.is_mounted and isinstance(self.focused, Input):
            self.focused.insert_text_at_cursor(text)
        else:
            self.typed_ahead += text

    def on_input_changed(self, event: Input.Changed) -> None:
        self.search(event.value)

    @work(thread=True, exclusive=True, exit_on_error=False, group="picker")
    def search(self, query: str) -> None:
        choices = self.load(query)
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self.show_choices, choices)

    def show_choices(self, choices: list[Choice]) -> None:
        options = self.query_one(OptionList)
        options.clear_options()
        options.add_options([Option(label, id=key) for key, label in choices])
        if choices:
            options.highlighted = 0
        else:
            self.query_one("#picker-detail", Static).update(Text("no match", style="dim"))

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        """The highlighted entry in full with its id: lines are cut at 80 columns."""
        prompt = event.option.prompt
        full = " ".join((prompt.plain if isinstance(prompt, Text) else str(prompt)).split())
        self.query_one("#picker-detail", Static).update(Text(full))

    def action_move(self, step: int) -> None:
        options = self.query_one(OptionList)
        if options.option_count:
            current = options.highlighted if options.highlighted is not None else -step
            options.highlighted = max(0, min(options.option_count - 1, current + step))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        options = self.query_one(OptionList)
        if options.highlighted is not None:
            self.dismiss(options.get_option_at_index(options.highlighted).id)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)
