"""Shared fixtures: one real sandbox HTTP server per test session, reset on demand."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from smtui.sandbox.admin import AdminClient
from smtui.sandbox.server import RunningSandbox, start_sandbox

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
