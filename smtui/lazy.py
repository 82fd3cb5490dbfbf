"""The lazy facades' one trick: a package's names imported on first use (PEP 562).

``smtui.engine`` and ``smtui.store`` name what they offer but import a module only when one of
its names is first asked for, so the cron path and ``--help`` never pay for the matcher, the
vendor clients or SQLAlchemy they do not use.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, MutableMapping
from importlib import import_module


def lazy_getattr(
    package: str, home: Mapping[str, str], namespace: MutableMapping[str, object]
) -> Callable[[str], object]:
    """A module ``__getattr__`` that imports a name's module (``home[name]``) on first use and
    keeps the name in the package's ``namespace`` for the next."""

    def __getattr__(name: str) -> object:
        if name not in home:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        namespace[name] = value = getattr(import_module(home[name]), name)
        return value

    return __getattr__
