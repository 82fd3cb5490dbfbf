"""Fault injection on the ccms and portfolio routes (never /admin), so clients prove they
retry, back off, honour Retry-After and mark a read incomplete instead of trusting it.

Kinds: ``latency`` (slow but correct), ``429`` (with Retry-After), ``500``, ``drop`` (the
connection closes mid-response: clients see a protocol/connection error), ``malformed`` (a list
page with an invalid item) and ``truncate`` (a list page whose next_cursor leads to a 404).
``count`` makes faults deterministic: inject exactly that many, then stop.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import threading
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

FaultKind = Literal["latency", "429", "500", "drop", "malformed", "truncate"]
_LIST_ONLY = {"malformed", "truncate"}
_LISTS = {"children", "rooms", "bookings", "profiles"}


class FaultConfig(BaseModel):
    """What to inject. ``scope``: all requests, reads (GET), list reads, or writes."""

    model_config = ConfigDict(extra="forbid")

    rate: float = Field(default=0.0, ge=0, le=1)
    kinds: list[FaultKind] = Field(default_factory=lambda: list[FaultKind](["500"]), min_length=1)
    latency_ms: int = Field(default=1000, ge=0, le=60_000)
    retry_after: int = Field(default=1, ge=0, le=3600)
    seed: int | None = None
    count: int | None = Field(default=None, ge=0)
    scope: Literal["all", "read", "list", "write"] = "all"
    system: Literal["ccms", "portfolio"] | None = None
    service_id: str | None = None


class FaultStatus(FaultConfig):
    remaining: int | None
    injected: int


class ConnectionDropped(Exception):
    """Raised after the response has started, which makes uvicorn close the connection."""


class Faults:
    """The current fault configuration and the seeded dice it rolls."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.configure(FaultConfig())

    def configure(self, config: FaultConfig) -> FaultStatus:
        with self._lock:
            self._config = config
            self._rng = random.Random(config.seed)
            self._remaining = config.count
            self._injected = 0
        return self.status()

    def status(self) -> FaultStatus:
        with self._lock:
            return FaultStatus(
                **self._config.model_dump(), remaining=self._remaining, injected=self._injected
            )

    def pick(self, method: str, path: str) -> FaultKind | None:
        """The fault to inject into this request, if any (counted as injected)."""
        parts = path.strip("/").split("/")
        if len(parts) < 4 or parts[0] not in ("ccms", "portfolio") or parts[2] != "services":
            return None
        is_list = method == "GET" and len(parts) == 5 and parts[4] in _LISTS
        with self._lock:
            cfg = self._config
            scoped = {
                "all": True,
                "read": method == "GET",
                "list": is_list,
                "write": method != "GET",
            }[cfg.scope]
            if (
                not scoped
                or cfg.rate <= 0
                or self._remaining == 0
                or (cfg.system is not None and parts[0] != cfg.system)
                or (cfg.service_id is not None and parts[3] != cfg.service_id)
            ):
                return None
            kinds = [k for k in cfg.kinds if is_list or k not in _LIST_ONLY]
            if not kinds or self._rng.random() >= cfg.rate:
                return None
            kind = self._rng.choice(kinds)
            self._injected += 1
            if self._remaining is not None:
                self._remaining -= 1
            return kind

    def corrupt(self, kind: FaultKind, page: dict[str, Any]) -> dict[str, Any]:
        """Spoil a list page: an invalid item (malformed) or a dead next_cursor (truncate)."""
        with self._lock:
            if kind == "truncate":
                return {**page, "next_cursor": f"expired-{self._rng.getrandbits(32):08x}"}
            items = [dict(item) for item in page["items"]]
            if not items:
                return {**page, "items": [{"id": 42}]}
            item = items[self._rng.randrange(len(items))]
            dates = [k for k in ("birth_date", "start_date", "updated_at") if item.get(k)]
            if dates and self._rng.random() < 0.5:
                item[self._rng.choice(dates)] = "31/02/2020"
            else:
                del item["id"]
            return {**page, "items": items}

    @property
    def latency(self) -> float:
        return self._config.latency_ms / 1000

    @property
    def retry_after(self) -> int:
        return self._config.retry_after


class FaultMiddleware:
    """Pure ASGI middleware: it must be able to start a response and then abort it."""

    def __init__(self, app: ASGIApp, faults: Faults) -> None:
        self.app = app
        self.faults = faults

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = self.faults.pick(scope["method"], scope["path"]) if scope["type"] == "http" else None
        if kind is None:
            await self.app(scope, receive, send)
        elif kind == "latency":
            await asyncio.sleep(self.faults.latency)
            await self.app(scope, receive, send)
        elif kind in ("429", "500"):
            status, code = (429, "rate_limited") if kind == "429" else (500, "internal")
            headers = {"Retry-After": str(self.faults.retry_after)} if kind == "429" else None
            body = {"error": {"code": code, "message": "injected fault"}}
            await JSONResponse(body, status, headers)(scope, receive, send)
        elif kind == "drop":
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", b"64")],
                }
            )
            raise ConnectionDropped("injected fault: connection dropped")
        else:
            await self._spoil(kind, scope, receive, send)

    async def _spoil(self, kind: FaultKind, scope: Scope, receive: Receive, send: Send) -> None:
        messages: list[Message] = []

        async def capture(message: Message) -> None:
            messages.append(message)

        await self.app(scope, receive, capture)
        start = messages[0]
        body = b"".join(m.get("body", b"") for m in messages[1:])
        if start["status"] == 200:
            body = json.dumps(self.faults.corrupt(kind, json.loads(body))).encode()
        headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": body})


class HideDroppedConnections(logging.Filter):
    """Keeps uvicorn from logging a traceback for every deliberately dropped connection."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, ConnectionDropped)


def quiet_dropped_connections() -> None:
    logger = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, HideDroppedConnections) for f in logger.filters):
        logger.addFilter(HideDroppedConnections())
