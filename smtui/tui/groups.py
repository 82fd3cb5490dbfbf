"""The review groups: the children in review counted by why the matcher asks, one to pick.

A person who has 167 children in review for the same reason ("profile has no birth date, name
unique in both lists") decides that reason once, not 167 times: ``r`` lists the groups, enter
shows one in the grid, and ``A`` there accepts the whole group.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from smtui.engine.mapping import ReviewGroup

#: the option that shows every child in review (the grid's own "Needs review" filter)
ALL = "all-reviews"


class GroupsScreen(ModalScreen[str | None]):
    """Answers the kind of the group picked, ``ALL`` for every review, None on esc."""

    HELP_SECTION = "Review groups"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,r", "cancel", "Cancel", id="groups.cancel"),
    ]

    def __init__(self, groups: list[ReviewGroup], current: str | None) -> None:
        super().__init__()
        self.groups = groups
        self.current = current

    def compose(self) -> ComposeResult:
        total = sum(len(g.child_ids) for g in self.groups)
        width = len(f"{total:,}")
        options = [Option(Text(f"{total:>{width},}  every child in review"), id=ALL)]
        options += [
            Option(Text(f"{len(g.child_ids):>{width},}  {g.label}"), id=g.kind) for g in self.groups
        ]
        with Vertical(classes="dialog"):
            yield Static(
                Text(f"Needs review, by reason: {total:,} in {len(self.groups)} groups", "bold"),
                classes="dialog-title",
            )
            yield OptionList(*options, id="group-options", compact=True)
            yield Static(
                Text("↑/↓ choose · enter show the group (A accepts it there) · esc cancel", "dim"),
                classes="dialog-hint",
            )

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        ids = [ALL, *(g.kind for g in self.groups)]
        options.highlighted = ids.index(self.current) if self.current in ids else 0
        options.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)
