"""Decisions per child and room: proposals, a person's changes (with undo), checks, CSV."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from smtui import rules
from smtui.automap import propose_room_mappings
from smtui.engine.errors import EngineError
from smtui.engine.matching import propose_children
from smtui.engine.reading import cached_snapshots
from smtui.engine.services import service_config
from smtui.match import REASON_LABELS, candidates_for, search_profiles
from smtui.plan import plan_sync, shared_profiles
from smtui.records import Booking, Child, ChildMapping, PortfolioRoom, Profile, RoomMapping
from smtui.store import Store
from smtui.views import Candidate, ChildRow, RoomRow

#: The group of a review whose mapping was written before reasons were kept as data (or names a
#: kind this version has no label for): nothing is guessed from its reason sentence.
OTHER = "other"
OTHER_LABEL = "other (proposed before reasons were kept)"
#: ``REASON_LABELS`` by plain string: a stored kind is a string
LABELS: dict[str, str] = {str(k): v for k, v in REASON_LABELS.items()}


@dataclass(frozen=True, slots=True)
class GridRow(ChildRow):
    """A child's row with the matcher's reason as data (a key of ``REASON_LABELS``, or
    ``OTHER``), so the reviews are grouped from the rows a front end already holds."""

    reason_kind: str = OTHER


@dataclass(frozen=True, slots=True)
class ReviewGroup:
    """Children in review for the same reason: a person decides them together."""

    kind: str
    label: str
    child_ids: tuple[str, ...]


def reason_label(kind: str) -> str:
    return LABELS.get(kind, OTHER_LABEL)


def review_groups(rows: Iterable[GridRow]) -> list[ReviewGroup]:
    """The rows in review grouped by reason kind: largest group first, ties in the order of
    ``REASON_LABELS`` (then ``OTHER``), rows in their given order (as ``match.group_reviews``)."""
    groups: dict[str, list[str]] = {}
    for r in rows:
        if r.action == "review":
            groups.setdefault(r.reason_kind, []).append(r.child_id)
    order = {k: n for n, k in enumerate(LABELS)}
    ranked = sorted(groups.items(), key=lambda kv: (-len(kv[1]), order.get(kv[0], len(order))))
    return [ReviewGroup(k, reason_label(k), tuple(ids)) for k, ids in ranked]


#: why a review in a group is left in review when the group is accepted
SKIP_NO_SUGGESTION = "no suggested profile"
SKIP_LINKED = "its profile is linked to another child"
SKIP_CARRIED = "its profile is another child's portfolio"
SKIP_SHARED = "its profile is suggested for another child in the group too"


def acceptable(
    maps: Mapping[str, ChildMapping], profiles: Mapping[str, Profile], ids: Iterable[str]
) -> tuple[list[str], dict[str, int]]:
    """Which of these reviews can have their suggestion accepted together, and how many of the
    rest are left for each reason: a profile another child is linked to (``link_conflict``'s
    refusal), one that carries another CCMS child's id (its override needs a person), or one
    suggested for two children here (which one is the person's call)."""
    taken = {
        m.profile_id: m.child_id
        for m in maps.values()
        if m.action in ("link", "create") and m.profile_id
    }
    wanted: list[tuple[str, str]] = []
    skipped: Counter[str] = Counter()
    for cid in ids:
        m = maps.get(cid)
        if m is None or m.action != "review":
            continue
        if m.profile_id is None:
            skipped[SKIP_NO_SUGGESTION] += 1
        else:
            wanted.append((cid, m.profile_id))
    times = Counter(pid for _, pid in wanted)
    ok: list[str] = []
    for cid, pid in wanted:
        profile = profiles.get(pid)
        if taken.get(pid, cid) != cid:
            skipped[SKIP_LINKED] += 1
        elif profile is not None and profile.external_ref not in (None, cid):
            skipped[SKIP_CARRIED] += 1
        elif times[pid] > 1:
            skipped[SKIP_SHARED] += 1
        else:
            ok.append(cid)
    return ok, dict(skipped)


@dataclass(frozen=True, slots=True)
class MappingCheck:
    problems: tuple[str, ...]
    undecided_reviews: int


def propose(
    store: Store, name: str, *, only_new: bool | None = None, who: str = "smtui (auto)"
) -> int:
    """Run the matcher; before setup it re-proposes all but manual decisions, after only new.

    ``only_new`` forces proposing for unmapped children only (a run never re-decides what the
    person confirmed). Returns how many mappings were proposed.
    """
    cfg = service_config(store, name)
    ccms, portfolio = cached_snapshots(store, name)
    if only_new is None:
        only_new = cfg.set_up_at is not None
    # rooms first: a child's booked rooms are evidence for its profile, by mapping once mapped
    rooms = propose_room_mappings(ccms.rooms, portfolio.rooms, store.room_mappings(name))
    store.set_room_mappings(name, rooms, who=who, reason="auto-match")
    proposed = propose_children(
        ccms,
        portfolio,
        store.child_mappings(name),
        store.room_mappings(name),
        only_new=only_new,
        as_of=rules.today_in(cfg.timezone),
    )
    store.set_child_mappings(name, proposed, who=who, reason="auto-match")
    return len(proposed) + len(rooms)


def full_name(first: str, last: str) -> str:
    return f"{first} {last}".strip()


def child_row(
    child: Child,
    m: ChildMapping | None,
    profiles: Mapping[str, Profile],
    rooms: tuple[str, ...],
    *,
    changed: bool,
) -> GridRow:
    """A child's row in the grid (``child_rows`` and the session's edits build it alike)."""
    profile = profiles.get(m.profile_id) if m and m.profile_id else None
    kind = m.reason_kind if m and m.reason_kind in LABELS else OTHER
    return GridRow(
        child_id=child.id,
        name=full_name(child.first_name, child.last_name),
        birth_date=child.birth_date,
        status=child.status,
        action=m.action if m else "review",
        profile_id=m.profile_id if m else None,
        profile_name=full_name(profile.first_name, profile.last_name) if profile else None,
        score=m.score if m else 0.0,
        reason=m.reason if m else "not matched yet",
        rooms=rooms,
        origin=m.origin if m else "auto",
        changed=changed,
        reason_kind=kind,
    )


def child_rows(store: Store, name: str, as_of: dt.date | None = None) -> list[GridRow]:
    cfg = service_config(store, name)
    ccms, portfolio = cached_snapshots(store, name)
    as_of = as_of or rules.today_in(cfg.timezone)
    maps = store.child_mappings(name)
    plan = plan_sync(ccms, portfolio, maps, store.room_mappings(name), store.settings(name), as_of)
    touched = {op.child_id for op in plan.operations if op.child_id}
    profiles = {p.id: p for p in portfolio.profiles}
    room_names = {r.id: r.name for r in ccms.rooms}
    bookings_by_child: dict[str, list[Booking]] = {}
    for b in ccms.bookings:
        bookings_by_child.setdefault(b.child_id, []).append(b)
    rows = []
    for child in sorted(ccms.children, key=lambda c: (c.last_name.casefold(), c.first_name)):
        m = maps.get(child.id)
        if m is None and child.status != "active":
            continue
        target = rules.child_target_rooms(bookings_by_child.get(child.id, ()), as_of)
        rooms = tuple(sorted(room_names.get(r, r) for r in (target or ())))
        rows.append(child_row(child, m, profiles, rooms, changed=child.id in touched))
    return rows


def room_rows(store: Store, name: str, as_of: dt.date | None = None) -> list[RoomRow]:
    cfg = service_config(store, name)
    ccms, portfolio = cached_snapshots(store, name)
    as_of = as_of or rules.today_in(cfg.timezone)
    activity = rules.room_activity(ccms.bookings, as_of)
    maps = store.room_mappings(name)
    prooms = {r.id: r for r in portfolio.rooms}
    rows = []
    for room in sorted(ccms.rooms, key=lambda r: r.name.casefold()):
        m = maps.get(room.id)
        count = activity.get(room.id, 0)
        managed = m is not None and m.action != "ignore"
        proom = prooms.get(m.portfolio_room_id) if m and m.portfolio_room_id else None
        rows.append(
            RoomRow(
                room_id=room.id,
                name=room.name,
                active=count > 0,
                occurrences_in_window=count,
                removal_date=rules.room_removal_date(ccms.bookings, room.id, as_of)
                if managed
                else None,
                action=m.action if m else "create",
                portfolio_room_id=m.portfolio_room_id if m else None,
                portfolio_room_name=proom.name if proom else None,
            )
        )
    return rows


def profile_candidates(
    store: Store, name: str, child_id: str, query: str = "", *, limit: int = 50
) -> list[Candidate]:
    """Profiles for the link picker: best candidates for the child, or matches for typed text."""
    ccms, portfolio = cached_snapshots(store, name)
    profiles = {p.id: p for p in portfolio.profiles}
    linked_to = {
        m.profile_id: m.child_id
        for m in store.child_mappings(name).values()
        if m.action == "link" and m.profile_id
    }
    if query.strip():
        scored = [
            (pid, score, "matches what you typed")
            for pid, score in search_profiles(query, portfolio.profiles, limit=limit)
        ]
    else:
        child = next((c for c in ccms.children if c.id == child_id), None)
        if child is None:
            raise EngineError(f"no child {child_id} in {name}")
        best = candidates_for(child, portfolio.profiles, limit=limit)
        seen = {c.profile_id for c in best}
        rest = [(pid, s) for pid, s in search_profiles("", portfolio.profiles, limit=limit)]
        scored = [(c.profile_id, c.score, c.reason) for c in best] + [
            (pid, 0.0, "") for pid, _s in rest if pid not in seen
        ]
    out = []
    for pid, score, reason in scored[:limit]:
        p = profiles[pid]
        out.append(
            Candidate(
                profile_id=pid,
                name=full_name(p.first_name, p.last_name),
                birth_date=p.birth_date,
                score=score,
                reason=reason,
                archived=p.archived,
                linked_to=linked_to.get(pid),
            )
        )
    return out


def decide_child(
    before: ChildMapping,
    action: str,
    profile_id: str | None,
    carrier_id: str | None,
    *,
    reason: str,
) -> ChildMapping:
    """A person's decision for one child, as the mapping the next run carries out.

    ``carrier_id`` is the live profile that carries the child's CCMS id in the last read. A
    different profile or a new one means that profile is released first (the plan says so), and
    the values last synced belong to the old profile, so the new one starts as a first link
    (only its empty fields are filled). "Don't add" keeps nothing: the plan releases the profile.
    """
    same = action == "link" and profile_id == before.profile_id and before.action == "link"
    return dataclasses.replace(
        before,
        action=action,  # type: ignore[arg-type]
        profile_id=profile_id if action in ("link", "review") else None,
        origin="manual",
        score=100.0 if action == "link" else before.score,
        reason=reason,
        release_profile_id=carrier_id if action == "create" and carrier_id else None,
        synced_first_name=before.synced_first_name if same else None,
        synced_last_name=before.synced_last_name if same else None,
        synced_birth_date=before.synced_birth_date if same else None,
    )


def decide_room(
    before: RoomMapping, action: str, portfolio_room_id: str | None, carrier_id: str | None
) -> RoomMapping:
    """A person's decision for one room. Unlinking keeps the portfolio room (relink restores
    it); "create" forgets it and remembers the room that carries the CCMS id, to be released."""
    if action == "ignore":
        kept = portfolio_room_id or before.portfolio_room_id
        return RoomMapping(before.room_id, "ignore", kept, "manual")
    if action == "create":
        # the room it had, even one archived in a closure, is never restored in its place
        moved_from = carrier_id or before.portfolio_room_id
        return RoomMapping(before.room_id, "create", None, "manual", moved_from)
    return RoomMapping(before.room_id, "link", portfolio_room_id, "manual")


CHILD_REASONS = {"link": "linked by a person", "create": "created by a person's choice"}


def child_decisions(
    maps: Mapping[str, ChildMapping],
    carriers: Mapping[str, str],
    ids: Iterable[str],
    action: str,
    profile_id: str | None,
) -> tuple[list[ChildMapping], list[ChildMapping]]:
    """(previous, updated) mappings for a person's decision on these children.

    ``accept`` turns a review row's suggestion into a link and leaves other rows as they are.
    The one loop behind ``set_children`` and the session's edits (``decide_child``).
    """
    previous: list[ChildMapping] = []
    updated: list[ChildMapping] = []
    for cid in ids:
        before = maps.get(cid) or ChildMapping(cid, "review")
        if action == "accept":
            if before.action != "review" or before.profile_id is None:
                continue
            after = dataclasses.replace(before, action="link", origin="manual")
        else:
            reason = CHILD_REASONS.get(action, "don't add")
            after = decide_child(before, action, profile_id, carriers.get(cid), reason=reason)
        previous.append(before)
        updated.append(after)
    return previous, updated


def room_decisions(
    maps: Mapping[str, RoomMapping],
    carriers: Mapping[str, str],
    ids: Iterable[str],
    action: str,
    portfolio_room_id: str | None,
) -> tuple[list[RoomMapping], list[RoomMapping]]:
    """(previous, updated) mappings for a person's decision on these rooms (``decide_room``);
    ``relink`` links a room again to the portfolio room it was unlinked from."""
    previous: list[RoomMapping] = []
    updated: list[RoomMapping] = []
    for rid in ids:
        before = maps.get(rid) or RoomMapping(rid, "create")
        if action == "relink":
            if before.portfolio_room_id is None:
                raise EngineError(f"room {rid} was never linked: use link or create")
            after = decide_room(before, "link", before.portfolio_room_id, carriers.get(rid))
        else:
            after = decide_room(before, action, portfolio_room_id, carriers.get(rid))
        previous.append(before)
        updated.append(after)
    return previous, updated


def set_children(
    store: Store,
    name: str,
    child_ids: Sequence[str],
    action: str,
    *,
    profile_id: str | None = None,
    who: str,
) -> list[ChildMapping]:
    """Record a person's decision for these children; returns what it replaced, for undo.

    ``accept`` turns a review row's suggestion into a link and leaves other rows as they are.
    """
    if action not in ("link", "create", "ignore", "accept"):
        raise EngineError(f"unknown action {action!r}: use link, create, ignore or accept")
    if action == "link" and (profile_id is None or len(child_ids) != 1):
        raise EngineError("link needs exactly one child and a profile id")
    maps = store.child_mappings(name)
    ccms, portfolio = cached_snapshots(store, name)
    unknown = set(child_ids) - {c.id for c in ccms.children}
    if unknown:
        raise EngineError(f"no child {sorted(unknown)[0]} in {name}'s last read")
    if action == "link" and profile_id not in {p.id for p in portfolio.profiles}:
        raise EngineError(f"no profile {profile_id} in {name}'s last read")
    carriers = _carriers(portfolio.profiles)
    previous, updated = child_decisions(maps, carriers, child_ids, action, profile_id)
    store.set_child_mappings(name, updated, who=who, reason=f"set {action}")
    return previous


def restore_children(
    store: Store, name: str, previous: Iterable[ChildMapping], *, who: str
) -> None:
    store.set_child_mappings(name, list(previous), who=who, reason="undo")


def set_rooms(
    store: Store,
    name: str,
    room_ids: Sequence[str],
    action: str,
    *,
    portfolio_room_id: str | None = None,
    who: str,
) -> list[RoomMapping]:
    """Map rooms; ``ignore`` unlinks (keeping the portfolio room id so ``relink`` restores it)."""
    if action not in ("link", "create", "ignore", "relink"):
        raise EngineError(f"unknown room action {action!r}: use link, create, ignore or relink")
    maps = store.room_mappings(name)
    ccms, portfolio = cached_snapshots(store, name)
    unknown = set(room_ids) - {r.id for r in ccms.rooms}
    if unknown:
        raise EngineError(f"no room {sorted(unknown)[0]} in {name}'s last read")
    if action == "link" and portfolio_room_id not in {r.id for r in portfolio.rooms}:
        raise EngineError(f"no portfolio room {portfolio_room_id} in {name}'s last read")
    carriers = _carriers(portfolio.rooms)
    previous, updated = room_decisions(maps, carriers, room_ids, action, portfolio_room_id)
    store.set_room_mappings(name, updated, who=who, reason=f"set {action}")
    return previous


def _carriers(records: Iterable[Profile | PortfolioRoom]) -> dict[str, str]:
    """CCMS id -> the live portfolio record carrying it (the portfolio allows one)."""
    return {r.external_ref: r.id for r in records if r.external_ref and not r.archived}


def restore_rooms(store: Store, name: str, previous: Iterable[RoomMapping], *, who: str) -> None:
    store.set_room_mappings(name, list(previous), who=who, reason="undo")


def portfolio_rooms(store: Store, name: str) -> list[tuple[str, str]]:
    """(id, name) of the portfolio rooms a CCMS room can be linked to, live rooms first."""
    _, portfolio = cached_snapshots(store, name)
    rooms = sorted(portfolio.rooms, key=lambda r: (r.archived, r.name.casefold(), r.id))
    return [(r.id, r.name + (" (archived)" if r.archived else "")) for r in rooms]


def check_mapping(store: Store, name: str) -> MappingCheck:
    """What must be fixed before setup: profiles linked twice; how many reviews are undecided."""
    ccms, _ = cached_snapshots(store, name)
    names = {c.id: full_name(c.first_name, c.last_name) for c in ccms.children}
    maps = store.child_mappings(name).values()
    reviews = sum(1 for m in maps if m.action == "review")
    problems = tuple(
        f"profile {pid} is linked to {len(cids)} children: "
        + ", ".join(names.get(c, c) for c in cids)
        for pid, cids in shared_profiles(maps).items()
    )
    return MappingCheck(problems=problems, undecided_reviews=reviews)


def link_conflict(
    store: Store, name: str, child_id: str, profile_id: str
) -> tuple[str, bool] | None:
    """Why linking this child to this profile looks like another child's portfolio, and
    whether a person may override it; None when nothing is wrong.

    The mapping of another child points at it, or the profile carries another CCMS child's id
    (an archived leaver's profile, say). The TUI shows the same in its picker ("linked to");
    here, with no picker, the CLI asks for the decision to be made on purpose.
    """
    ccms, portfolio = cached_snapshots(store, name)
    names = {c.id: full_name(c.first_name, c.last_name) for c in ccms.children}
    for other in store.child_mappings(name).values():
        integrated = other.action in ("link", "create")
        if integrated and other.child_id != child_id and other.profile_id == profile_id:
            who = names.get(other.child_id, other.child_id)
            # never overridable: the planner would leave both children alone
            return f"profile {profile_id} is already linked to {who} ({other.child_id})", False
    profile = next((p for p in portfolio.profiles if p.id == profile_id), None)
    if profile is not None and profile.external_ref not in (None, child_id):
        who = names.get(profile.external_ref, "a child no longer in the CCMS")
        state = "archived profile" if profile.archived else "profile"
        return f"{profile_id} is the {state} of {who} ({profile.external_ref})", True
    return None


MAPPING_COLUMNS = ("kind", "ccms_id", "name", "action", "target_id", "origin", "score", "reason")


def export_mappings(store: Store, name: str) -> list[tuple[str, ...]]:
    ccms, _ = cached_snapshots(store, name)
    names = {c.id: full_name(c.first_name, c.last_name) for c in ccms.children}
    room_names = {r.id: r.name for r in ccms.rooms}
    rows: list[tuple[str, ...]] = []
    for m in sorted(store.child_mappings(name).values(), key=lambda m: m.child_id):
        rows.append(
            (
                "child",
                m.child_id,
                names.get(m.child_id, ""),
                m.action,
                m.profile_id or "",
                m.origin,
                f"{m.score:.1f}",
                m.reason,
            )
        )
    for r in sorted(store.room_mappings(name).values(), key=lambda m: m.room_id):
        rows.append(
            (
                "room",
                r.room_id,
                room_names.get(r.room_id, ""),
                r.action,
                r.portfolio_room_id or "",
                r.origin,
                "",
                "",
            )
        )
    return rows


def import_mappings(store: Store, name: str, path: os.PathLike[str] | str, *, who: str) -> int:
    """Apply an edited export. Every row is validated first; one bad row changes nothing."""
    import csv

    ccms, portfolio = cached_snapshots(store, name)
    children, rooms = {c.id for c in ccms.children}, {r.id for r in ccms.rooms}
    profiles, prooms = {p.id for p in portfolio.profiles}, {r.id for r in portfolio.rooms}
    child_maps, room_maps = store.child_mappings(name), store.room_mappings(name)
    carriers, room_carriers = _carriers(portfolio.profiles), _carriers(portfolio.rooms)
    new_children: list[ChildMapping] = []
    new_rooms: list[RoomMapping] = []
    with open(path, newline="", encoding="utf-8-sig") as fh:  # -sig: Excel's "CSV UTF-8"
        try:
            reader = csv.DictReader(fh, strict=True)
            columns = set(reader.fieldnames or ())
            rows = list(reader)
        except (UnicodeDecodeError, csv.Error) as exc:
            raise EngineError(f"{path}: not a readable UTF-8 CSV file ({exc})") from None
        missing = {"kind", "ccms_id", "action", "target_id"} - columns
        if missing:
            raise EngineError(f"{path}: missing columns {', '.join(sorted(missing))}")
        bad: list[str] = []  # every bad row is found; one of them stops the whole import
        bad_lines: list[int] = []
        first_line: dict[str, int] = {}
        for line, row in enumerate(rows, start=2):
            kind, cid = (row.get("kind") or "").strip(), (row.get("ccms_id") or "").strip()
            action = (row.get("action") or "").strip()
            target = (row.get("target_id") or "").strip() or None
            where = f"{path} line {line}"
            problems_before = len(bad)
            if kind == "child":
                if cid in first_line:
                    bad.append(f"{where}: child {cid} is also on line {first_line[cid]}")
                first_line.setdefault(cid, line)
                if cid not in children:
                    bad.append(f"{where}: no child {cid} in {name}")
                elif action not in ("link", "create", "ignore", "review"):
                    bad.append(f"{where}: action {action!r} is not link/create/ignore/review")
                elif action == "link" and target not in profiles:
                    bad.append(f"{where}: link needs an existing profile id in target_id")
                if len(bad) > problems_before:
                    bad_lines.append(line)
                    continue
                before = child_maps.get(cid) or ChildMapping(cid, "review")
                if (before.action, before.profile_id) != (action, target):
                    new_children.append(
                        decide_child(
                            before, action, target, carriers.get(cid), reason="imported from CSV"
                        )
                    )
            elif kind == "room":
                if cid not in rooms:
                    bad.append(f"{where}: no room {cid} in {name}")
                elif action not in ("link", "create", "ignore"):
                    bad.append(f"{where}: action {action!r} is not link/create/ignore")
                elif action == "link" and target not in prooms:
                    bad.append(f"{where}: link needs an existing portfolio room id in target_id")
                if len(bad) > problems_before:
                    bad_lines.append(line)
                    continue
                before_room = room_maps.get(cid) or RoomMapping(cid, "create")
                if (before_room.action, before_room.portfolio_room_id) != (action, target):
                    new_rooms.append(
                        decide_room(before_room, action, target, room_carriers.get(cid))
                    )
            else:
                bad.append(f"{where}: kind must be child or room, got {kind!r}")
                bad_lines.append(line)
    if bad:
        more = ", ".join(map(str, bad_lines[1:11])) + (" …" if len(bad_lines) > 11 else "")
        also = f"; also bad: line {more}" if more else ""
        raise EngineError(f"{bad[0]}{also}; nothing was imported")
    imported = {m.child_id: m for m in new_children}
    after = {**child_maps, **imported}
    for profile_id, cids in shared_profiles(after.values()).items():
        if imported.keys().isdisjoint(cids):
            continue  # shared before this file (the planner holds both): not this file's doing
        raise EngineError(
            f"{path}: profile {profile_id} would be linked to {len(cids)} children "
            f"({', '.join(cids)}); nothing was imported"
        )
    store.set_child_mappings(name, new_children, who=who, reason="CSV import")
    store.set_room_mappings(name, new_rooms, who=who, reason="CSV import")
    return len(new_children) + len(new_rooms)
