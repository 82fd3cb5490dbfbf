"""A small client for the sandbox admin API, for tests of the sync engine and for demos."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
from pydantic import TypeAdapter
from pydantic_core import to_jsonable_python

from smtui.records import Booking, Child, Profile, Room

_CHILD = TypeAdapter(Child)
_BOOKING = TypeAdapter(Booking)
_BOOKINGS = TypeAdapter(list[Booking])
_ROOM = TypeAdapter(Room)
_PROFILE = TypeAdapter(Profile)


class AdminError(Exception):
    """The admin API refused a call; ``code`` is the contract's machine-readable code."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code


class AdminClient:
    """``AdminClient(sandbox.admin_url, sandbox.admin_token)``; every call returns records."""

    def __init__(self, url: str, token: str, *, timeout: float = 30.0) -> None:
        self._http = httpx.Client(
            base_url=url.rstrip("/"),
            headers={"Authorization": f"Bearer {token}"},
            timeout=timeout,
        )

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        json = to_jsonable_python(body) if body is not None else None
        response = self._http.request(method, path, json=json)
        if response.status_code >= 400:
            try:
                error = response.json()["error"]
                code, message = error["code"], error["message"]
            except (ValueError, KeyError, TypeError):
                code, message = "http_error", response.text[:200]
            raise AdminError(response.status_code, code, message)
        return response.json() if response.content else None

    # --- world -------------------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        return self._call("GET", "/state")

    def reset(
        self, seed: int | None = None, today: dt.date | None = None, services: str | None = None
    ) -> dict[str, Any]:
        body = {"seed": seed, "today": today, "services": services}
        return self._call("POST", "/reset", {k: v for k, v in body.items() if v is not None})

    def set_today(self, today: dt.date) -> dict[str, Any]:
        return self._call("PUT", "/clock", {"today": today})

    def services(self) -> list[dict[str, Any]]:
        return self._call("GET", "/services")

    # --- CCMS ----------------------------------------------------------------------------------

    def enrol(
        self,
        service_id: str,
        *,
        first_name: str,
        last_name: str,
        room_id: str,
        weekdays: tuple[int, ...] | list[int],
        birth_date: dt.date | None = None,
        start_date: dt.date | None = None,
        end_date: dt.date | None = None,
        every: int = 1,
        kind: str = "permanent",
        preferred_name: str | None = None,
        guardian_emails: tuple[str, ...] | list[str] = (),
    ) -> tuple[Child, Booking]:
        body = {
            "first_name": first_name,
            "last_name": last_name,
            "room_id": room_id,
            "weekdays": list(weekdays),
            "birth_date": birth_date,
            "start_date": start_date,
            "end_date": end_date,
            "every": every,
            "kind": kind,
            "preferred_name": preferred_name,
            "guardian_emails": list(guardian_emails),
        }
        data = self._call("POST", f"/services/{service_id}/children", body)
        return _CHILD.validate_python(data["child"]), _BOOKING.validate_python(data["booking"])

    def update_child(self, service_id: str, child_id: str, **changes: Any) -> Child:
        data = self._call("PATCH", f"/services/{service_id}/children/{child_id}", changes)
        return _CHILD.validate_python(data)

    def leave(
        self, service_id: str, child_id: str, last_day: dt.date | None = None
    ) -> tuple[Child, list[Booking]]:
        body = {"last_day": last_day} if last_day else {}
        data = self._call("POST", f"/services/{service_id}/children/{child_id}/leave", body)
        return _CHILD.validate_python(data["child"]), _BOOKINGS.validate_python(data["bookings"])

    def move(
        self, service_id: str, child_id: str, room_id: str, from_day: dt.date | None = None
    ) -> list[Booking]:
        body: dict[str, Any] = {"room_id": room_id}
        if from_day:
            body["from_day"] = from_day
        data = self._call("POST", f"/services/{service_id}/children/{child_id}/move", body)
        return _BOOKINGS.validate_python(data["bookings"])

    def add_booking(
        self,
        service_id: str,
        *,
        child_id: str,
        room_id: str,
        start_date: dt.date,
        weekdays: tuple[int, ...] | list[int],
        every: int = 1,
        kind: str = "permanent",
        status: str = "placed",
        end_date: dt.date | None = None,
    ) -> Booking:
        body = {
            "child_id": child_id,
            "room_id": room_id,
            "start_date": start_date,
            "weekdays": list(weekdays),
            "every": every,
            "kind": kind,
            "status": status,
            "end_date": end_date,
        }
        return _BOOKING.validate_python(
            self._call("POST", f"/services/{service_id}/bookings", body)
        )

    def update_booking(self, service_id: str, booking_id: str, **changes: Any) -> Booking:
        if "weekdays" in changes:
            changes["weekdays"] = list(changes["weekdays"])
        data = self._call("PATCH", f"/services/{service_id}/bookings/{booking_id}", changes)
        return _BOOKING.validate_python(data)

    def end_booking(self, service_id: str, booking_id: str, end_date: dt.date) -> Booking:
        return self.update_booking(service_id, booking_id, end_date=end_date)

    def cancel_booking(self, service_id: str, booking_id: str) -> Booking:
        return self.update_booking(service_id, booking_id, status="cancelled")

    def delete_booking(self, service_id: str, booking_id: str) -> None:
        self._call("DELETE", f"/services/{service_id}/bookings/{booking_id}")

    def add_room(self, service_id: str, name: str) -> Room:
        return _ROOM.validate_python(
            self._call("POST", f"/services/{service_id}/rooms", {"name": name})
        )

    def rename_room(self, service_id: str, room_id: str, name: str) -> Room:
        data = self._call("PATCH", f"/services/{service_id}/rooms/{room_id}", {"name": name})
        return _ROOM.validate_python(data)

    # --- portfolio -------------------------------------------------------------------------

    def set_invitation(self, service_id: str, profile_id: str, status: str) -> Profile:
        path = f"/services/{service_id}/profiles/{profile_id}/invitation"
        return _PROFILE.validate_python(self._call("PUT", path, {"status": status}))

    # --- faults ----------------------------------------------------------------------------

    def faults(self) -> dict[str, Any]:
        return self._call("GET", "/faults")

    def set_faults(self, **config: Any) -> dict[str, Any]:
        """E.g. ``set_faults(rate=1, kinds=["500"], count=2, scope="list")``: the next two
        list calls fail with 500, then faults stop."""
        return self._call("PUT", "/faults", config)

    def clear_faults(self) -> dict[str, Any]:
        return self._call("DELETE", "/faults")

    # --- lifecycle ---------------------------------------------------------------------------

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> AdminClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
