"""The smtui app, typed, for every screen and widget that reads what it holds.

Textual types ``self.app`` as ``App[object]``, so ``self.app.store``, ``.as_of``, ``.who`` and the
rest are unknown to a type checker. A screen or widget that reads them mixes in ``SmtuiNode``
(before its Textual class), which says that its app is a ``SmtuiApp``. Only the type checker reads
it: at run time the mixin is empty and ``self.app`` is Textual's own property, which finds the
running app (``textual.getters.app`` itself would import the app module, which imports every
screen, and assert the app's class on every read).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from textual import getters
    from textual.message_pump import MessagePump

    from smtui.tui.app import SmtuiApp
else:
    # for the type checker the mixin is a MessagePump, so its ``app`` overrides Textual's; at run
    # time it adds nothing to the classes it is mixed into
    MessagePump = object


class SmtuiNode(MessagePump):
    """Mixin for the screens and widgets of the smtui app: ``self.app`` is a ``SmtuiApp``."""

    if TYPE_CHECKING:
        app = getters.app(SmtuiApp)
