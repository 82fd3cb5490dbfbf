"""Services: add, configure, summarise, and decide which are due (cron's list)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import getpass
import os
import re
import socket
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from smtui import rules
from smtui.engine.errors import EngineError
from smtui.store import ServiceConfig, Store, StoreError
from smtui.store import open_store as _open_store
from smtui.tokens import TokenError, TokenSource, read_token
from smtui.views import ServiceSummary


def host_name() -> str:
    """This machine's name in locks and run records; `SMTUI_HOSTNAME` overrides it (a
    container's random name says nothing, and tests stand in for a second host)."""
    return os.environ.get("SMTUI_HOSTNAME") or socket.gethostname()


def who_am_i() -> str:
    try:
        user = getpass.getuser()
    except OSError:
        user = str(os.getuid())
    return f"{user}@{host_name()}"


def open_store(url: str | None = None) -> Store:
    return _open_store(url)


def service_config(store: Store, name: str) -> ServiceConfig:
    try:
        return store.get_service(name)
    except StoreError as exc:
        raise EngineError(str(exc)) from exc


_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_LIMITS = {  # setting: (label, lowest, highest)
    "interval_hours": ("the sync interval (hours)", 0.25, 24 * 31),
    "max_archive_children_pct": ("the archive hold (% of children)", 0, 100),
    "max_remove_rooms_pct": ("the room removal hold (% of rooms)", 0, 100),
    "max_archive_children_min": ("the archive hold minimum", 0, 100_000),
    "max_remove_rooms_min": ("the room removal hold minimum", 0, 100_000),
    "hold_window_days": ("the hold window (days)", 0, 365),
    "suspicious_drop_pct": ("the suspicious read threshold (% fewer children)", 1, 100),
}


def check_settings(fields: dict[str, object]) -> None:
    """Refuse settings that would break the schedule or silently switch off the safety holds."""
    if "timezone" in fields:
        check_timezone(str(fields["timezone"]))
    for key, (label, low, high) in _LIMITS.items():
        value = fields.get(key)
        if value is not None and not low <= float(value) <= high:  # type: ignore[arg-type]
            raise EngineError(f"{label} must be between {low:g} and {high:g}, got {value:g}")


_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def check_url(label: str, url: str) -> None:
    parts = urlsplit(url)
    if parts.username is not None or parts.password is not None:
        # it would be stored and shown by `service show`, and would replace the bearer token
        raise EngineError(
            f"{label}: leave the user name and password out of the URL; the token comes from "
            "--*-token-env or --*-token-file"
        )
    if parts.scheme not in ("http", "https") or not parts.hostname:
        shown = url if len(url) <= 80 else url[:77] + "..."
        raise EngineError(
            f"{label} {shown!r} is not an http(s) URL, e.g. https://host/v1/services/x"
        )


def add_service(store: Store, cfg: ServiceConfig) -> ServiceConfig:
    """Add a service after checking everything that can be checked now, so a typo fails here,
    not at 3 am. A token in an environment variable may live only in cron's environment, so
    only a token *file* must be readable now (see ``token_warnings``)."""
    if not _NAME.fullmatch(cfg.name):
        raise EngineError(
            f"service name {cfg.name!r}: use letters, digits, '.', '_' or '-' (at most 64)"
        )
    check_url("CCMS URL", cfg.ccms_url)
    check_url("portfolio URL", cfg.portfolio_url)
    check_settings(dataclasses.asdict(cfg))
    ccms_env, ccms_file = _token_source(cfg.name, "CCMS", cfg.ccms_token_env, cfg.ccms_token_file)
    portfolio_env, portfolio_file = _token_source(
        cfg.name, "portfolio", cfg.portfolio_token_env, cfg.portfolio_token_file
    )
    cfg = dataclasses.replace(
        cfg,
        ccms_token_env=ccms_env,
        ccms_token_file=ccms_file,
        portfolio_token_env=portfolio_env,
        portfolio_token_file=portfolio_file,
    )
    try:
        return store.add_service(cfg)
    except StoreError as exc:
        raise EngineError(str(exc)) from exc


def _token_source(
    service: str, label: str, env: str | None, file: str | None
) -> tuple[str | None, str | None]:
    """Check where one token comes from; a file must be readable (and 0600) now and is stored
    as an absolute path, because cron starts elsewhere."""
    if bool(env) == bool(file):
        raise EngineError(f"{label} token: give either an environment variable or a file")
    if env and not _ENV_NAME.fullmatch(env):
        raise EngineError(
            f"{label} token: {env!r} is not an environment variable name (letters, digits, _)"
        )
    if file:
        try:
            read_token(TokenSource(None, file), label)
        except TokenError as exc:
            raise EngineError(f"{service}: {exc}") from exc
        file = str(Path(file).expanduser().absolute())
    return env, file


def _connection_changes(name: str, given: dict[str, Any]) -> dict[str, object]:
    """The checked store fields for new URLs or token sources in ``given``; a token's new
    source replaces the old one (an env var replaces a file and the reverse)."""
    changes: dict[str, object] = {}
    for system, label in (("ccms", "CCMS"), ("portfolio", "portfolio")):
        url = given.pop(f"{system}_url", None)
        if url is not None:
            check_url(f"{label} URL", str(url))
            changes[f"{system}_url"] = url
        env, file = given.pop(f"{system}_token_env", None), given.pop(f"{system}_token_file", None)
        if env is not None or file is not None:
            env, file = _token_source(name, label, env, file)
            changes.update({f"{system}_token_env": env, f"{system}_token_file": file})
    return changes


def check_timezone(name: str) -> None:
    """A typo in a timezone would shift every window by a day: refuse it when it is entered."""
    try:
        rules.today_in(name)
    except ValueError:
        raise EngineError(
            f"unknown timezone {name!r}: use an IANA name such as Australia/Sydney"
        ) from None


def token_warnings(cfg: ServiceConfig) -> list[str]:
    """Token sources that cannot be read in *this* environment (cron's may differ)."""
    warnings = []
    for env, file, label in (
        (cfg.ccms_token_env, cfg.ccms_token_file, "CCMS"),
        (cfg.portfolio_token_env, cfg.portfolio_token_file, "portfolio"),
    ):
        try:
            read_token(TokenSource(env, file), label)
        except TokenError as exc:
            warnings.append(f"{cfg.name}: {exc} (fine if it is set where `smtui sync` runs)")
    return warnings


def update_settings(store: Store, name: str, **fields: object) -> ServiceConfig:
    """Change settings, URLs (``ccms_url``, ``portfolio_url``) or token sources
    (``{ccms,portfolio}_token_{env,file}``) in one write, after checking all of them: a bad
    value changes nothing. Mappings and history are kept."""
    service_config(store, name)
    settings = dict(fields)
    connection = _connection_changes(name, settings)
    check_settings(settings)
    return store.update_service(name, **settings, **connection)


def turn_off(store: Store, name: str, *, purge: bool) -> None:
    """Stop syncing a service; with ``purge`` also drop its cached children's data."""
    service_config(store, name)
    store.update_service(name, enabled=False, state="off")
    if purge:
        store.purge_cache(name)


def turn_on(store: Store, name: str) -> None:
    """Sync a service again, starting from a fresh read: what was cached before it was turned
    off is stale, so it is dropped (the app re-reads at once; a sync reads anyway)."""
    cfg = service_config(store, name)
    state = "active" if cfg.set_up_at is not None else "not set up"
    store.update_service(name, enabled=True, state=state)
    store.purge_cache(name)


def remove_service(store: Store, name: str) -> None:
    """Forget a service and everything cached about it; the vendor systems are untouched.
    Through the engine so an unknown name is the same one-line error as everywhere else."""
    service_config(store, name)
    store.remove_service(name)


def _summary(store: Store, cfg: ServiceConfig) -> ServiceSummary:
    runs = store.runs(cfg.name, limit=1)
    last = runs[0] if runs else None
    maps = store.child_mappings(cfg.name)
    live = store.live_profile_ids(cfg.name)
    reviews = sum(1 for m in maps.values() if m.action == "review")
    if not cfg.enabled:
        state = "off"
    elif cfg.set_up_at is None:
        state = "not set up"
    elif last is not None and last.result == "held":
        state = "held for approval"
    elif last is not None and last.result in ("failed", "partial"):
        state = "failing"
    elif reviews:
        state = "needs review"
    else:
        state = "active"
    return ServiceSummary(
        name=cfg.name,
        state=state,
        integrated_children=sum(1 for m in maps.values() if rules.integrated(m, live)),
        last_sync_at=last.finished_at or last.started_at if last else None,
        last_result=last.result if last else None,
        next_due=store.next_due(cfg.name),
        timezone=cfg.timezone,
    )


def service_summaries(store: Store) -> list[ServiceSummary]:
    return [_summary(store, cfg) for cfg in store.list_services()]


def service_summary(store: Store, name: str) -> ServiceSummary:
    return _summary(store, service_config(store, name))


def due_services(store: Store, now: dt.datetime | None = None) -> list[str]:
    """Enabled, set-up services due by ``now``, most overdue first (cron's list): the store
    keeps each service's next due time (``Store.next_due``), so this is one query."""
    return store.due_services(now)
