"""Per-service settings: how often to sync, the timezone, and when archives wait for approval.

Saved only when asked (ctrl+s, enter in a field, or Save); until then the pane says which values
are unsaved, and leaving the tab or the service asks what to do with them: a value typed but not
saved must never look stored. Turning a service off asks first, and offers to purge the cached
children's data (the only personal data smtui keeps).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from rich.text import Text
from textual import events, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, Input, Label, Static

from smtui import engine
from smtui.tui.dialogs import TurnOffScreen
from smtui.tui.working import ReportsWorkerErrors


def _zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown timezone {value!r} (e.g. Australia/Sydney)") from None
    return value


def _positive(kind: Callable[[str], Any]) -> Callable[[str], Any]:
    def parse(value: str) -> Any:
        number = kind(value)
        if number <= 0:
            raise ValueError("must be more than 0")
        return number

    return parse


#: (field, label, parser): the settings a person may change here.
FIELDS: tuple[tuple[str, str, Callable[[str], Any]], ...] = (
    ("interval_hours", "Sync every (hours)", _positive(float)),
    ("timezone", "Timezone", _zone),
    ("max_archive_children_pct", "Hold archives above (% of children)", _positive(float)),
    ("max_archive_children_min", "  ...and at least (children)", _positive(int)),
    ("max_remove_rooms_pct", "Hold room removals above (% of rooms)", _positive(float)),
    ("max_remove_rooms_min", "  ...and at least (rooms)", _positive(int)),
)


def parse_settings(values: dict[str, str]) -> dict[str, Any]:
    """Typed settings from the form, or ValueError naming the first bad field in one line."""
    out = {}
    for field, label, parse in FIELDS:
        raw = values[field].strip()
        try:
            out[field] = parse(raw)
        except ValueError as exc:
            reason = str(exc) if field == "timezone" or "more than" in str(exc) else "not a number"
            raise ValueError(f"{label.strip(' .')}: {reason}") from None
    return out


class SettingsPane(ReportsWorkerErrors, Vertical):
    HELP_SECTION = "Settings"

    class Changed(Message):
        """Settings or the on/off state changed, so the service screen re-reads its summary;
        ``turned_on`` asks it to start from a fresh read of both systems."""

        def __init__(self, turned_on: bool = False) -> None:
            super().__init__()
            self.turned_on = turned_on

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save", id="settings.save", priority=True),
        Binding("ctrl+z", "revert", "Cancel changes", id="settings.cancel"),
        Binding("ctrl+o", "turn_off", "Turn off", id="settings.turn_off"),
    ]

    def __init__(self, service: str, *, config: Any = None, id: str | None = None) -> None:
        """``config`` is shown once mounted (the service screen mounts the form late)."""
        super().__init__(id=id)
        self.service = service
        self.config = config
        self.enabled = True
        self.saved: dict[str, str] = {}
        #: the field the person was in, so coming back to the tab lands there, not on the first
        self.last_input: Input | None = None

    def compose(self) -> ComposeResult:
        for field, label, _parse in FIELDS:
            with Horizontal(classes="setting"):
                yield Label(f"  {label}", id=f"label-{field}", classes="setting-label")
                yield Input(id=f"set-{field}", compact=True, classes="setting-input")
        yield Static(id="settings-dirty")
        yield Static(id="settings-error")
        with Horizontal(classes="setting-buttons"):
            yield Button("Save", id="save", variant="primary", compact=True)
            yield Button("Cancel", id="cancel", compact=True)
            yield Button("Turn off…", id="turn-off", variant="error", compact=True)
            yield Button("Turn on", id="turn-on", variant="success", compact=True)
        yield Static(id="settings-state")

    def on_mount(self) -> None:
        if self.config is not None:
            self.show_config(self.config)

    def show_config(self, cfg: Any) -> None:
        """Show what is stored; values the person is still editing are kept, and stay marked."""
        dirty = self.dirty
        for field, _label, _parse in FIELDS:
            value = getattr(cfg, field)
            text = f"{value:g}" if isinstance(value, float) else str(value)
            self.saved[field] = text
            if not dirty:
                with self.prevent(Input.Changed):
                    self.query_one(f"#set-{field}", Input).value = text
        self.show_dirty()
        self.enabled = bool(cfg.enabled)
        state = "on" if cfg.enabled else "off: scheduled syncs are stopped"
        self.query_one("#settings-state", Static).update(Text(f"This service is {state}."))
        self.query_one("#turn-off", Button).display = self.enabled
        self.query_one("#turn-on", Button).display = not self.enabled
        self.refresh_bindings()

    def values(self) -> dict[str, str]:
        return {field: self.query_one(f"#set-{field}", Input).value for field, _l, _p in FIELDS}

    @property
    def dirty(self) -> bool:
        """Some field differs from what is stored."""
        return bool(self.saved) and self.values() != self.saved

    def show_dirty(self) -> None:
        values = self.values()
        changed = [f for f, _l, _p in FIELDS if self.saved and values[f] != self.saved.get(f)]
        for field, label, _parse in FIELDS:
            mark = "* " if field in changed else "  "
            self.query_one(f"#label-{field}", Label).update(Text(mark + label))
        line = Text("")
        if changed:
            line = Text(
                f"* {len(changed)} unsaved: ctrl+s or enter saves, ctrl+z cancels",
                style="bold yellow",
            )
        elif self.saved:
            line = Text("all saved", style="dim")
        self.query_one("#settings-dirty", Static).update(line)
        self.refresh_bindings()

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.show_dirty()

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        if isinstance(event.widget, Input):
            self.last_input = event.widget

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.save()

    def action_save(self) -> None:
        """Always this pane's: ctrl+s must not fall through to the screen's sync key here."""
        if not self.dirty:
            self.notify("Nothing to save: every value shown is stored", timeout=3)
            return
        self.save()

    def action_revert(self) -> None:
        """Put the stored values back; nothing is written."""
        for field, text in self.saved.items():
            with self.prevent(Input.Changed):
                self.query_one(f"#set-{field}", Input).value = text
        self.error("")
        self.show_dirty()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "save":
            self.save()
        elif event.button.id == "cancel":
            self.action_revert()
        elif event.button.id == "turn-off":
            self.action_turn_off()
        elif event.button.id == "turn-on":
            self.change(turn_on=True)

    def error(self, message: str) -> None:
        self.query_one("#settings-error", Static).update(Text(message, style="bold red"))

    def save(self) -> bool:
        """Write the form if it is valid (in a worker); False, with the reason shown, if not."""
        try:
            fields = parse_settings(self.values())
        except ValueError as exc:
            self.error(str(exc))
            return False
        self.error("")
        self.saved = self.values()  # what is being written; show_config confirms it
        self.show_dirty()
        self.change(fields=fields)
        return True

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "turn_off":
            return self.enabled  # hidden while off: the Turn on button is there instead
        if action == "revert":
            return None if not self.dirty else True
        return True

    def action_turn_off(self) -> None:
        def answered(answer: tuple[bool, bool] | None) -> None:
            if answer and answer[0]:
                self.change(turn_off=True, purge=answer[1])

        self.app.push_screen(TurnOffScreen(self.service), answered)

    @work(thread=True, exclusive=True, exit_on_error=False, group="settings")
    def change(
        self,
        fields: dict[str, Any] | None = None,
        *,
        turn_off: bool = False,
        purge: bool = False,
        turn_on: bool = False,
    ) -> None:
        app = self.app
        if fields:
            engine.update_settings(app.store, self.service, **fields)
            message = "Settings saved"
        elif turn_off:
            engine.turn_off(app.store, self.service, purge=purge)
            message = "Turned off" + (" and purged cached data" if purge else "")
        else:
            engine.turn_on(app.store, self.service)
            message = "Turned on"
        cfg = engine.service_config(app.store, self.service)
        app.call_from_thread(self.show_config, cfg)
        app.call_from_thread(self.notify, message, timeout=3)
        app.call_from_thread(self.post_message, self.Changed(turned_on=turn_on))
