"""Failures the user can act on; str() of each is the one line to show."""

from __future__ import annotations

from smtui.store import LockInfo


class EngineError(Exception):
    """A failure the user can act on; str() is the one line to show them."""


class NotSetUp(EngineError):
    pass


class StalePlan(EngineError):
    pass


class Locked(EngineError):
    def __init__(self, service: str, holder: LockInfo) -> None:
        super().__init__(
            f"{holder.describe()}; try again when it finishes, or `smtui service unlock "
            f"{service}` if that run is gone"
        )
        self.holder = holder
