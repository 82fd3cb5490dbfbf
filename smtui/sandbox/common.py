"""What every sandbox route shares: bearer auth, cursor pagination, error bodies, creates."""

from __future__ import annotations

import base64
import binascii
import bisect
import json
import secrets
from collections.abc import Callable
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Header, Query, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict

from smtui.sandbox.errors import ApiError, invalid
from smtui.sandbox.state import ServiceData
from smtui.sandbox.world import World

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """One page of a list; follow ``next_cursor`` until it is null for a complete read."""

    items: list[T]
    next_cursor: str | None
    total: int
    as_of: str


class ErrorDetail(BaseModel):
    code: str
    message: str


class ErrorBody(BaseModel):
    error: ErrorDetail


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": text}
    for status, text in (
        (401, "token missing or wrong"),
        (404, "no such service, record or cursor"),
        (410, "updated_since unknown or expired: read the list in full"),
        (422, "invalid body or parameters"),
        (429, "rate limited; honour Retry-After"),
        (500, "server fault"),
    )
}


class StrictBody(BaseModel):
    """Request bodies reject unknown fields: a typo in a client is a bug worth a 422."""

    model_config = ConfigDict(extra="forbid")


def get_world(request: Request) -> World:
    return request.app.state.world


def bearer(system: str) -> Callable[..., None]:
    """A dependency that accepts only the configured bearer token of one system."""
    scheme = HTTPBearer(auto_error=False, scheme_name=f"{system}_token")

    def check(
        request: Request,
        credentials: HTTPAuthorizationCredentials | None = Security(scheme),  # noqa: B008
    ) -> None:
        expected: str = request.app.state.tokens[system]
        given = credentials.credentials if credentials else ""
        if not secrets.compare_digest(given.encode(), expected.encode()):
            raise ApiError(401, "unauthorized", "missing or wrong bearer token")

    return check


def encode_cursor(service_id: str, collection: str, after: str) -> str:
    raw = json.dumps([service_id, collection, after], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str, service_id: str, collection: str) -> str:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        sid, coll, after = json.loads(raw)
    except (binascii.Error, ValueError, TypeError):
        sid = coll = after = None
    if sid != service_id or coll != collection or not isinstance(after, str):
        raise ApiError(404, "cursor_not_found", "unknown or expired cursor")
    return after


LimitParam = Annotated[int, Query(ge=1, le=500, description="page size")]
CursorParam = Annotated[str | None, Query(description="next_cursor of the previous page")]
SinceParam = Annotated[
    str | None,
    Query(description="as_of of an earlier read: only records created or changed since then"),
]


def encode_mark(svc: ServiceData, collection: str) -> str:
    """The opaque as_of of a read starting now: the next change mark of the world."""
    raw = json.dumps([svc.id, collection, svc.clock.value + 1], separators=(",", ":"))
    return "m1." + base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_mark(mark: str, svc: ServiceData, collection: str) -> int:
    """The mark's number; refused (410) when it is not this list's or is ahead of the world
    (a sandbox started afresh has a younger clock: its marks would skip changes)."""
    body = mark.removeprefix("m1.")
    try:
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        sid, coll, value = json.loads(raw)
    except (binascii.Error, ValueError, TypeError):
        sid = coll = value = None
    fits = isinstance(value, int) and 0 < value <= svc.clock.value + 1
    if (sid, coll) != (svc.id, collection) or not fits:
        raise ApiError(
            410, "updated_since_expired", "unknown or expired updated_since: read the list in full"
        )
    return value  # type: ignore[return-value]


def paginate(
    world: World,
    service_id: str,
    collection: str,
    limit: int,
    cursor: str | None,
    updated_since: str | None = None,
) -> dict[str, Any]:
    """A page in id order after the cursor's id: records added or removed between pages never
    make the read repeat or skip a record that existed throughout. With ``updated_since``, only
    the records written at or after that mark; ``total`` and ``as_of`` let a client check a
    merged delta and ask for the next one."""

    def take(svc: ServiceData) -> dict[str, Any]:
        records: dict[str, Any] = getattr(svc, collection)
        as_of = encode_mark(svc, collection)
        if updated_since is not None:
            since = _decode_mark(updated_since, svc, collection)
            marks: dict[str, int] = getattr(records, "marks", {})
            ids = sorted(i for i in records if marks.get(i, since) >= since)
        else:
            ids = sorted(records)
        start = 0
        if cursor is not None:
            start = bisect.bisect_right(ids, _decode_cursor(cursor, service_id, collection))
        chunk = ids[start : start + limit]
        more = start + limit < len(ids)
        next_cursor = encode_cursor(service_id, collection, chunk[-1]) if more else None
        return {
            "items": [records[i] for i in chunk],
            "next_cursor": next_cursor,
            "total": len(records),
            "as_of": as_of,
        }

    return world.read(service_id, take)


IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", description="required; replays return the first response"),
]


def fingerprint(route: str, key: str | None, body: BaseModel) -> tuple[str, str]:
    """The key (required) and a canonical fingerprint of what was asked for."""
    if not key or len(key) > 255:
        raise invalid("idempotency_key_required", "send an Idempotency-Key header (1-255 chars)")
    return key, json.dumps([route, body.model_dump(mode="json")], sort_keys=True)
