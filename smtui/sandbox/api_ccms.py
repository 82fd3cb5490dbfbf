"""The CCMS ("Storypark Manage") contract: read-only lists of children, rooms and bookings."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from smtui.records import Booking, Child, Room
from smtui.sandbox.common import (
    ERROR_RESPONSES,
    CursorParam,
    LimitParam,
    Page,
    SinceParam,
    bearer,
    get_world,
    paginate,
)
from smtui.sandbox.world import World

router = APIRouter(
    prefix="/ccms/v1/services/{service_id}",
    tags=["ccms"],
    dependencies=[Depends(bearer("ccms"))],
    responses=ERROR_RESPONSES,
)

WorldDep = Annotated[World, Depends(get_world)]


@router.get("/children", response_model=Page[Child])
def list_children(
    service_id: str,
    world: WorldDep,
    limit: LimitParam = 100,
    cursor: CursorParam = None,
    updated_since: SinceParam = None,
) -> dict[str, Any]:
    return paginate(world, service_id, "children", limit, cursor, updated_since)


@router.get("/rooms", response_model=Page[Room])
def list_rooms(
    service_id: str,
    world: WorldDep,
    limit: LimitParam = 100,
    cursor: CursorParam = None,
    updated_since: SinceParam = None,
) -> dict[str, Any]:
    return paginate(world, service_id, "rooms", limit, cursor, updated_since)


@router.get("/bookings", response_model=Page[Booking])
def list_bookings(
    service_id: str,
    world: WorldDep,
    limit: LimitParam = 100,
    cursor: CursorParam = None,
    updated_since: SinceParam = None,
) -> dict[str, Any]:
    return paginate(world, service_id, "bookings", limit, cursor, updated_since)
