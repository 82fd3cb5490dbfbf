"""The add-service form: where the two systems are and where their tokens come from.

A token is given by where it lives (an environment variable name or a 0600 file path), never by
value, so it is not typed into a screen that may be shared or recorded.
"""

from __future__ import annotations

from typing import Any, ClassVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from smtui import engine
from smtui.tui.cells import one_line
from smtui.tui.node import SmtuiNode

FIELDS = (
    ("name", "Name", "e.g. sunny-days"),
    ("ccms_url", "CCMS URL", "https://…"),
    ("portfolio_url", "Portfolio URL", "https://…"),
    ("ccms_token", "CCMS token from", "env var name, or path of a 0600 file"),
    ("portfolio_token", "Portfolio token from", "env var name, or path of a 0600 file"),
    ("timezone", "Timezone", "Australia/Sydney"),
)


def _token_source(prefix: str, value: str) -> dict[str, str]:
    """A value with a slash is a file path; anything else is an environment variable name."""
    if "/" in value or value.startswith("~"):
        return {f"{prefix}_token_file": value}
    if not value.replace("_", "").isalnum():
        raise ValueError(f"{prefix.upper()} token: {value!r} is neither an env var name nor a path")
    return {f"{prefix}_token_env": value}


def service_fields(values: dict[str, str]) -> dict[str, Any]:
    """Validated keyword arguments for engine.ServiceConfig, or ValueError in one line."""
    v = {k: values.get(k, "").strip() for k, _label, _hint in FIELDS}
    for key, label, _hint in FIELDS:
        if not v[key] and key != "timezone":
            raise ValueError(f"{label} is required")
    if not all(ch.isalnum() or ch in "-_." for ch in v["name"]):
        raise ValueError("Name: use letters, digits, '-', '_' or '.'")
    for key in ("ccms_url", "portfolio_url"):
        if not v[key].startswith(("http://", "https://")):
            raise ValueError(
                f"{dict((k, lab) for k, lab, _ in FIELDS)[key]} must start with https://"
            )
    timezone = v["timezone"] or "Australia/Sydney"
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"Timezone: unknown {timezone!r} (e.g. Australia/Sydney)") from None
    return {
        "name": v["name"],
        "ccms_url": v["ccms_url"],
        "portfolio_url": v["portfolio_url"],
        "timezone": timezone,
        **_token_source("ccms", v["ccms_token"]),
        **_token_source("portfolio", v["portfolio_token"]),
    }


class AddServiceScreen(SmtuiNode, ModalScreen[str | None]):
    """Answers the new service's name, or None when cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel", id="add.cancel")]

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog form"):
            yield Static(Text("Add a service", style="bold"), classes="dialog-title")
            for key, label, hint in FIELDS:
                with Horizontal(classes="setting"):
                    yield Label(label, classes="setting-label")
                    yield Input(placeholder=hint, id=f"add-{key}", compact=True)
            yield Static(id="add-error")
            yield Static(
                Text("tab next field · enter add · esc cancel", style="dim"), classes="dialog-hint"
            )
            with Horizontal(classes="dialog-buttons"):
                yield Button("Add", variant="primary", id="yes", compact=True)
                yield Button("Cancel", id="no", compact=True)

    def on_mount(self) -> None:
        self.query_one("#add-name", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "yes":
            self.submit()
        else:
            self.dismiss(None)

    def submit(self) -> None:
        values = {key: self.query_one(f"#add-{key}", Input).value for key, _l, _h in FIELDS}
        try:
            fields = service_fields(values)
            cfg = engine.add_service(self.app.store, engine.ServiceConfig(**fields))
        except (ValueError, engine.EngineError) as exc:
            self.query_one("#add-error", Static).update(Text(one_line(exc), style="bold red"))
            return
        self.dismiss(cfg.name)

    def action_cancel(self) -> None:
        self.dismiss(None)
