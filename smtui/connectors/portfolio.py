"""Client for the portfolio app ("Storypark"): profiles, rooms and room membership.

There is no call that sends a parent invitation, because the contract has none and smtui must
never send one.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from pydantic import TypeAdapter

from smtui.connectors.http import ApiClient, ListResult, Page
from smtui.records import PortfolioRoom, PortfolioSnapshot, Profile

_PROFILE = TypeAdapter(Profile)
_ROOM = TypeAdapter(PortfolioRoom)
_PROFILES = TypeAdapter(Page[Profile])
_ROOMS = TypeAdapter(Page[PortfolioRoom])


class _Unset(enum.Enum):
    """Marks a PATCH field the caller did not give, since None means "clear it"."""

    UNSET = enum.auto()


_UNSET = _Unset.UNSET


def _iso_date(value: dt.date | str | None) -> str | None:
    """Dates go out as ISO strings; a string is checked so a bad one fails here, not at the
    server (plans carry dates as ISO strings)."""
    if value is None:
        return None
    if isinstance(value, str):
        return dt.date.fromisoformat(value).isoformat()
    return value.isoformat()


def _seg(ident: str) -> str:
    return quote(ident, safe="")


class PortfolioClient(ApiClient):
    """``PortfolioClient(base_url, token)`` for one service; use as a context manager."""

    system = "portfolio"

    # --- reads -------------------------------------------------------------------------------

    def profiles(self, updated_since: str | None = None) -> ListResult[Profile]:
        return self._read_all("/profiles", _PROFILES, "profiles", updated_since)

    def rooms(self, updated_since: str | None = None) -> ListResult[PortfolioRoom]:
        return self._read_all("/rooms", _ROOMS, "rooms", updated_since)

    def snapshot(self) -> PortfolioSnapshot:
        """Both lists; complete only if each was read to the end."""
        profiles, rooms = self.profiles(), self.rooms()
        return PortfolioSnapshot(
            profiles=profiles.items,
            rooms=rooms.items,
            complete=profiles.complete and rooms.complete,
            problems=tuple(p.problem for p in (profiles, rooms) if p.problem),
        )

    def get_profile(self, profile_id: str) -> Profile:
        return self._call("GET", f"/profiles/{_seg(profile_id)}", _PROFILE)

    # --- profiles ------------------------------------------------------------------------------

    def create_profile(
        self,
        *,
        first_name: str,
        last_name: str,
        birth_date: dt.date | str | None = None,
        external_ref: str | None = None,
        room_ids: Sequence[str] = (),
        idempotency_key: str,
    ) -> Profile:
        """Create once: a retry, or a resumed run, with the same key gets the same profile."""
        body = {
            "first_name": first_name,
            "last_name": last_name,
            "birth_date": _iso_date(birth_date),
            "external_ref": external_ref,
            "room_ids": list(room_ids),
        }
        return self._call(
            "POST", "/profiles", _PROFILE, body=body, headers={"Idempotency-Key": idempotency_key}
        )

    def update_profile(
        self,
        profile_id: str,
        *,
        first_name: str | _Unset = _UNSET,
        last_name: str | _Unset = _UNSET,
        birth_date: dt.date | str | _Unset | None = _UNSET,
        external_ref: str | _Unset | None = _UNSET,
    ) -> Profile:
        """PATCH only the fields given, so a concurrent edit of another field survives."""
        body: dict[str, Any] = {}
        if first_name is not _UNSET:
            body["first_name"] = first_name
        if last_name is not _UNSET:
            body["last_name"] = last_name
        if birth_date is not _UNSET:
            body["birth_date"] = _iso_date(birth_date)
        if external_ref is not _UNSET:
            body["external_ref"] = external_ref
        return self._call("PATCH", f"/profiles/{_seg(profile_id)}", _PROFILE, body=body)

    def archive_profile(self, profile_id: str) -> Profile:
        return self._call("POST", f"/profiles/{_seg(profile_id)}/archive", _PROFILE)

    def unarchive_profile(self, profile_id: str) -> Profile:
        return self._call("POST", f"/profiles/{_seg(profile_id)}/unarchive", _PROFILE)

    # --- rooms ---------------------------------------------------------------------------------

    def create_room(
        self, *, name: str, external_ref: str | None = None, idempotency_key: str
    ) -> PortfolioRoom:
        body = {"name": name, "external_ref": external_ref}
        return self._call(
            "POST", "/rooms", _ROOM, body=body, headers={"Idempotency-Key": idempotency_key}
        )

    def update_room(
        self,
        room_id: str,
        *,
        name: str | _Unset = _UNSET,
        external_ref: str | _Unset | None = _UNSET,
    ) -> PortfolioRoom:
        """Rename and/or (re)link a room; only the fields given are sent."""
        body: dict[str, Any] = {}
        if name is not _UNSET:
            body["name"] = name
        if external_ref is not _UNSET:
            body["external_ref"] = external_ref
        return self._call("PATCH", f"/rooms/{_seg(room_id)}", _ROOM, body=body)

    def archive_room(self, room_id: str) -> PortfolioRoom:
        return self._call("POST", f"/rooms/{_seg(room_id)}/archive", _ROOM)

    def unarchive_room(self, room_id: str) -> PortfolioRoom:
        return self._call("POST", f"/rooms/{_seg(room_id)}/unarchive", _ROOM)

    # --- membership ----------------------------------------------------------------------------

    def add_member(self, room_id: str, profile_id: str) -> None:
        self._request("PUT", f"/rooms/{_seg(room_id)}/members/{_seg(profile_id)}")

    def remove_member(self, room_id: str, profile_id: str) -> None:
        self._request("DELETE", f"/rooms/{_seg(room_id)}/members/{_seg(profile_id)}")
