"""The sandbox's mutable world: every service's records, the clock, and all mutations.

One lock guards everything: FastAPI runs sync handlers in worker threads, and a read that
paginates must never see a half-applied mutation. Methods take the lock themselves, so API
modules stay thin and never touch the dicts directly.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
from collections.abc import Callable, Iterable
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from smtui.records import Booking, Child, PortfolioRoom, Profile, Room
from smtui.sandbox.errors import ApiError, invalid, not_found
from smtui.sandbox.seed import ServiceSet, generate
from smtui.sandbox.state import ChangeClock, ServiceData

T = TypeVar("T")


def sydney_today() -> dt.date:
    """The default clock: the real date where most of the sandbox's services are."""
    return dt.datetime.now(ZoneInfo("Australia/Sydney")).date()


class World:
    """All services plus the seed, the clock and the id maker."""

    seed: int
    today: dt.date
    service_set: ServiceSet

    def __init__(
        self, seed: int = 7, today: dt.date | None = None, services: ServiceSet = "all"
    ) -> None:
        self.lock = threading.RLock()
        self.clock = ChangeClock()
        self.reset(seed, today or sydney_today(), services)

    # --- whole world -----------------------------------------------------------------------

    def reset(
        self,
        seed: int | None = None,
        today: dt.date | None = None,
        services: ServiceSet | None = None,
    ) -> None:
        """Regenerate from (seed, today); omitted values keep their current setting."""
        with self.lock:
            self.seed = self.seed if seed is None else seed
            self.today = self.today if today is None else today
            self.service_set = self.service_set if services is None else services
            baseline = generate(self.seed, self.today, self.service_set)
            self.services = {s.id: s.copy(self.clock) for s in baseline.services}
            self.ids = baseline.ids.copy()

    def set_today(self, today: dt.date) -> None:
        with self.lock:
            self.today = today

    def state(self) -> dict[str, Any]:
        with self.lock:
            return {"seed": self.seed, "today": self.today, "services": self.service_set}

    def service(self, service_id: str) -> ServiceData:
        svc = self.services.get(service_id)
        if svc is None:
            raise not_found("service", service_id)
        return svc

    def read(self, service_id: str, fn: Callable[[ServiceData], T]) -> T:
        """Run a read under the lock (e.g. take a sorted snapshot of one collection)."""
        with self.lock:
            return fn(self.service(service_id))

    def now(self, svc: ServiceData) -> dt.datetime:
        """A timestamp on the world's clock: today's date at the real time of day."""
        tz = ZoneInfo(svc.timezone)
        clock = dt.datetime.now(tz).time().replace(microsecond=0)
        return dt.datetime.combine(self.today, clock, tzinfo=tz)

    # --- portfolio: profiles ---------------------------------------------------------------

    def _profile(self, svc: ServiceData, profile_id: str) -> Profile:
        profile = svc.profiles.get(profile_id)
        if profile is None:
            raise not_found("profile", profile_id)
        return profile

    def get_profile(self, service_id: str, profile_id: str) -> Profile:
        with self.lock:
            return self._profile(self.service(service_id), profile_id)

    def _check_ref(self, records: Iterable[Any], ref: str | None, own_id: str | None) -> None:
        if ref is None:
            return
        for record in records:
            if record.external_ref == ref and record.id != own_id and not record.archived:
                raise ApiError(
                    409, "external_ref_in_use", f"external_ref {ref!r} is already on {record.id}"
                )

    def _replay(self, svc: ServiceData, key: str, fingerprint: str) -> Any | None:
        seen = svc.idempotency.get(key)
        if seen is None:
            return None
        if seen[0] != fingerprint:
            raise invalid(
                "idempotency_key_reused", "this Idempotency-Key was used with a different body"
            )
        return seen[1]

    def create_profile(
        self, service_id: str, key: str, fingerprint: str, fields: dict[str, Any]
    ) -> Profile:
        with self.lock:
            svc = self.service(service_id)
            replay = self._replay(svc, key, fingerprint)
            if replay is not None:
                return replay
            room_ids = tuple(dict.fromkeys(fields.get("room_ids") or ()))
            for rid in room_ids:
                if rid not in svc.portfolio_rooms:
                    raise invalid("unknown_room", f"no portfolio room {rid!r}")
            self._check_ref(svc.profiles.values(), fields.get("external_ref"), None)
            profile = Profile(
                id=self.ids.portfolio("profile"),
                first_name=fields["first_name"],
                last_name=fields["last_name"],
                birth_date=fields.get("birth_date"),
                archived=False,
                room_ids=room_ids,
                external_ref=fields.get("external_ref"),
            )
            svc.profiles[profile.id] = profile
            svc.idempotency[key] = (fingerprint, profile)
            return profile

    def patch_profile(self, service_id: str, profile_id: str, changes: dict[str, Any]) -> Profile:
        with self.lock:
            svc = self.service(service_id)
            profile = self._profile(svc, profile_id)
            if "external_ref" in changes and not profile.archived:
                self._check_ref(svc.profiles.values(), changes["external_ref"], profile_id)
            profile = dataclasses.replace(profile, **changes)
            svc.profiles[profile_id] = profile
            return profile

    def set_profile_archived(self, service_id: str, profile_id: str, archived: bool) -> Profile:
        with self.lock:
            svc = self.service(service_id)
            profile = self._profile(svc, profile_id)
            if not archived and profile.archived:
                self._check_ref(svc.profiles.values(), profile.external_ref, profile_id)
            profile = dataclasses.replace(profile, archived=archived)
            svc.profiles[profile_id] = profile
            return profile

    def set_invitation(self, service_id: str, profile_id: str, status: str) -> Profile:
        with self.lock:
            svc = self.service(service_id)
            profile = dataclasses.replace(
                self._profile(svc, profile_id),
                invitation_status=status,  # type: ignore[arg-type]
            )
            svc.profiles[profile_id] = profile
            return profile

    # --- portfolio: rooms ------------------------------------------------------------------

    def _proom(self, svc: ServiceData, room_id: str) -> PortfolioRoom:
        room = svc.portfolio_rooms.get(room_id)
        if room is None:
            raise not_found("room", room_id)
        return room

    def create_portfolio_room(
        self, service_id: str, key: str, fingerprint: str, fields: dict[str, Any]
    ) -> PortfolioRoom:
        with self.lock:
            svc = self.service(service_id)
            replay = self._replay(svc, key, fingerprint)
            if replay is not None:
                return replay
            self._check_ref(svc.portfolio_rooms.values(), fields.get("external_ref"), None)
            room = PortfolioRoom(
                self.ids.portfolio("portfolio_room"),
                fields["name"],
                False,
                fields.get("external_ref"),
            )
            svc.portfolio_rooms[room.id] = room
            svc.idempotency[key] = (fingerprint, room)
            return room

    def patch_portfolio_room(
        self, service_id: str, room_id: str, changes: dict[str, Any]
    ) -> PortfolioRoom:
        with self.lock:
            svc = self.service(service_id)
            room = self._proom(svc, room_id)
            if "external_ref" in changes and not room.archived:
                self._check_ref(svc.portfolio_rooms.values(), changes["external_ref"], room_id)
            room = dataclasses.replace(room, **changes)
            svc.portfolio_rooms[room_id] = room
            return room

    def set_room_archived(self, service_id: str, room_id: str, archived: bool) -> PortfolioRoom:
        with self.lock:
            svc = self.service(service_id)
            room = self._proom(svc, room_id)
            if not archived and room.archived:
                self._check_ref(svc.portfolio_rooms.values(), room.external_ref, room_id)
            room = dataclasses.replace(room, archived=archived)
            svc.portfolio_rooms[room_id] = room
            return room

    def set_member(self, service_id: str, room_id: str, profile_id: str, member: bool) -> None:
        with self.lock:
            svc = self.service(service_id)
            self._proom(svc, room_id)
            profile = self._profile(svc, profile_id)
            if member:
                present = room_id in profile.room_ids
                rooms = profile.room_ids if present else (*profile.room_ids, room_id)
            else:
                rooms = tuple(r for r in profile.room_ids if r != room_id)
            svc.profiles[profile_id] = dataclasses.replace(profile, room_ids=rooms)

    # --- CCMS (changed only through the admin API) ------------------------------------------

    def _child(self, svc: ServiceData, child_id: str) -> Child:
        child = svc.children.get(child_id)
        if child is None:
            raise not_found("child", child_id)
        return child

    def _room(self, svc: ServiceData, room_id: str) -> Room:
        room = svc.rooms.get(room_id)
        if room is None:
            raise not_found("room", room_id)
        return room

    def _booking(self, svc: ServiceData, booking_id: str) -> Booking:
        booking = svc.bookings.get(booking_id)
        if booking is None:
            raise not_found("booking", booking_id)
        return booking

    def add_room(self, service_id: str, name: str) -> Room:
        with self.lock:
            svc = self.service(service_id)
            room = Room(self.ids.ccms("room"), name, self.now(svc))
            svc.rooms[room.id] = room
            return room

    def rename_room(self, service_id: str, room_id: str, name: str) -> Room:
        with self.lock:
            svc = self.service(service_id)
            room = dataclasses.replace(
                self._room(svc, room_id), name=name, updated_at=self.now(svc)
            )
            svc.rooms[room_id] = room
            return room

    def add_child(self, service_id: str, fields: dict[str, Any]) -> Child:
        with self.lock:
            svc = self.service(service_id)
            child = Child(
                id=self.ids.ccms("child"),
                first_name=fields["first_name"],
                last_name=fields["last_name"],
                birth_date=fields.get("birth_date"),
                status=fields.get("status", "active"),
                updated_at=self.now(svc),
                preferred_name=fields.get("preferred_name"),
                guardian_emails=tuple(fields.get("guardian_emails") or ()),
            )
            svc.children[child.id] = child
            return child

    def update_child(self, service_id: str, child_id: str, changes: dict[str, Any]) -> Child:
        with self.lock:
            svc = self.service(service_id)
            child = self._child(svc, child_id)
            child = dataclasses.replace(child, **changes, updated_at=self.now(svc))
            svc.children[child_id] = child
            return child

    def add_booking(self, service_id: str, fields: dict[str, Any]) -> Booking:
        with self.lock:
            svc = self.service(service_id)
            self._child(svc, fields["child_id"])
            self._room(svc, fields["room_id"])
            booking = Booking(id=self.ids.ccms("booking"), updated_at=self.now(svc), **fields)
            _check_booking(booking)
            svc.bookings[booking.id] = booking
            return booking

    def update_booking(self, service_id: str, booking_id: str, changes: dict[str, Any]) -> Booking:
        with self.lock:
            svc = self.service(service_id)
            if "room_id" in changes:
                self._room(svc, changes["room_id"])
            booking = self._booking(svc, booking_id)
            booking = dataclasses.replace(booking, **changes, updated_at=self.now(svc))
            _check_booking(booking)
            svc.bookings[booking_id] = booking
            return booking

    def delete_booking(self, service_id: str, booking_id: str) -> None:
        with self.lock:
            svc = self.service(service_id)
            self._booking(svc, booking_id)
            del svc.bookings[booking_id]

    def enrol(
        self, service_id: str, child: dict[str, Any], booking: dict[str, Any]
    ) -> tuple[Child, Booking]:
        """A new child with their first booking, as a centre enrols a family."""
        with self.lock:
            svc = self.service(service_id)
            self._room(svc, booking["room_id"])
            _check_booking(Booking(id="", child_id="", **booking))
            new_child = self.add_child(service_id, child)
            new_booking = self.add_booking(service_id, {**booking, "child_id": new_child.id})
            return new_child, new_booking

    def child_bookings(self, svc: ServiceData, child_id: str) -> list[Booking]:
        return [b for b in svc.bookings.values() if b.child_id == child_id]

    def leave(
        self, service_id: str, child_id: str, last_day: dt.date
    ) -> tuple[Child, list[Booking]]:
        """A child leaves: inactive, bookings end on last_day, later bookings cancelled."""
        with self.lock:
            svc = self.service(service_id)
            child = self.update_child(service_id, child_id, {"status": "inactive"})
            changed = []
            for booking in self.child_bookings(svc, child_id):
                if booking.start_date > last_day:
                    changes: dict[str, Any] = {"status": "cancelled"}
                elif booking.end_date is None or booking.end_date > last_day:
                    changes = {"end_date": last_day}
                else:
                    continue
                changed.append(self.update_booking(service_id, booking.id, changes))
            return child, changed

    def move(
        self, service_id: str, child_id: str, room_id: str, from_day: dt.date
    ) -> list[Booking]:
        """Move a child to another room from a date: current bookings end the day before and
        continue, same days and fortnight, in the new room. Returns the new bookings."""
        with self.lock:
            svc = self.service(service_id)
            self._child(svc, child_id)
            self._room(svc, room_id)
            created = []
            for b in self.child_bookings(svc, child_id):
                running = b.end_date is None or b.end_date >= from_day
                if b.kind != "permanent" or b.status == "cancelled" or not running:
                    continue
                if b.room_id == room_id:
                    continue
                if b.start_date >= from_day:
                    self.update_booking(service_id, b.id, {"room_id": room_id})
                    created.append(svc.bookings[b.id])
                    continue
                self.update_booking(service_id, b.id, {"end_date": from_day - dt.timedelta(days=1)})
                created.append(
                    self.add_booking(
                        service_id,
                        {
                            "child_id": child_id,
                            "room_id": room_id,
                            "start_date": _same_fortnight(b, from_day),
                            "weekdays": b.weekdays,
                            "every": b.every,
                            "kind": b.kind,
                            "status": b.status,
                            "end_date": b.end_date,
                        },
                    )
                )
            return created


def _same_fortnight(booking: Booking, from_day: dt.date) -> dt.date:
    """A start date on or after from_day that keeps a fortnightly booking's week parity."""
    if booking.every == 1:
        return from_day

    def monday(d: dt.date) -> dt.date:
        return d - dt.timedelta(days=d.weekday())

    weeks = (monday(from_day) - monday(booking.start_date)).days // 7
    return from_day + dt.timedelta(weeks=weeks % 2)


def _check_booking(booking: Booking) -> None:
    if booking.end_date is not None and booking.end_date < booking.start_date:
        raise invalid("invalid_booking", "end_date is before start_date")
    if not booking.weekdays or any(d < 1 or d > 7 for d in booking.weekdays):
        raise invalid("invalid_booking", "weekdays must be ISO weekdays 1..7")
