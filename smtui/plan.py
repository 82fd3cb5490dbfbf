"""Plan one sync: the operations that bring the portfolio in step with the CCMS, as data.

Pure: a plan is a function of both snapshots, the mappings, the settings and the date, so it can
be previewed, confirmed, held for approval and re-checked for staleness (``fingerprint``) before
apply performs it. The rules live in smtui.rules and docs/sync-rules.md.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from array import array
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from operator import attrgetter
from typing import Any, Literal, get_args

from smtui.records import (
    Booking,
    CcmsSnapshot,
    Child,
    ChildMapping,
    PortfolioRoom,
    PortfolioSnapshot,
    Profile,
    RoomMapping,
    ServiceSettings,
)
from smtui.rules import first_occurrences, integrated, target_rooms_from_firsts, window

# In apply order: a record a person moved away from gives up its CCMS id before another takes
# it (the portfolio refuses one id on two live records), rooms exist before children are put in
# them, adds before removes so no child is left without a room mid-run, and rooms are emptied
# before they are archived.
OpKind = Literal[
    "release_room",
    "create_room",
    "link_room",
    "unarchive_room",
    "release_profile",
    "create_profile",
    "link_profile",
    "update_profile",
    "unarchive_profile",
    "add_membership",
    "remove_membership",
    "archive_profile",
    "archive_room",
]
KINDS: tuple[OpKind, ...] = get_args(OpKind)
_ORDER = {k: i for i, k in enumerate(KINDS)}
SYNCED_FIELDS = ("first_name", "last_name", "birth_date")


@dataclass(frozen=True, slots=True)
class Operation:
    """One change to the portfolio.

    ``id`` is derived from kind, subject ids and a hash of the payload, so the same change planned
    twice has the same id (usable as an Idempotency-Key). ``portfolio_room_id`` is None when the
    room is created earlier in the same plan: apply resolves ``room_id`` through the room mapping
    it recorded. ``fields`` values are JSON-able (dates as ISO strings). create_profile's
    ``room_ids`` are CCMS room ids, resolved the same way.

    After success apply records: create_room / link_room / unarchive_room -> RoomMapping(room_id,
    portfolio room);
    create_profile / link_profile / update_profile -> ChildMapping(child_id, 'link', profile_id)
    with synced_* set to the child's CCMS values. An update_profile with no PATCH fields only
    records them: the portfolio already agrees.
    """

    id: str
    kind: OpKind
    label: str
    child_id: str | None = None
    room_id: str | None = None
    profile_id: str | None = None
    portfolio_room_id: str | None = None
    fields: tuple[tuple[str, Any], ...] = ()
    held: bool = False


WarningKind = Literal[
    "shared_profile",
    "linked_without_profile",
    "profile_missing",
    "waiting_for_room",
    "room_linked_without_target",
    "room_missing",
    "room_not_in_ccms",
    "read_incomplete",
    "read_suspicious",
    "held",
]


@dataclass(frozen=True, slots=True)
class PlanWarning:
    """Something a person should know before confirming, as data: front ends render ``text``
    and find a child's or a room's warnings by id, never by searching the text."""

    kind: WarningKind
    text: str
    child_ids: tuple[str, ...] = ()
    room_ids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RecentChanges:
    """What earlier runs archived and removed within the hold window: the holds count those
    too, so a wave of leavers split over several runs is held like one run's."""

    profiles_archived: int = 0
    rooms_removed: int = 0


@dataclass(frozen=True, slots=True)
class Plan:
    """One sync's operations in apply order, with what a person must see before confirming."""

    operations: tuple[Operation, ...]
    fingerprint: str
    as_of: dt.date
    warnings: tuple[PlanWarning, ...] = ()
    needs_review: tuple[str, ...] = ()

    @property
    def held(self) -> tuple[Operation, ...]:
        """Archive ops over a threshold: not applied until a person approves."""
        return tuple(op for op in self.operations if op.held)

    @property
    def held_fingerprint(self) -> str:
        """Names the set of held operations, so an approval applies the set a person saw."""
        ids = sorted(op.id for op in self.operations if op.held)
        return hashlib.sha256("\n".join(ids).encode()).hexdigest()[:16] if ids else ""

    def counts(self) -> dict[str, int]:
        """Operations per kind, in apply order, kinds with none left out."""
        out: dict[str, int] = {}
        for op in self.operations:
            out[op.kind] = out.get(op.kind, 0) + 1
        return {k: out[k] for k in KINDS if k in out}

    @property
    def is_empty(self) -> bool:
        """Nothing to do (every synced value to record rides on a profile operation)."""
        return not self.operations


# --- ids and fingerprints ------------------------------------------------------------------


def _jsonable(value: Any) -> Any:
    """Dates travel as ISO strings: the payload is journaled as JSON and sent as JSON."""
    return value.isoformat() if isinstance(value, dt.date) else value


def make_operation(
    kind: OpKind,
    label: str,
    *,
    child_id: str | None = None,
    room_id: str | None = None,
    profile_id: str | None = None,
    portfolio_room_id: str | None = None,
    fields: tuple[tuple[str, Any], ...] = (),
) -> Operation:
    """Build an Operation with its stable id (the label is not part of the identity).

    ``fields`` values must already be JSON-able (see _jsonable).
    """
    payload = json.dumps(
        [kind, child_id, room_id, profile_id, portfolio_room_id, fields], separators=(",", ":")
    )
    digest = hashlib.sha256(payload.encode()).hexdigest()[:10]
    subject = ":".join(s for s in (child_id, room_id, profile_id, portfolio_room_id) if s)
    return Operation(
        id=f"{kind}:{subject}:{digest}",
        kind=kind,
        label=label,
        child_id=child_id,
        room_id=room_id,
        profile_id=profile_id,
        portfolio_room_id=portfolio_room_id,
        fields=fields,
    )


def _column(values: list[Any]) -> bytes:
    """One field of every record as bytes, encoded by type: hashing 300k bookings through
    generic reprs of dates took seconds, ordinals and joins take tens of milliseconds."""
    kinds = set(map(type, values)) - {type(None)}
    if kinds == {str}:
        return "\x1f".join([v if v is not None else "\x00" for v in values]).encode()
    if kinds == {dt.date}:
        return array("q", [v.toordinal() if v is not None else 0 for v in values]).tobytes()
    if kinds == {dt.datetime}:
        if all(v is None or v.tzinfo is not None for v in values):
            return array("d", [v.timestamp() if v is not None else 0.0 for v in values]).tobytes()
        return "\x1f".join([v.isoformat() if v is not None else "" for v in values]).encode()
    if kinds == {tuple}:
        try:  # weekdays: small ints
            return b"\xff".join(map(bytes, values))
        except (TypeError, ValueError):
            pass
    return repr(values).encode()


def _rows(records: list[Any]) -> bytes:
    if not records:
        return b"[]"
    cols = [_column(list(map(attrgetter(f.name), records))) for f in fields(records[0])]
    return b"".join(len(c).to_bytes(8, "big") + c for c in cols)


def _canonical(records: Any) -> bytes:
    """Sorted by id, so the order pages came back in does not change the fingerprint."""
    return _rows(sorted(records, key=attrgetter("id")))


def _canonical_maps(maps: Mapping[str, Any]) -> bytes:
    return _rows([v for _, v in sorted(maps.items())])


# --- planning ------------------------------------------------------------------------------


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _name(child: Child | None, profile: Profile | None, child_id: str) -> str:
    if child is not None:
        return f"{child.first_name} {child.last_name}".strip() or child_id
    if profile is not None:
        return f"{profile.first_name} {profile.last_name}".strip() or child_id
    return child_id


def field_changes(
    child: Child, mapping: ChildMapping, profile: Profile
) -> tuple[tuple[str, Any], ...]:
    """Three-way carry-over: the fields to PATCH.

    A field is pushed when the CCMS value differs from the value last synced, so an educator's
    edit survives until the CCMS value changes. On first link (nothing synced yet) only empty
    portfolio fields are filled. An empty CCMS value is never pushed over a portfolio value.
    """
    new: dict[str, str | dt.date | None] = {
        "first_name": child.first_name,
        "last_name": child.last_name,
        "birth_date": child.birth_date,
    }
    have: dict[str, str | dt.date | None] = {
        "first_name": profile.first_name,
        "last_name": profile.last_name,
        "birth_date": profile.birth_date,
    }
    last: dict[str, str | dt.date | None] = {
        "first_name": mapping.synced_first_name,
        "last_name": mapping.synced_last_name,
        "birth_date": mapping.synced_birth_date,
    }
    first_link = all(v is None for v in last.values())
    changes: list[tuple[str, Any]] = []
    for name in SYNCED_FIELDS:
        value = new[name]
        if _empty(value):
            continue
        push = _empty(have[name]) if first_link else value not in (last[name], have[name])
        if push:
            changes.append((name, _jsonable(value)))
    return tuple(changes)


@dataclass(eq=False, repr=False)
class _Planner:
    """One planning pass over what a plan depends on; a class only to share the indexes
    between the steps."""

    ccms: CcmsSnapshot
    portfolio: PortfolioSnapshot
    child_maps: Mapping[str, ChildMapping]
    room_maps: Mapping[str, RoomMapping]
    settings: ServiceSettings
    as_of: dt.date
    recent: RecentChanges

    def __post_init__(self) -> None:
        self.start, self.end = window(self.as_of)
        self.ops: list[Operation] = []
        self.archive_profiles: list[Operation] = []
        self.archive_rooms: list[Operation] = []
        self.warnings: list[PlanWarning] = []
        self.needs_review: list[str] = []
        self.waiting_for_room: list[tuple[str, str]] = []  # (child id, name)
        self.ccms_rooms = {r.id: r for r in self.ccms.rooms}
        self.prooms: dict[str, PortfolioRoom] = {r.id: r for r in self.portfolio.rooms}
        self.profiles: dict[str, Profile] = {p.id: p for p in self.portfolio.profiles}
        self.live_profiles = {p.id for p in self.portfolio.profiles if not p.archived}
        # CCMS room id -> portfolio room id, None when created in this plan
        self.managed: dict[str, str | None] = {}
        self.managed_pids: dict[str, str] = {}  # portfolio room id -> CCMS room id
        self.restored: set[str] = set()  # archived portfolio rooms this plan unarchives
        self.integrated = 0
        self._index_bookings(self.ccms.bookings)

    def fingerprint(self) -> str:
        """sha256 over everything the plan depends on: a run re-checks it to refuse a plan
        whose inputs changed since a person saw it."""
        h = hashlib.sha256()
        ccms, portfolio = self.ccms, self.portfolio
        for part in (
            _canonical(ccms.children),
            _canonical(ccms.rooms),
            _canonical(ccms.bookings),
            repr((ccms.complete, ccms.problems)).encode(),
            _canonical(portfolio.profiles),
            _canonical(portfolio.rooms),
            repr((portfolio.complete, portfolio.problems)).encode(),
            _canonical_maps(self.child_maps),
            _canonical_maps(self.room_maps),
            repr(self.settings).encode(),
            self.as_of.isoformat().encode(),
            repr(self.recent).encode(),
        ):
            h.update(len(part).to_bytes(8, "big"))
            h.update(part)
        return h.hexdigest()

    def _index_bookings(self, bookings: tuple[Booking, ...]) -> None:
        """One pass: each booking's first occurrence in the window, by room and by child."""
        self.active_rooms: set[str] = set()
        self.firsts_by_child: dict[str, list[tuple[dt.date, str]]] = {}
        by_child = self.firsts_by_child
        for b, d in first_occurrences(bookings, self.start, self.end):
            self.active_rooms.add(b.room_id)
            if b.child_id in by_child:
                by_child[b.child_id].append((d, b.room_id))
            else:
                by_child[b.child_id] = [(d, b.room_id)]

    def room_name(self, room_id: str) -> str:
        room = self.ccms_rooms.get(room_id)
        if room is not None:
            return room.name
        pid = self.managed.get(room_id)
        proom = self.prooms.get(pid) if pid else None
        return proom.name if proom is not None else room_id

    def targets(self, child_id: str) -> frozenset[str] | None:
        return target_rooms_from_firsts(self.firsts_by_child.get(child_id, ()), self.start)

    # --- rooms ---

    def plan_rooms(self) -> None:
        by_ref = {
            r.external_ref: r for r in self.portfolio.rooms if r.external_ref and not r.archived
        }
        archived_by_ref = {  # rooms closed before; the first by id when there are several
            r.external_ref: r
            for r in sorted(self.portfolio.rooms, key=attrgetter("id"), reverse=True)
            if r.external_ref and r.archived
        }
        for rid in sorted(set(self.ccms_rooms) | set(self.room_maps)):
            m = self.room_maps.get(rid)
            active = rid in self.active_rooms
            if m is not None and m.action == "ignore":
                continue
            pid = m.portfolio_room_id if m is not None else None
            if m is not None and m.action == "link" and pid is None:
                self.warnings.append(
                    PlanWarning(
                        "room_linked_without_target",
                        f"room {rid}: linked without a portfolio room; choose one",
                        room_ids=(rid,),
                    )
                )
                continue
            carrier = by_ref.get(rid)  # the live room carrying this CCMS id, if any
            released = m.release_room_id if m is not None else None
            if pid is None:
                if not active:
                    continue
                if carrier is not None and carrier.id != released:
                    self._adopt_room(rid, carrier)  # a room we created whose mapping was lost
                    continue
                if carrier is not None:
                    self._release_room(rid, carrier, "a new room is created for it")
                restorable = archived_by_ref.get(rid)
                if restorable is None or restorable.id == released:
                    self._create_room(rid, carrier)
                    continue
                # an archived room carries this CCMS id (its mapping was lost): restore it
                pid = restorable.id
            proom = self.prooms.get(pid)
            if (
                proom is not None
                and proom.archived
                and carrier is not None
                and carrier.id != pid
                and (m is None or m.origin == "auto")
            ):
                # the room was recreated while the mapping kept the closed one: no person
                # chose the closed room, so the live one is adopted rather than a second restored
                if active:
                    self._adopt_room(rid, carrier)
                continue
            if proom is None:
                if self.portfolio.complete:
                    self.warnings.append(
                        PlanWarning(
                            "room_missing",
                            f"room {rid}: its portfolio room {pid} is not in the portfolio; "
                            "left alone",
                            room_ids=(rid,),
                        )
                    )
                continue
            if proom.archived:
                if not active:
                    continue
                if pid in self.restored:  # two CCMS rooms mapped to it: one restore is enough
                    self.managed[rid] = pid
                    continue
                # back after a holiday closure: the same room, with its history, not a new one
                self.restored.add(pid)
                self.ops.append(
                    make_operation(
                        "unarchive_room",
                        f"restore room {self.room_name(rid)} (booked again)",
                        room_id=rid,
                        portfolio_room_id=pid,
                    )
                )
            relinked = carrier if carrier is not None and carrier.id != pid else None
            if relinked is not None:
                self._release_room(rid, relinked, f"it is now linked to {proom.name}")
            self.managed[rid] = pid
            self.managed_pids.setdefault(pid, rid)
            if proom.external_ref != rid:
                label = (
                    f"relink room {self.room_name(rid)}: from {relinked.name} ({relinked.id}) "
                    f"to {proom.name} ({pid})"
                    if relinked is not None
                    else f"link room {self.room_name(rid)}"
                )
                self.ops.append(
                    make_operation(
                        "link_room",
                        label,
                        room_id=rid,
                        portfolio_room_id=pid,
                        fields=(("external_ref", rid),),
                    )
                )
            if not active:
                self.archive_rooms.append(
                    make_operation(
                        "archive_room",
                        f"remove room {self.room_name(rid)} (no bookings "
                        f"{self.start.isoformat()} to {self.end.isoformat()})",
                        room_id=rid,
                        portfolio_room_id=pid,
                    )
                )

    def _release_room(self, rid: str, carrier: PortfolioRoom, why: str) -> None:
        """A room a person moved away from gives up the CCMS id and is otherwise left as it
        is (its children stay members): the portfolio allows one live room per id."""
        self.ops.append(
            make_operation(
                "release_room",
                f"release room {carrier.name} ({carrier.id}) from {self.room_name(rid)}: "
                f"{why}; the old room is kept as it is",
                room_id=rid,
                portfolio_room_id=carrier.id,
                fields=(("external_ref", None),),
            )
        )

    def _adopt_room(self, rid: str, existing: PortfolioRoom) -> None:
        # A room we created before but whose mapping was lost: adopt it, never duplicate.
        self.managed[rid] = existing.id
        self.managed_pids.setdefault(existing.id, rid)
        self.ops.append(
            make_operation(
                "link_room",
                f"link room {existing.name} (found by its external reference)",
                room_id=rid,
                portfolio_room_id=existing.id,
                fields=(("external_ref", rid),),
            )
        )

    def _create_room(self, rid: str, replaced: PortfolioRoom | None) -> None:
        room = self.ccms_rooms.get(rid)
        if room is None:
            self.warnings.append(
                PlanWarning(
                    "room_not_in_ccms",
                    f"room {rid}: booked but not in the CCMS room list; not created",
                    room_ids=(rid,),
                )
            )
            return
        self.managed[rid] = None
        how = f" (replacing {replaced.name}, {replaced.id})" if replaced is not None else ""
        self.ops.append(
            make_operation(
                "create_room",
                f"create room {room.name}{how}",
                room_id=rid,
                fields=(("name", room.name), ("external_ref", rid)),
            )
        )

    # --- children ---

    def plan_children(self) -> None:
        children = {c.id: c for c in self.ccms.children}
        by_ref = {
            p.external_ref: p for p in self.portfolio.profiles if p.external_ref and not p.archived
        }
        odd: list[PlanWarning] = []  # per-child warnings, sorted once at the end
        shared = shared_profiles(self.child_maps.values())
        for pid, cids in shared.items():
            who = ", ".join(f"{_name(children.get(c), None, c)} ({c})" for c in cids)
            odd.append(
                PlanWarning(
                    "shared_profile",
                    f"profile {pid} is linked to {len(cids)} children, {who}: nothing is done "
                    "for them until a person links all but one elsewhere",
                    child_ids=cids,
                )
            )
        blocked = {cid for cids in shared.values() for cid in cids}
        # Order does not matter here: operations are sorted by plan_sync, reports below.
        for cid in (set(children) | set(self.child_maps)) - blocked:
            m = self.child_maps.get(cid)
            child = children.get(cid)
            active = child is not None and child.status == "active"
            if m is None or m.action == "review":
                if active:
                    self.needs_review.append(cid)
                continue
            carrier = by_ref.get(cid)  # the live profile carrying this CCMS id, if any
            if m.action == "ignore":
                if carrier is not None:
                    self._release_profile(
                        child, carrier, cid, "don't add: the profile is kept, not archived"
                    )
                continue
            if m.profile_id is None:
                if m.action == "link":
                    if active:
                        odd.append(
                            PlanWarning(
                                "linked_without_profile",
                                f"child {cid}: linked without a profile; choose one",
                                child_ids=(cid,),
                            )
                        )
                elif not active:
                    if carrier is not None and carrier.id == m.release_profile_id:
                        # left before its new profile was made: the old one still gives up the id
                        self._release_profile(child, carrier, cid, "a person chose a new profile")
                elif child is not None:
                    if carrier is not None and carrier.id != m.release_profile_id:
                        # a profile a killed run created: adopt it, never create a second
                        self._linked_child(child, m, carrier, adopted=True)
                    else:
                        if carrier is not None:
                            self._release_profile(
                                child, carrier, cid, "a new profile is created instead"
                            )
                        self._create_profile(child, carrier)
                continue
            profile = self.profiles.get(m.profile_id)
            if profile is None:
                if active and self.portfolio.complete:  # else it may be on a page not read
                    odd.append(
                        PlanWarning(
                            "profile_missing",
                            f"child {cid}: its profile {m.profile_id} is not in the portfolio",
                            child_ids=(cid,),
                        )
                    )
                continue
            replaced = carrier if carrier is not None and carrier.id != profile.id else None
            if replaced is not None:
                self._release_profile(child, replaced, cid, f"linked to {profile.id} instead")
            if integrated(m, self.live_profiles):
                self.integrated += 1
            if active and child is not None:
                self._linked_child(child, m, profile, adopted=False, replaced=replaced)
            elif not profile.archived:
                why = "left the CCMS" if child is None else f"{child.status} in the CCMS"
                self.archive_profiles.append(
                    make_operation(
                        "archive_profile",
                        f"archive {_name(child, profile, cid)} ({why})",
                        child_id=cid,
                        profile_id=profile.id,
                    )
                )
        self.warnings.extend(sorted(odd, key=attrgetter("text")))
        if self.waiting_for_room:
            shown = sorted(self.waiting_for_room, key=lambda cn: cn[1])
            self.warnings.append(
                PlanWarning(
                    "waiting_for_room",
                    f"{len(shown)} child(ren) to create have no booked portfolio room "
                    f"from {self.start.isoformat()} to {self.end.isoformat()}; created once "
                    "booked: "
                    + ", ".join(f"{n} ({c})" for c, n in shown[:10])
                    + (" …" if len(shown) > 10 else ""),
                    child_ids=tuple(sorted(c for c, _ in shown)),
                )
            )

    def _release_profile(self, child: Child | None, carrier: Profile, cid: str, why: str) -> None:
        """The profile a person moved a child away from gives up the CCMS id, first, and is
        otherwise left as it is: unarchived, in its rooms, with its stories."""
        self.ops.append(
            make_operation(
                "release_profile",
                f"release profile {carrier.id} from {_name(child, carrier, cid)}: {why}",
                child_id=cid,
                profile_id=carrier.id,
                fields=(("external_ref", None),),
            )
        )

    def _create_profile(self, child: Child, replaced: Profile | None) -> None:
        targets = self.targets(child.id) or frozenset()
        rooms = tuple(sorted(rid for rid in targets if rid in self.managed))
        if not rooms:
            self.waiting_for_room.append((child.id, _name(child, None, child.id)))
            return
        names = ", ".join(self.room_name(rid) for rid in rooms)
        how = f" (instead of profile {replaced.id})" if replaced is not None else ""
        self.ops.append(
            make_operation(
                "create_profile",
                f"create profile for {_name(child, None, child.id)} in {names}{how}",
                child_id=child.id,
                fields=(
                    ("first_name", child.first_name),
                    ("last_name", child.last_name),
                    ("birth_date", _jsonable(child.birth_date)),
                    ("external_ref", child.id),
                    ("room_ids", rooms),
                ),
            )
        )

    def _linked_child(
        self,
        child: Child,
        m: ChildMapping,
        profile: Profile,
        *,
        adopted: bool,
        replaced: Profile | None = None,
    ) -> None:
        cid, pid = child.id, profile.id
        name = f"{child.first_name} {child.last_name}".strip() or cid
        recorded = (m.synced_first_name, m.synced_last_name, m.synced_birth_date)
        # the CCMS values differ from the ones last recorded (or none are): the op records them
        to_record = recorded != (child.first_name, child.last_name, child.birth_date)
        changes = field_changes(child, m, profile) if to_record else ()
        if profile.external_ref != cid or adopted:
            how = " (found by its external reference)" if adopted else ""
            label = (
                f"relink {name}: from {replaced.id} to {pid}"
                if replaced is not None
                else f"link {name} to profile {pid}{how}"
            )
            self.ops.append(
                make_operation(
                    "link_profile",
                    label,
                    child_id=cid,
                    profile_id=pid,
                    fields=(("external_ref", cid), *changes),
                )
            )
        elif to_record:
            # With no field to PATCH the op still records the synced values after success, so
            # a later CCMS change is recognised as one.
            what = ", ".join(n.replace("_", " ") for n, _ in changes)
            label = f"update {name}: {what}" if changes else f"record {name}'s CCMS details"
            self.ops.append(
                make_operation(
                    "update_profile",
                    label,
                    child_id=cid,
                    profile_id=pid,
                    fields=changes,
                )
            )
        if profile.archived:
            self.ops.append(
                make_operation(
                    "unarchive_profile",
                    f"unarchive {name} (active in the CCMS again)",
                    child_id=cid,
                    profile_id=pid,
                )
            )
        self._memberships(cid, name, profile)

    def _memberships(self, cid: str, name: str, profile: Profile) -> None:
        targets = self.targets(cid)
        if targets is None:
            return
        managed = self.managed
        want = {rid: managed[rid] for rid in targets if rid in managed}
        want_pids = set(want.values())
        have = profile.room_ids
        for rid, room_pid in want.items():
            if room_pid is None or room_pid not in have:
                self.ops.append(
                    make_operation(
                        "add_membership",
                        f"add {name} to {self.room_name(rid)}",
                        child_id=cid,
                        room_id=rid,
                        profile_id=profile.id,
                        portfolio_room_id=room_pid,
                    )
                )
        for room_pid in have:
            managed_rid = self.managed_pids.get(room_pid)
            if managed_rid is not None and room_pid not in want_pids:
                self.ops.append(
                    make_operation(
                        "remove_membership",
                        f"remove {name} from {self.room_name(managed_rid)}",
                        child_id=cid,
                        room_id=managed_rid,
                        profile_id=profile.id,
                        portfolio_room_id=room_pid,
                    )
                )

    # --- safety ---

    def apply_safety(self, approve: bool) -> None:
        blocked = []
        if not self.ccms.complete:
            blocked.append("the CCMS read was incomplete")
            # Missing bookings would look like moves: keep every child's rooms this run.
            removes = [op for op in self.ops if op.kind == "remove_membership"]
            if removes:
                self.ops = [op for op in self.ops if op.kind != "remove_membership"]
                self.warnings.append(
                    PlanWarning(
                        "read_incomplete",
                        f"the CCMS read was incomplete: {len(removes)} room removal(s) of "
                        "children skipped this run",
                    )
                )
        if not self.portfolio.complete:
            blocked.append("the portfolio read was incomplete")
        n_prof, n_room = len(self.archive_profiles), len(self.archive_rooms)
        if blocked:
            would = (
                f" ({n_prof} profile(s), {n_room} room(s) would have been)"
                if n_prof or n_room
                else ""
            )
            self.warnings.append(
                PlanWarning(
                    "read_incomplete",
                    f"{'; '.join(blocked)}: nothing will be archived this run{would}",
                )
            )
            return
        s = self.settings
        listed = len(self.ccms.children)
        suspicious = listed < self.integrated * (1 - s.suspicious_drop_pct / 100)
        # a complete read that lost most children is more likely a broken export than a mass
        # leaving: a person decides
        if suspicious and self.archive_profiles and not approve:
            self.archive_profiles[:] = [_held(op) for op in self.archive_profiles]
            self.warnings.append(
                PlanWarning(
                    "read_suspicious",
                    f"the CCMS listed {listed} children while {self.integrated} are "
                    f"integrated (more than {s.suspicious_drop_pct:g} % fewer): "
                    f"{len(self.archive_profiles)} profile archive(s) held for approval",
                    child_ids=tuple(
                        sorted(op.child_id for op in self.archive_profiles if op.child_id)
                    ),
                )
            )
        prof_limit = max(
            s.max_archive_children_min, s.max_archive_children_pct / 100 * self.integrated
        )
        live = len(self.managed_pids) - len(self.restored)  # the managed rooms there now
        room_limit = max(s.max_remove_rooms_min, s.max_remove_rooms_pct / 100 * live)
        for ops, limit, before, what in (
            (
                self.archive_profiles,
                prof_limit,
                self.recent.profiles_archived,
                "profile archive(s)",
            ),
            (self.archive_rooms, room_limit, self.recent.rooms_removed, "room removal(s)"),
        ):
            if ops and len(ops) + before > limit and not approve and not ops[0].held:
                ops[:] = [_held(op) for op in ops]
                also = f" ({before} more in the last {s.hold_window_days:g} days)" if before else ""
                self.warnings.append(
                    PlanWarning(
                        "held",
                        f"{len(ops)} {what}{also} exceed the limit of {int(limit)}: "
                        "held for approval",
                        child_ids=tuple(sorted(op.child_id for op in ops if op.child_id)),
                        room_ids=tuple(sorted(op.room_id for op in ops if op.room_id))
                        if what.startswith("room")
                        else (),
                    )
                )
            self.ops.extend(ops)


def shared_profiles(child_maps: Iterable[ChildMapping]) -> dict[str, tuple[str, ...]]:
    """Profiles more than one child's mapping points at (a slip in a CSV, a swap half done),
    with those children's ids. Syncing either would show one family another child's portfolio."""
    by_profile: dict[str, list[str]] = {}
    for m in child_maps:
        if m.profile_id is not None and m.action in ("link", "create"):
            by_profile.setdefault(m.profile_id, []).append(m.child_id)
    return {pid: tuple(sorted(c)) for pid, c in sorted(by_profile.items()) if len(c) > 1}


def _held(op: Operation) -> Operation:
    return Operation(
        op.id,
        op.kind,
        op.label,
        op.child_id,
        op.room_id,
        op.profile_id,
        op.portfolio_room_id,
        op.fields,
        held=True,
    )


def plan_sync(
    ccms: CcmsSnapshot,
    portfolio: PortfolioSnapshot,
    child_maps: Mapping[str, ChildMapping],
    room_maps: Mapping[str, RoomMapping],
    settings: ServiceSettings,
    as_of: dt.date,
    *,
    approve: bool = False,
    recent: RecentChanges | None = None,
) -> Plan:
    """Everything one sync would change, ordered for apply; archives over a limit are held.

    ``as_of`` is the service's local date (rules.today_in). ``approve=True`` is a person's
    go-ahead for archives over the thresholds; it never overrides the incomplete-read guard.
    """
    p = _Planner(ccms, portfolio, child_maps, room_maps, settings, as_of, recent or RecentChanges())
    p.plan_rooms()
    p.plan_children()
    p.apply_safety(approve)
    ops = sorted(p.ops, key=lambda op: (_ORDER[op.kind], op.id))
    return Plan(
        operations=tuple(ops),
        fingerprint=p.fingerprint(),
        as_of=as_of,
        warnings=tuple(p.warnings),
        needs_review=tuple(sorted(p.needs_review)),
    )
