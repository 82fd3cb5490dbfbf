"""Plain records shared by every layer.

The two HTTP contracts are expressed as these dataclasses: the sandbox serves them, the connectors
validate responses into them (pydantic validates dataclasses), the store caches them, and the pure
engine (match, rules, plan) computes over them. Keeping one definition means a contract change is
one edit, and the pure core never sees an ORM row or an HTTP response. What a bearer token may
look like lives here too, below the token sources and the clients that both check it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

#: The time zone of a service added without one (and of `smtui service add` without --timezone,
#: unless the config file says otherwise): one constant the records, the store and the CLI share.
DEFAULT_TIMEZONE = "Australia/Sydney"

ChildStatus = Literal["active", "inactive", "archived"]
BookingKind = Literal["permanent", "casual"]
BookingStatus = Literal["placed", "suspended", "cancelled"]
InvitationStatus = Literal["none", "pending", "accepted"]


# --- CCMS ("Storypark Manage"): read-only to us --------------------------------------------


@dataclass(frozen=True, slots=True)
class Child:
    id: str
    first_name: str
    last_name: str
    birth_date: dt.date | None
    status: ChildStatus
    updated_at: dt.datetime
    preferred_name: str | None = None
    #: The child's contacts' email addresses, lower-cased: evidence for matching only.
    guardian_emails: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Room:
    id: str
    name: str
    updated_at: dt.datetime


@dataclass(frozen=True, slots=True)
class Booking:
    """A recurring (or one-off) attendance pattern.

    Occurs on every date d with start_date <= d <= end_date (open-ended when end_date is
    None) whose ISO weekday (1=Monday .. 7=Sunday) is in ``weekdays``; when ``every`` is 2, only
    in weeks an even number of weeks after the week of start_date. A casual booking is the same
    shape, usually with start_date == end_date.
    """

    id: str
    child_id: str
    room_id: str
    start_date: dt.date
    weekdays: tuple[int, ...]
    every: Literal[1, 2]
    kind: BookingKind
    status: BookingStatus
    end_date: dt.date | None = None
    updated_at: dt.datetime | None = None


# --- Portfolio app ("Storypark") ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Profile:
    id: str
    first_name: str
    last_name: str
    birth_date: dt.date | None
    archived: bool
    room_ids: tuple[str, ...] = ()
    external_ref: str | None = None
    invitation_status: InvitationStatus = "none"
    #: The family members invited to the profile, lower-cased: evidence for matching only.
    guardian_emails: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PortfolioRoom:
    id: str
    name: str
    archived: bool
    external_ref: str | None = None


# --- Snapshots: one full read of one side --------------------------------------------------


@dataclass(frozen=True, slots=True)
class CcmsSnapshot:
    children: tuple[Child, ...]
    rooms: tuple[Room, ...]
    bookings: tuple[Booking, ...]
    complete: bool = True
    problems: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PortfolioSnapshot:
    profiles: tuple[Profile, ...]
    rooms: tuple[PortfolioRoom, ...]
    complete: bool = True
    problems: tuple[str, ...] = ()


# --- Decisions a person (or the matcher) made ----------------------------------------------

ChildAction = Literal["link", "create", "ignore", "review"]
RoomAction = Literal["link", "create", "ignore"]
Origin = Literal["auto", "manual"]


@dataclass(frozen=True, slots=True)
class ChildMapping:
    """How one CCMS child maps to the portfolio.

    ``link`` with a profile_id is integrated; ``create`` without one is waiting to be created;
    ``review`` holds a suggestion (profile_id) a person must decide; ``ignore`` is "don't add".
    The synced_* fields are the CCMS values last pushed, for the three-way field carry-over.
    ``release_profile_id`` is the profile a person moved this child away from while it still
    carried the child's CCMS id: the next run clears the id from it (kept, not archived) before
    linking or creating the new one, and never mistakes it for a profile a killed run created.
    """

    child_id: str
    action: ChildAction
    profile_id: str | None = None
    origin: Origin = "auto"
    score: float = 0.0
    reason: str = ""
    synced_first_name: str | None = None
    synced_last_name: str | None = None
    synced_birth_date: dt.date | None = None
    release_profile_id: str | None = None
    #: The matcher's reason as data (``smtui.match.ReasonKind``), for grouping reviews.
    reason_kind: str | None = None


@dataclass(frozen=True, slots=True)
class RoomMapping:
    """How one CCMS room maps to a portfolio room.

    ``ignore`` covers both "don't add" and a room a person unlinked (to keep it over a holiday
    closure): the engine never touches it. ``portfolio_room_id`` is kept on unlink so relinking
    restores it. ``release_room_id`` is, like ChildMapping's, the room a person chose "create"
    over while it still carried the CCMS room id.
    """

    room_id: str
    action: RoomAction
    portfolio_room_id: str | None = None
    origin: Origin = "auto"
    release_room_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ServiceSettings:
    """How a service's days are counted and how hard a sync may push: what the pure rules need.

    The one definition of these settings: the store's ServiceConfig extends it and the service
    table's columns are derived from that, so a new setting is one field here (and a migration).
    """

    timezone: str = DEFAULT_TIMEZONE
    max_archive_children_pct: float = 10.0
    max_archive_children_min: int = 3
    max_remove_rooms_pct: float = 25.0
    max_remove_rooms_min: int = 2
    #: the archive and removal holds count what was done over this many days, not per run
    hold_window_days: float = 7.0
    #: a complete CCMS child list this much smaller than the integrated count is suspect
    suspicious_drop_pct: float = 50.0


# --- What a bearer token may look like --------------------------------------------------


def token_problem(token: str) -> str | None:
    """Why ``token`` cannot be sent as a bearer token, in words that never quote it, or None.

    A token is one line of printable ASCII (space to ``~``): it goes into an HTTP header, and
    httpx would otherwise fail with an error that prints the whole header. Here, below both,
    because where a token comes from (smtui.tokens) and the clients that send it
    (smtui.connectors) both refuse one that is not. Positions are 1-based characters of the
    stripped token; they say where to look without showing what is there.
    """
    for index, char in enumerate(token, start=1):
        if char in "\r\n":
            return f"holds more than one line (a line break at character {index})"
        if not char.isascii():
            return f"holds a non-ASCII character (at character {index})"
        if not char.isprintable():
            return f"holds a control character (at character {index})"
    return None
