"""Turn matcher proposals into mapping decisions, keeping every decision a person made.

Pure: the engine calls it at setup (re-proposing everything not decided by hand) and on each sync
(proposing only for children and rooms seen for the first time).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping, Sequence

from smtui import rules
from smtui.match import RoomKeys, match_children
from smtui.match.names import room_key
from smtui.records import (
    Booking,
    Child,
    ChildMapping,
    PortfolioRoom,
    Profile,
    Room,
    RoomMapping,
)


def propose_child_mappings(
    children: Sequence[Child],
    profiles: Sequence[Profile],
    existing: Mapping[str, ChildMapping],
    *,
    only_new: bool,
    rooms: RoomKeys | None = None,
) -> list[ChildMapping]:
    """Proposals for active children without a decision that must be kept.

    With ``only_new`` every existing mapping is kept (the service is live); otherwise only manual
    decisions and links already carried out are kept (setup may re-run the matcher freely).
    ``rooms`` (``match_rooms``) and the records' guardian emails are the matcher's domain
    evidence.
    """
    keep = {
        cid: m
        for cid, m in existing.items()
        if only_new or m.origin == "manual" or m.synced_first_name is not None
    }
    todo = [c for c in children if c.id not in keep and c.status == "active"]
    if not todo:
        return []
    taken = {m.profile_id for m in keep.values() if m.action == "link" and m.profile_id}
    free = [p for p in profiles if p.id not in taken]
    return [
        ChildMapping(
            child_id=p.child_id,
            action=p.action,
            profile_id=p.profile_id,
            origin="auto",
            score=p.score,
            reason=p.reason,
            reason_kind=p.kind,
        )
        for p in match_children(todo, free, rooms=rooms)
    ]


def match_rooms(
    rooms: Sequence[Room],
    bookings: Sequence[Booking],
    portfolio_rooms: Sequence[PortfolioRoom],
    profiles: Sequence[Profile],
    room_mappings: Mapping[str, RoomMapping],
    as_of: dt.date,
) -> RoomKeys:
    """Each child's booked rooms and each profile's current rooms, as keys the matcher compares.

    A CCMS room linked to a portfolio room is that room; before rooms are mapped, a room is its
    name as educators retype it (``room_key``). A profile's room counts both ways, so either
    meets it. A child's rooms are the ones it belongs in now (``rules.child_target_rooms``):
    only placed bookings, this week's or the next booked day's.
    """
    ccms_names = {r.id: r.name for r in rooms}
    portfolio_names = {r.id: r.name for r in portfolio_rooms}

    def ccms_key(room_id: str) -> str | None:
        mapping = room_mappings.get(room_id)
        if mapping is not None and mapping.action == "link" and mapping.portfolio_room_id:
            return f"id:{mapping.portfolio_room_id}"
        key = room_key(ccms_names.get(room_id, ""))
        return f"name:{key}" if key else None

    def portfolio_keys(room_id: str) -> set[str]:
        key = room_key(portfolio_names.get(room_id, ""))
        return {f"id:{room_id}", f"name:{key}"} if key else {f"id:{room_id}"}

    by_child: defaultdict[str, list[Booking]] = defaultdict(list)
    for booking in bookings:
        by_child[booking.child_id].append(booking)
    children: dict[str, frozenset[str]] = {}
    for child_id, booked in by_child.items():
        target = rules.child_target_rooms(booked, as_of) or frozenset()
        keys = frozenset(k for k in map(ccms_key, target) if k)
        if keys:
            children[child_id] = keys
    in_rooms = {
        p.id: frozenset(k for r in p.room_ids for k in portfolio_keys(r))
        for p in profiles
        if p.room_ids
    }
    return RoomKeys(children=children, profiles=in_rooms)


def propose_room_mappings(
    rooms: Sequence[Room],
    portfolio_rooms: Sequence[PortfolioRoom],
    existing: Mapping[str, RoomMapping],
) -> list[RoomMapping]:
    """Link each new CCMS room to the portfolio room that already stands for it, else create it."""
    taken = {m.portfolio_room_id for m in existing.values() if m.portfolio_room_id}
    by_ref = {r.external_ref: r for r in portfolio_rooms if r.external_ref and not r.archived}
    by_name: dict[str, PortfolioRoom] = {}
    for r in sorted(portfolio_rooms, key=lambda r: (r.archived, r.id)):
        by_name.setdefault(room_key(r.name), r)
    out: list[RoomMapping] = []
    for room in sorted(rooms, key=lambda r: r.id):
        if room.id in existing:
            continue
        match = by_ref.get(room.id) or by_name.get(room_key(room.name))
        if match is not None and match.id not in taken and not match.archived:
            taken.add(match.id)
            out.append(RoomMapping(room.id, "link", match.id, "auto"))
        else:
            out.append(RoomMapping(room.id, "create", None, "auto"))
    return out
