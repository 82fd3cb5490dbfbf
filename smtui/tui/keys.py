"""Every key findable: the command palette lists the screen's actions with their keys, and ``?``
shows the screen's whole keymap.

Both read the bindings Textual itself dispatches (after the person's keymap is applied), so a key
rebound in the config is shown as rebound, and nothing here can drift from what a key does.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, replace
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.containers import Vertical
from textual.content import Content
from textual.dom import DOMNode
from textual.screen import Screen
from textual.widgets import Input, Static

from smtui.tui.dialogs import FilteredListScreen
from smtui.tui.fit import Col, FitTable


@dataclass(frozen=True, slots=True)
class KeyLine:
    """One action as the help screen and the palette show it."""

    section: str
    keys: str
    description: str
    binding_id: str
    action: str
    namespace: DOMNode
    tooltip: str = ""


def section_of(node: DOMNode) -> str:
    """A human name for where a binding lives: ``HELP_SECTION`` if the class has one."""
    return str(getattr(node, "HELP_SECTION", "") or type(node).__name__)


def _ours(node: DOMNode) -> bool:
    return type(node).__module__.startswith("smtui.")


def keymap_of(screen: Screen, *, textual: bool = False) -> list[KeyLine]:
    """The whole keymap of a screen, every pane included (not only the focused one), with the
    person's own keymap applied; one line per binding id, its keys joined. Textual's own
    bindings (tab, ctrl+c) have no id and are left out unless ``textual``."""
    app = screen.app
    nodes: list[DOMNode] = [screen, *(n for n in screen.query("*") if _ours(n)), app]
    lines: dict[str, KeyLine] = {}
    for node in nodes:
        bindings = node._bindings.copy()
        if app._keymap:
            bindings.apply_keymap(app._keymap)
        for _key, binding in bindings:
            if not binding.id and not textual:
                continue
            ident = binding.id or f"{type(node).__name__}.{binding.action}"
            shown = app.get_key_display(binding)
            line = lines.get(ident)
            if line is not None:
                if shown not in line.keys.split(" / "):
                    lines[ident] = replace(line, keys=f"{line.keys} / {shown}")
                continue
            lines[ident] = KeyLine(
                section_of(node),
                shown,
                binding.description,
                ident,
                binding.action,
                node,
                binding.tooltip,
            )
    return list(lines.values())


def active_lines(screen: Screen) -> Iterator[KeyLine]:
    """The actions that apply now (focused widget, its panes, the screen, the app), enabled."""
    app = screen.app
    seen: dict[str, KeyLine] = {}
    for _key, active in screen.active_bindings.items():
        if not active.enabled or not active.binding.description:
            continue
        binding = active.binding
        ident = binding.id or binding.action
        shown = app.get_key_display(binding)
        if ident in seen:
            seen[ident] = replace(seen[ident], keys=f"{seen[ident].keys} / {shown}")
            continue
        seen[ident] = KeyLine(
            section_of(active.node),
            shown,
            binding.description,
            ident,
            binding.action,
            active.node,
            binding.tooltip,
        )
    yield from seen.values()


class ScreenKeysProvider(Provider):
    """The command palette's entries for the screen it was opened on: each action that applies
    now, its key beside it, found by its name, its section or its binding id."""

    def lines(self) -> list[KeyLine]:
        skip = ("app.help", "command_palette")
        return [
            line
            for line in active_lines(self.screen)
            if line.action not in skip and line.binding_id not in skip
        ]

    def command(self, line: KeyLine) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            await self.app.run_action(line.action, line.namespace)

        return run

    def display(self, line: KeyLine, title: Content) -> Content:
        return Content.assemble(title, "  ", (line.keys, "bold"))

    async def discover(self) -> Hits:
        for line in self.lines():
            yield DiscoveryHit(
                self.display(line, Content(line.description)),
                self.command(line),
                text=line.description,
                help=" · ".join(p for p in (line.tooltip, line.section, line.binding_id) if p),
            )

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for line in self.lines():
            haystack = f"{line.description} {line.tooltip} {line.section} {line.binding_id}"
            score = max(matcher.match(line.description), matcher.match(haystack) * 0.8)
            if score > 0:
                yield Hit(
                    score,
                    self.display(line, matcher.highlight(line.description)),
                    self.command(line),
                    text=line.description,
                    help=" · ".join(p for p in (line.tooltip, line.section, line.binding_id) if p),
                )


#: the id whole: it is what a person copies into the keymap
HELP_COLUMNS = (
    Col("section", "Where", rank=3, floor=8),
    Col("keys", "Keys", rank=0),
    Col("description", "Does", rank=2, floor=16),
    Col("id", "Binding id", rank=1),
)


class HelpScreen(FilteredListScreen):
    """The screen's whole keymap, filterable; esc, q or ? closes it."""

    HELP_SECTION = "Help"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", id="help.close"),
        Binding("q", "close", "Close", show=False, id="help.close_q"),
        Binding("slash", "find", "Filter", id="help.find", priority=True),
    ]

    def __init__(self, behind: Screen) -> None:
        super().__init__()
        self.lines = keymap_of(behind)
        self.title_text = f"Keys: {section_of(behind)}"

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog help"):
            yield Static(Text(self.title_text, style="bold"), classes="dialog-title")
            yield Input(placeholder="/ filter keys", id="help-filter", compact=True)
            yield FitTable(HELP_COLUMNS, id="help-keys", cursor_type="row", zebra_stripes=True)
            yield Static(
                Text(
                    "keymap in the config rebinds by id · ctrl+p runs any of them · esc close",
                    style="dim",
                ),
                classes="dialog-hint",
            )

    def show(self, needle: str) -> None:
        rows = []
        for i, line in enumerate(self.lines):
            text = f"{line.section} {line.keys} {line.description} {line.binding_id}".casefold()
            if needle and needle not in text:
                continue
            rows.append(
                (
                    str(i),
                    (
                        Text(line.section, style="dim"),
                        Text(line.keys, style="bold"),
                        Text(line.description or line.action),
                        Text(line.binding_id, style="dim"),
                    ),
                )
            )
        self.query_one(FitTable).set_rows(rows)

    def action_close(self) -> None:
        box = self.query_one(Input)
        if self.focused is box and box.value:
            box.value = ""  # esc goes one level back: the filter first
            return
        if self.focused is box:
            self.query_one(FitTable).focus()
            return
        self.dismiss(None)
