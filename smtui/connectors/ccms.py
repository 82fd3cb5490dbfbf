"""Client for the CCMS ("Storypark Manage"): read-only, the source of truth for the sync."""

from __future__ import annotations

from pydantic import TypeAdapter

from smtui.connectors.http import ApiClient, ListResult, Page
from smtui.records import Booking, CcmsSnapshot, Child, Room

_CHILDREN = TypeAdapter(Page[Child])
_ROOMS = TypeAdapter(Page[Room])
_BOOKINGS = TypeAdapter(Page[Booking])


class CcmsClient(ApiClient):
    """``CcmsClient(base_url, token)`` for one service; use as a context manager."""

    system = "CCMS"

    def children(self, updated_since: str | None = None) -> ListResult[Child]:
        return self._read_all("/children", _CHILDREN, "children", updated_since)

    def rooms(self, updated_since: str | None = None) -> ListResult[Room]:
        return self._read_all("/rooms", _ROOMS, "rooms", updated_since)

    def bookings(self, updated_since: str | None = None) -> ListResult[Booking]:
        return self._read_all("/bookings", _BOOKINGS, "bookings", updated_since)

    def snapshot(self) -> CcmsSnapshot:
        """All three lists; complete only if every one was read to the end."""
        children, rooms, bookings = self.children(), self.rooms(), self.bookings()
        parts = (children, rooms, bookings)
        return CcmsSnapshot(
            children=children.items,
            rooms=rooms.items,
            bookings=bookings.items,
            complete=all(p.complete for p in parts),
            problems=tuple(p.problem for p in parts if p.problem),
        )
