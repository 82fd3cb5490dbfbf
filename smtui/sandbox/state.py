"""One service's records on both systems, as plain dicts of the shared frozen records."""

from __future__ import annotations

from dataclasses import dataclass, field

from smtui.records import Booking, Child, PortfolioRoom, Profile, Room


@dataclass
class ServiceData:
    """Everything the sandbox knows about one service.

    ``landmarks`` names the records that exist to exercise a rule (e.g. the holiday-closure
    room), so tests find them structurally instead of hard-coding ids. ``idempotency`` maps a
    create's Idempotency-Key to (request fingerprint, first response).
    """

    id: str
    name: str
    timezone: str
    children: dict[str, Child] = field(default_factory=dict)
    rooms: dict[str, Room] = field(default_factory=dict)
    bookings: dict[str, Booking] = field(default_factory=dict)
    profiles: dict[str, Profile] = field(default_factory=dict)
    portfolio_rooms: dict[str, PortfolioRoom] = field(default_factory=dict)
    landmarks: dict[str, str] = field(default_factory=dict)
    idempotency: dict[str, tuple[str, object]] = field(default_factory=dict)

    def copy(self) -> ServiceData:
        """A copy safe to mutate: the records are frozen, so copying the dicts is enough."""
        return ServiceData(
            id=self.id,
            name=self.name,
            timezone=self.timezone,
            children=dict(self.children),
            rooms=dict(self.rooms),
            bookings=dict(self.bookings),
            profiles=dict(self.profiles),
            portfolio_rooms=dict(self.portfolio_rooms),
            landmarks=dict(self.landmarks),
            idempotency=dict(self.idempotency),
        )
