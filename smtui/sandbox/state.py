"""One service's records on both systems, as plain dicts of the shared frozen records."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeVar

from smtui.records import Booking, Child, PortfolioRoom, Profile, Room

V = TypeVar("V")


class ChangeClock:
    """The world's change counter: every write of a record takes the next mark. It is not the
    sandbox's fake clock (tests move that backwards and forwards), and a reset never winds it
    back, so a mark handed out before a reset still means "everything written since"."""

    def __init__(self) -> None:
        self.value = 0

    def tick(self) -> int:
        self.value += 1
        return self.value


class Tracked(dict[str, V]):
    """A collection that remembers when each record was last written (``marks``), so a list can
    answer ``updated_since``: whatever path writes a record, the mark moves with it."""

    def __init__(self, clock: ChangeClock, items: dict[str, V] | None = None) -> None:
        super().__init__()
        self.clock = clock
        self.marks: dict[str, int] = {}
        for key, value in (items or {}).items():
            self[key] = value

    def __setitem__(self, key: str, value: V) -> None:
        super().__setitem__(key, value)
        self.marks[key] = self.clock.tick()

    def __delitem__(self, key: str) -> None:
        super().__delitem__(key)
        self.marks.pop(key, None)


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
    clock: ChangeClock = field(default_factory=ChangeClock)
    children: dict[str, Child] = field(default_factory=dict)
    rooms: dict[str, Room] = field(default_factory=dict)
    bookings: dict[str, Booking] = field(default_factory=dict)
    profiles: dict[str, Profile] = field(default_factory=dict)
    portfolio_rooms: dict[str, PortfolioRoom] = field(default_factory=dict)
    landmarks: dict[str, str] = field(default_factory=dict)
    idempotency: dict[str, tuple[str, object]] = field(default_factory=dict)

    def copy(self, clock: ChangeClock | None = None) -> ServiceData:
        """A copy safe to mutate (the records are frozen, so copying the dicts is enough)
        whose collections mark every write on ``clock`` (the world's), copies included."""
        clock = clock or ChangeClock()
        return ServiceData(
            id=self.id,
            name=self.name,
            timezone=self.timezone,
            clock=clock,
            children=Tracked(clock, self.children),
            rooms=Tracked(clock, self.rooms),
            bookings=Tracked(clock, self.bookings),
            profiles=Tracked(clock, self.profiles),
            portfolio_rooms=Tracked(clock, self.portfolio_rooms),
            landmarks=dict(self.landmarks),
            idempotency=dict(self.idempotency),
        )
