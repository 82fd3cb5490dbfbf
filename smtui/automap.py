"""Turn matcher proposals into mapping decisions, keeping every decision a person made.

Pure: the engine calls it at setup (re-proposing everything not decided by hand) and on each sync
(proposing only for children and rooms seen for the first time).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence

from smtui.match import match_children
from smtui.records import Child, ChildMapping, PortfolioRoom, Profile, Room, RoomMapping


def propose_child_mappings(
    children: Sequence[Child],
    profiles: Sequence[Profile],
    existing: Mapping[str, ChildMapping],
    *,
    only_new: bool,
) -> list[ChildMapping]:
    """Proposals for active children without a decision that must be kept.

    With ``only_new`` every existing mapping is kept (the service is live); otherwise only manual
    decisions and links already carried out are kept (setup may re-run the matcher freely).
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
        for p in match_children(todo, free)
    ]


def room_key(name: str) -> str:
    """A room name as educators retype it: "Possums Room" and "possums" are the same room."""
    text = unicodedata.normalize("NFKD", name.casefold())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = re.sub(r"[^a-z0-9]+", " ", text)
    words = [w for w in text.split() if w not in {"room", "the"}]
    return " ".join(words)


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
