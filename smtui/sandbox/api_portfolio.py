"""The portfolio ("Storypark") contract: profiles, rooms and room membership.

There is deliberately no endpoint that sends a parent invitation: smtui must never send one.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, ClassVar

from fastapi import APIRouter, Depends, Response
from pydantic import Field, StringConstraints, model_validator

from smtui.records import PortfolioRoom, Profile
from smtui.sandbox.common import (
    ERROR_RESPONSES,
    CursorParam,
    IdempotencyKey,
    LimitParam,
    Page,
    SinceParam,
    StrictBody,
    bearer,
    fingerprint,
    get_world,
    paginate,
)
from smtui.sandbox.world import World

router = APIRouter(
    prefix="/portfolio/v1/services/{service_id}",
    tags=["portfolio"],
    dependencies=[Depends(bearer("portfolio"))],
    responses=ERROR_RESPONSES,
)

WorldDep = Annotated[World, Depends(get_world)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Ref = Annotated[str, StringConstraints(min_length=1, max_length=200)]


class _Patch(StrictBody):
    """A partial update: only fields sent change; null is allowed only where it means 'clear'."""

    _not_null: ClassVar[tuple[str, ...]] = ()

    @model_validator(mode="after")
    def _reject_nulls(self) -> _Patch:
        for name in self._not_null:
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self

    def changes(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True)


class ProfileCreate(StrictBody):
    first_name: Name
    last_name: Name
    birth_date: dt.date | None = None
    external_ref: Ref | None = None
    room_ids: list[str] = Field(default_factory=list)


class ProfilePatch(_Patch):
    _not_null: ClassVar[tuple[str, ...]] = ("first_name", "last_name")
    first_name: Name | None = None
    last_name: Name | None = None
    birth_date: dt.date | None = None
    external_ref: Ref | None = None


class RoomCreate(StrictBody):
    name: Name
    external_ref: Ref | None = None


class RoomPatch(_Patch):
    _not_null: ClassVar[tuple[str, ...]] = ("name",)
    name: Name | None = None
    external_ref: Ref | None = None


@router.get("/profiles", response_model=Page[Profile])
def list_profiles(
    service_id: str,
    world: WorldDep,
    limit: LimitParam = 100,
    cursor: CursorParam = None,
    updated_since: SinceParam = None,
) -> dict[str, Any]:
    return paginate(world, service_id, "profiles", limit, cursor, updated_since)


@router.get("/profiles/{profile_id}")
def get_profile(service_id: str, profile_id: str, world: WorldDep) -> Profile:
    return world.get_profile(service_id, profile_id)


@router.post("/profiles", status_code=201)
def create_profile(
    service_id: str, body: ProfileCreate, world: WorldDep, idempotency_key: IdempotencyKey = None
) -> Profile:
    key, fp = fingerprint("profiles", idempotency_key, body)
    return world.create_profile(service_id, key, fp, body.model_dump())


@router.patch("/profiles/{profile_id}")
def patch_profile(service_id: str, profile_id: str, body: ProfilePatch, world: WorldDep) -> Profile:
    return world.patch_profile(service_id, profile_id, body.changes())


@router.post("/profiles/{profile_id}/archive")
def archive_profile(service_id: str, profile_id: str, world: WorldDep) -> Profile:
    return world.set_profile_archived(service_id, profile_id, True)


@router.post("/profiles/{profile_id}/unarchive")
def unarchive_profile(service_id: str, profile_id: str, world: WorldDep) -> Profile:
    return world.set_profile_archived(service_id, profile_id, False)


@router.get("/rooms", response_model=Page[PortfolioRoom])
def list_rooms(
    service_id: str,
    world: WorldDep,
    limit: LimitParam = 100,
    cursor: CursorParam = None,
    updated_since: SinceParam = None,
) -> dict[str, Any]:
    return paginate(world, service_id, "portfolio_rooms", limit, cursor, updated_since)


@router.post("/rooms", status_code=201)
def create_room(
    service_id: str, body: RoomCreate, world: WorldDep, idempotency_key: IdempotencyKey = None
) -> PortfolioRoom:
    key, fp = fingerprint("rooms", idempotency_key, body)
    return world.create_portfolio_room(service_id, key, fp, body.model_dump())


@router.patch("/rooms/{room_id}")
def patch_room(service_id: str, room_id: str, body: RoomPatch, world: WorldDep) -> PortfolioRoom:
    return world.patch_portfolio_room(service_id, room_id, body.changes())


@router.post("/rooms/{room_id}/archive")
def archive_room(service_id: str, room_id: str, world: WorldDep) -> PortfolioRoom:
    return world.set_room_archived(service_id, room_id, True)


@router.post("/rooms/{room_id}/unarchive")
def unarchive_room(service_id: str, room_id: str, world: WorldDep) -> PortfolioRoom:
    return world.set_room_archived(service_id, room_id, False)


@router.put("/rooms/{room_id}/members/{profile_id}", status_code=204)
def add_member(service_id: str, room_id: str, profile_id: str, world: WorldDep) -> Response:
    world.set_member(service_id, room_id, profile_id, True)
    return Response(status_code=204)


@router.delete("/rooms/{room_id}/members/{profile_id}", status_code=204)
def remove_member(service_id: str, room_id: str, profile_id: str, world: WorldDep) -> Response:
    world.set_member(service_id, room_id, profile_id, False)
    return Response(status_code=204)
