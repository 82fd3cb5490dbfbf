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


def paginate(
    world: World, service_id: str, collection: str, limit: int, cursor: str | None
) -> dict[str, Any]:
    """A page in id order after the cursor's id: records added or removed between pages never
    make the read repeat or skip a record that existed throughout."""

    def take(svc: ServiceData) -> dict[str, Any]:
        records: dict[str, Any] = getattr(svc, collection)
        ids = sorted(records)
        start = 0
        if cursor is not None:
            start = bisect.bisect_right(ids, _decode_cursor(cursor, service_id, collection))
        chunk = ids[start : start + limit]
        more = start + limit < len(ids)
        next_cursor = encode_cursor(service_id, collection, chunk[-1]) if more else None
        return {"items": [records[i] for i in chunk], "next_cursor": next_cursor}

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
