"""Fixtures for the terminal UI: a real store whose services point at the real sandbox (a SQLite
file, or a PostgreSQL database with ``SMTUI_TEST_DB`` set: tests/conftest.py's ``store_url``).

Everything that could differ between runs is pinned: the sandbox seed and clock (tests/conftest.py),
the app's ``as_of`` (the sandbox's today) and ``who`` (no user or host name). Times are shown
relative to now ("just now", "in 12 h"), so they read the same on every run.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from tui_helpers import CCMS_ENV, PORTFOLIO_ENV, WHO

from smtui import engine
from smtui.sandbox.server import RunningSandbox
from smtui.tui.app import SmtuiApp, build_app

#: Small sandbox services: (sandbox id, timezone).
SERVICES = (("gumnut-grove", "Australia/Brisbane"), ("little-wattle", "Australia/Melbourne"))


@pytest.fixture(autouse=True)
def _no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    """Snapshots and colours must not depend on the developer's NO_COLOR."""
    monkeypatch.delenv("NO_COLOR", raising=False)


@pytest.fixture
def store(
    store_url: str, sandbox_world: RunningSandbox, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Any]:
    """A fresh store with two sandbox services added, neither set up yet."""
    monkeypatch.setenv(CCMS_ENV, sandbox_world.ccms_token)
    monkeypatch.setenv(PORTFOLIO_ENV, sandbox_world.portfolio_token)
    st = engine.open_store(store_url)
    for name, tz in SERVICES:
        engine.add_service(
            st,
            engine.ServiceConfig(
                name=name,
                ccms_url=sandbox_world.ccms_url(name),
                portfolio_url=sandbox_world.portfolio_url(name),
                ccms_token_env=CCMS_ENV,
                portfolio_token_env=PORTFOLIO_ENV,
                timezone=tz,
            ),
        )
    yield st
    st.close()


@pytest.fixture
def make_app(store: Any, sandbox_today: dt.date) -> Callable[[], SmtuiApp]:
    return lambda: build_app(store, as_of=sandbox_today, who=WHO)
