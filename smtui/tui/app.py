"""The Textual application and the entry points the CLI, tests and screenshot script share.

The app only ever calls ``smtui.engine``: it holds a store handle to pass along, never a session
or an HTTP client. ``as_of``, ``clock`` and ``who`` are parameters so screenshots and tests are
the same on every run (no wall clock, no hostname).
"""

from __future__ import annotations

import datetime as dt
import traceback
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual import events
from textual.app import App, InvalidThemeError, SystemCommand
from textual.binding import Binding, BindingType, Keymap
from textual.screen import Screen

from smtui import engine
from smtui.tui.cells import one_line
from smtui.tui.home import HomeScreen
from smtui.tui.keys import HelpScreen, ScreenKeysProvider
from smtui.tui.picker import PickerScreen

if TYPE_CHECKING:
    from smtui.demo import Demo
    from smtui.store import Store  # the type only: the app hands it to the engine, never reads it

Clock = Callable[[], dt.datetime]


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class SmtuiApp(App[None]):
    HELP_SECTION = "Everywhere"
    CSS_PATH = "app.tcss"
    TITLE = "smtui"
    #: the palette lists the actions of whichever screen it is opened on, with their keys
    COMMANDS: ClassVar[set[Any]] = App.COMMANDS | {ScreenKeysProvider}
    BINDINGS: ClassVar[list[BindingType]] = [
        # shown in the footer on the home screen only, where it does not crowd the grid keys
        Binding("ctrl+q", "quit", "Quit", show=False, priority=True, id="app.quit"),
        # not priority: in a text box ? is a character
        Binding("question_mark,f1", "help", "Keys (help)", show=False, id="app.help"),
    ]

    def __init__(
        self,
        store: Store,
        *,
        demo: Demo | None = None,
        as_of: dt.date | None = None,
        clock: Clock = _utc_now,
        who: str | None = None,
        keymap: Keymap | None = None,
    ) -> None:
        """``keymap`` maps binding ids (shown on the help screen, ``?``) to keys, e.g.
        ``{"children.link": "ctrl+l"}``: a person's rebinding from the config file."""
        super().__init__()
        self.store = store
        self.demo = demo
        self.as_of = as_of
        self.now = clock
        self.who = who or engine.who_am_i()
        self.animation_level = "none"
        if keymap:
            self.set_keymap(keymap)

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """Textual's own commands, with "Keys" opening the help screen (esc closes it) instead
        of a side panel that esc did not close."""
        for command in super().get_system_commands(screen):
            if command.title != "Keys":
                yield command
        yield SystemCommand("Keys", "Every key of this screen and its binding id", self.action_help)

    def action_help(self) -> None:
        """? and F1: the keymap of the screen the person is on (not of the help itself)."""
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))

    def on_mount(self) -> None:
        self.push_screen(HomeScreen())

    def on_key(self, event: events.Key) -> None:
        """Type-ahead into a picker opened by the same burst of keys.

        Textual hands every key of a burst (fast typing over SSH arrives as one) to the widget
        focused when it arrives, so after ``l`` the next letters go to the grid behind the
        picker and come back here unbound. Letters become the picker's search; no key typed
        after a dialog opened ever acts on the screen behind it.
        """
        active = self.screen
        if isinstance(active, PickerScreen) and event.is_printable and event.character:
            event.prevent_default()  # not bound to anything: Textual's own handler is skipped
            active.type_ahead(event.character)

    def report_error(self, exc: BaseException) -> None:
        """Every failed worker ends here: one line for the person, the traceback in the log."""
        if not isinstance(exc, engine.EngineError):
            # to Textual's devtools log, never to stderr, which is the screen
            self.log.error("".join(traceback.format_exception(exc)))
        self.notify(one_line(exc), title="Error", severity="error", timeout=10)


#: The one way to make the app, so the CLI, the tests and the screenshots run the same thing.
build_app = SmtuiApp


class UnknownTheme(ValueError):
    """The configured theme is not one Textual has; the message lists the known ones."""


def set_theme(app: SmtuiApp, theme: str) -> None:
    """Apply the config's theme, so the CLI never needs Textual's own error type."""
    try:
        app.theme = theme
    except InvalidThemeError:
        raise UnknownTheme(", ".join(sorted(app.available_themes))) from None


def run_app(store: Store | str | Path | None, *, keymap: Keymap | None = None) -> None:
    """Open the UI on a store (the CLI passes one), or on a URL/path, or the default store;
    ``keymap`` is the config file's binding id -> keys."""
    if store is None or isinstance(store, str | Path):
        store = engine.open_store(None if store is None else str(store))
    build_app(store, keymap=keymap).run()


def run_demo(seed: int = 7, *, keymap: Keymap | None = None) -> None:
    """Open the UI on a fresh demo database served by an in-process sandbox.

    The subtitle names the demo database, so `smtui --db PATH sync NAME` from another shell
    reaches the same sandbox while the app is open, and its run shows up in the history.
    """
    from smtui.demo import start_demo

    handle = start_demo(seed=seed)
    try:
        app = build_app(handle.store, demo=handle, as_of=handle.today, keymap=keymap)
        app.sub_title = f"demo database {handle.db_path}"
        app.run()
    finally:
        handle.stop()
