"""The sandbox's own admin API: make the CCMS change like a real centre does, move the clock,
reset the world and inject faults. Tests and demos drive it; smtui itself never calls it."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field, StringConstraints, field_validator

from smtui.records import Booking, Child, InvitationStatus, Profile, Room
from smtui.sandbox.common import ERROR_RESPONSES, StrictBody, bearer, get_world
from smtui.sandbox.faults import FaultConfig, Faults, FaultStatus
from smtui.sandbox.seed import ServiceSet
from smtui.sandbox.world import World

router = APIRouter(
    prefix="/admin",
    tags=["admin"],
    dependencies=[Depends(bearer("admin"))],
    responses=ERROR_RESPONSES,
)

WorldDep = Annotated[World, Depends(get_world)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Weekdays = Annotated[list[Annotated[int, Field(ge=1, le=7)]], Field(min_length=1, max_length=7)]
Emails = Annotated[
    list[Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=254)]],
    Field(max_length=20),
]


def get_faults(request: Request) -> Faults:
    return request.app.state.faults


FaultsDep = Annotated[Faults, Depends(get_faults)]


class _Changes(StrictBody):
    def changes(self) -> dict[str, Any]:
        data = self.model_dump(exclude_unset=True)
        if "weekdays" in data:
            data["weekdays"] = tuple(sorted(set(data["weekdays"])))
        if "guardian_emails" in data:
            data["guardian_emails"] = tuple(data["guardian_emails"] or ())
        return data


# --- world ---------------------------------------------------------------------------------


class WorldState(BaseModel):
    seed: int
    today: dt.date
    services: ServiceSet


class ResetBody(StrictBody):
    seed: int | None = None
    today: dt.date | None = None
    services: ServiceSet | None = None


class ClockBody(StrictBody):
    today: dt.date


class ServiceInfo(BaseModel):
    id: str
    name: str
    timezone: str
    ccms_path: str
    portfolio_path: str
    counts: dict[str, int]
    landmarks: dict[str, str]


@router.get("/state")
def get_state(world: WorldDep) -> WorldState:
    return WorldState(**world.state())


@router.post("/reset")
def reset(body: ResetBody, world: WorldDep) -> WorldState:
    world.reset(body.seed, body.today, body.services)
    return WorldState(**world.state())


@router.put("/clock")
def set_clock(body: ClockBody, world: WorldDep) -> WorldState:
    world.set_today(body.today)
    return WorldState(**world.state())


@router.get("/services")
def list_services(world: WorldDep) -> list[ServiceInfo]:
    with world.lock:
        return [
            ServiceInfo(
                id=svc.id,
                name=svc.name,
                timezone=svc.timezone,
                ccms_path=f"/ccms/v1/services/{svc.id}",
                portfolio_path=f"/portfolio/v1/services/{svc.id}",
                counts={
                    "children": len(svc.children),
                    "active_children": sum(c.status == "active" for c in svc.children.values()),
                    "rooms": len(svc.rooms),
                    "bookings": len(svc.bookings),
                    "profiles": len(svc.profiles),
                    "portfolio_rooms": len(svc.portfolio_rooms),
                },
                landmarks=dict(svc.landmarks),
            )
            for svc in world.services.values()
        ]


# --- CCMS children ---------------------------------------------------------------------------


class EnrolBody(StrictBody):
    first_name: Name
    last_name: Name
    birth_date: dt.date | None = None
    preferred_name: Name | None = None
    guardian_emails: Emails = Field(default_factory=list)
    room_id: str
    weekdays: Weekdays
    start_date: dt.date | None = None
    end_date: dt.date | None = None
    every: Literal[1, 2] = 1
    kind: Literal["permanent", "casual"] = "permanent"


class Enrolled(BaseModel):
    child: Child
    booking: Booking


class ChildChanges(_Changes):
    first_name: Name | None = None
    last_name: Name | None = None
    preferred_name: Name | None = None
    birth_date: dt.date | None = None
    status: Literal["active", "inactive", "archived"] | None = None
    guardian_emails: Emails | None = None

    @field_validator("first_name", "last_name", "status")
    @classmethod
    def _required(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("cannot be null")
        return value


class LeaveBody(StrictBody):
    last_day: dt.date | None = None


class Left(BaseModel):
    child: Child
    bookings: list[Booking]


class MoveBody(StrictBody):
    room_id: str
    from_day: dt.date | None = None


class Moved(BaseModel):
    bookings: list[Booking]


@router.post("/services/{service_id}/children", status_code=201)
def enrol(service_id: str, body: EnrolBody, world: WorldDep) -> Enrolled:
    child = body.model_dump(include={"first_name", "last_name", "birth_date", "preferred_name"})
    child["guardian_emails"] = tuple(body.guardian_emails)
    booking = {
        "room_id": body.room_id,
        "start_date": body.start_date or world.today,
        "end_date": body.end_date,
        "weekdays": tuple(sorted(set(body.weekdays))),
        "every": body.every,
        "kind": body.kind,
        "status": "placed",
    }
    new_child, new_booking = world.enrol(service_id, child, booking)
    return Enrolled(child=new_child, booking=new_booking)


@router.patch("/services/{service_id}/children/{child_id}")
def update_child(service_id: str, child_id: str, body: ChildChanges, world: WorldDep) -> Child:
    return world.update_child(service_id, child_id, body.changes())


@router.post("/services/{service_id}/children/{child_id}/leave")
def leave(service_id: str, child_id: str, body: LeaveBody, world: WorldDep) -> Left:
    child, bookings = world.leave(service_id, child_id, body.last_day or world.today)
    return Left(child=child, bookings=bookings)


@router.post("/services/{service_id}/children/{child_id}/move")
def move(service_id: str, child_id: str, body: MoveBody, world: WorldDep) -> Moved:
    return Moved(
        bookings=world.move(service_id, child_id, body.room_id, body.from_day or world.today)
    )


# --- CCMS bookings and rooms -----------------------------------------------------------------


class BookingBody(StrictBody):
    child_id: str
    room_id: str
    start_date: dt.date
    weekdays: Weekdays
    every: Literal[1, 2] = 1
    kind: Literal["permanent", "casual"] = "permanent"
    status: Literal["placed", "suspended", "cancelled"] = "placed"
    end_date: dt.date | None = None


class BookingChanges(_Changes):
    room_id: str | None = None
    start_date: dt.date | None = None
    end_date: dt.date | None = None
    weekdays: Weekdays | None = None
    every: Literal[1, 2] | None = None
    kind: Literal["permanent", "casual"] | None = None
    status: Literal["placed", "suspended", "cancelled"] | None = None

    @field_validator("room_id", "start_date", "weekdays", "every", "kind", "status")
    @classmethod
    def _required(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("cannot be null")
        return value


class RoomBody(StrictBody):
    name: Name


class InvitationBody(StrictBody):
    status: InvitationStatus


@router.post("/services/{service_id}/bookings", status_code=201)
def add_booking(service_id: str, body: BookingBody, world: WorldDep) -> Booking:
    fields = body.model_dump()
    fields["weekdays"] = tuple(sorted(set(fields["weekdays"])))
    return world.add_booking(service_id, fields)


@router.patch("/services/{service_id}/bookings/{booking_id}")
def update_booking(
    service_id: str, booking_id: str, body: BookingChanges, world: WorldDep
) -> Booking:
    return world.update_booking(service_id, booking_id, body.changes())


@router.delete("/services/{service_id}/bookings/{booking_id}", status_code=204)
def delete_booking(service_id: str, booking_id: str, world: WorldDep) -> Response:
    world.delete_booking(service_id, booking_id)
    return Response(status_code=204)


@router.post("/services/{service_id}/rooms", status_code=201)
def add_room(service_id: str, body: RoomBody, world: WorldDep) -> Room:
    return world.add_room(service_id, body.name)


@router.patch("/services/{service_id}/rooms/{room_id}")
def rename_room(service_id: str, room_id: str, body: RoomBody, world: WorldDep) -> Room:
    return world.rename_room(service_id, room_id, body.name)


@router.put("/services/{service_id}/profiles/{profile_id}/invitation")
def set_invitation(
    service_id: str, profile_id: str, body: InvitationBody, world: WorldDep
) -> Profile:
    return world.set_invitation(service_id, profile_id, body.status)


# --- faults ----------------------------------------------------------------------------------


@router.get("/faults")
def get_fault_status(faults: FaultsDep) -> FaultStatus:
    return faults.status()


@router.put("/faults")
def set_faults(body: FaultConfig, faults: FaultsDep) -> FaultStatus:
    return faults.configure(body)


@router.delete("/faults")
def clear_faults(faults: FaultsDep) -> FaultStatus:
    return faults.configure(FaultConfig())
