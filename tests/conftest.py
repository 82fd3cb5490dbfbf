"""Shared fixtures: one real sandbox HTTP server per test session, reset on demand; the
database a store test runs on (SQLite, or PostgreSQL when SMTUI_TEST_DB is set)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from smtui.sandbox.admin import AdminClient
from smtui.sandbox.server import RunningSandbox, start_sandbox
from tests import cli_helpers, pg_helpers

SANDBOX_SEED = 7
SANDBOX_TODAY = dt.date(2026, 11, 23)  # a Monday


@pytest.fixture(autouse=True)
def _no_color_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    """Output assertions must not depend on the developer's NO_COLOR setting."""
    monkeypatch.delenv("NO_COLOR", raising=False)


@pytest.fixture(scope="session")
def sandbox() -> Iterator[RunningSandbox]:
    """The sandbox on 127.0.0.1 (free port), seed 7, today 2026-11-23, all services."""
    with start_sandbox(seed=SANDBOX_SEED, today=SANDBOX_TODAY) as running:
        yield running


@pytest.fixture(scope="session")
def sandbox_today() -> dt.date:
    """The sandbox clock the fixtures set: seeded bookings are relative to it."""
    return SANDBOX_TODAY


@pytest.fixture
def sandbox_admin(sandbox: RunningSandbox) -> Iterator[AdminClient]:
    with AdminClient(sandbox.admin_url, sandbox.admin_token) as client:
        yield client


@pytest.fixture
def sandbox_world(sandbox: RunningSandbox, sandbox_admin: AdminClient) -> RunningSandbox:
    """The session sandbox reset to its seeded world, clock and no faults, for this test."""
    sandbox_admin.reset(seed=SANDBOX_SEED, today=SANDBOX_TODAY, services="all")
    sandbox_admin.clear_faults()
    return sandbox


@pytest.fixture
def store_url(tmp_path: Path) -> Iterator[str]:
    """Where a test opens its store, in process or through the CLI: a fresh database of its own.

    A SQLite file in the test's directory (``smtui.db``), or, with ``SMTUI_TEST_DB`` set, a new
    database on that PostgreSQL server (dropped afterwards): the same tests then cover both
    stores. On PostgreSQL the CLI helpers also send ``tmp_path / "smtui.db"`` to that database,
    for a test that names the file to the CLI rather than taking this value.
    """
    sqlite_file = tmp_path / "smtui.db"
    if not pg_helpers.on_postgres():
        yield str(sqlite_file)
        return
    with pg_helpers.fresh_database() as url, cli_helpers.standing_in(sqlite_file, url):
        yield url


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database (skips the test without ``SMTUI_TEST_DB``)."""
    if pg_helpers.server_url() is None:
        pytest.skip(pg_helpers.skip_reason())
    with pg_helpers.fresh_database() as url:
        yield url
