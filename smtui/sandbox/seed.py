"""Deterministic generation of the sandbox world from (seed, today).

The CCMS side is tidy, as a system of record is. The portfolio side looks typed by hand by
educators long before any integration: nicknames, typos, dropped accents, shortened hyphenated
surnames, swapped names and dates, missing birth dates, duplicates, twins, near-identical
siblings and old archived profiles that share a name with a current child. Everything is drawn
from one ``random.Random(seed)`` in a fixed order, so the same seed and today give the same bytes.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import random
from dataclasses import dataclass, field
from typing import Literal
from zoneinfo import ZoneInfo

from smtui.records import Booking, Child, InvitationStatus, PortfolioRoom, Profile, Room
from smtui.sandbox.ids import IdMaker
from smtui.sandbox.names import (
    NEAR_SIBLINGS,
    TWIN_NAMES,
    NameMaker,
    has_accents,
    nickname,
    strip_accents,
    typo,
)
from smtui.sandbox.state import ServiceData

Group = Literal["nursery", "toddler", "kindy"]
ServiceSet = Literal["all", "small"]

# Age range in years of the children a room's age group takes.
AGES: dict[str, tuple[float, float]] = {
    "nursery": (0.3, 2.0),
    "toddler": (2.0, 3.0),
    "kindy": (3.0, 5.0),
}
NEXT_GROUP = {"nursery": "toddler", "toddler": "kindy"}


@dataclass(frozen=True, slots=True)
class RoomSpec:
    name: str
    group: Group
    in_portfolio: bool = True


@dataclass(frozen=True, slots=True)
class ServiceSpec:
    id: str
    name: str
    timezone: str
    region: Literal["au", "nz"]
    current: int
    leavers: int
    rooms: tuple[RoomSpec, ...]
    small: bool = True
    closure_room: str | None = None  # no bookings in weeks 0..5, reopens in week 6
    ending_room: tuple[str, str] | None = None  # (room, successor): bookings end in week 2
    week_six_start: bool = False  # a new child whose first booking starts in week 5


def _rooms(*pairs: tuple[str, Group]) -> tuple[RoomSpec, ...]:
    return tuple(RoomSpec(name, group) for name, group in pairs)


_BIG_ANIMALS = (
    "Possums", "Joeys", "Bilbies", "Quokkas", "Numbats", "Wombats", "Koalas", "Echidnas",
    "Wallabies", "Dingoes", "Kookaburras", "Platypus", "Galahs", "Emus", "Lorikeets", "Rosellas",
    "Cockatoos", "Magpies", "Dolphins", "Turtles",
)  # fmt: skip


def _big_rooms() -> tuple[RoomSpec, ...]:
    groups: tuple[Group, ...] = ("nursery",) * 5 + ("toddler",) * 5 + ("kindy",) * 10
    return tuple(
        RoomSpec(f"{animal} {wing}", group)
        for wing in ("North", "South")
        for animal, group in zip(_BIG_ANIMALS, groups, strict=True)
    )


SERVICES: tuple[ServiceSpec, ...] = (
    ServiceSpec(
        "sunny-hill", "Sunny Hill Early Learning Centre", "Australia/Sydney", "au", 100, 34,
        (*_rooms(("Possums", "nursery"), ("Joeys", "nursery"), ("Wombats", "toddler"),
                 ("Echidnas", "toddler"), ("Koalas", "toddler"), ("Kookaburras", "kindy"),
                 ("Platypus", "kindy"), ("Bilbies", "kindy")),
         RoomSpec("Lorikeets", "kindy", in_portfolio=False)),  # new: not in the portfolio yet
        closure_room="Bilbies", ending_room=("Echidnas", "Koalas"), week_six_start=True,
    ),
    ServiceSpec(
        "kowhai-kids", "Kōwhai Kids Early Learning", "Pacific/Auckland", "nz", 70, 20,
        _rooms(("Pīwakawaka", "nursery"), ("Kiwi", "nursery"), ("Tūī", "toddler"),
               ("Kea", "toddler"), ("Kererū", "kindy"), ("Tuatara", "kindy")),
        closure_room="Tuatara", week_six_start=True,
    ),
    ServiceSpec(
        "little-wattle", "Little Wattle Childcare", "Australia/Melbourne", "au", 52, 14,
        _rooms(("Gumnuts", "nursery"), ("Little Wattles", "nursery"), ("Wombats", "toddler"),
               ("Galahs", "kindy"), ("Lorikeets", "kindy")),
    ),
    ServiceSpec(
        "gumnut-grove", "Gumnut Grove Family Day Care", "Australia/Brisbane", "au", 24, 6,
        _rooms(("Joeys", "nursery"), ("Possums", "toddler"), ("Emus", "kindy")),
    ),
    ServiceSpec(
        "harbour-city", "Harbour City Children's Centre", "Australia/Sydney", "au", 1800, 200,
        _big_rooms(), small=False,
    ),
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Baseline:
    """A generated world: the services plus the id maker state to continue from."""

    services: tuple[ServiceData, ...]
    ids: IdMaker


def generate(seed: int, today: dt.date, services: ServiceSet = "all") -> Baseline:
    """The world for (seed, today); cached, so callers must copy before mutating."""
    return _generate(seed, today, services)


@functools.lru_cache(maxsize=4)
def _generate(seed: int, today: dt.date, services: ServiceSet) -> Baseline:
    rng = random.Random(seed)
    ids = IdMaker(seed)
    specs = [s for s in SERVICES if services == "all" or s.small]
    built = tuple(
        _ServiceBuilder(spec, rng, ids, today, guardian_seed=seed).build() for spec in specs
    )
    return Baseline(built, ids.copy())


def _years(years: float) -> dt.timedelta:
    return dt.timedelta(days=round(years * 365.25))


@dataclass
class _Kid:
    """A generated CCMS child with the facts the portfolio side needs."""

    child: Child
    room_id: str  # room attended today (or last attended, for leavers)
    future_start: bool = False
    twin_of: str | None = None
    family: int = -1  # the enrolment unit (twins and siblings share one); -1: on their own


@dataclass
class _ServiceBuilder:
    spec: ServiceSpec
    rng: random.Random
    ids: IdMaker
    today: dt.date
    data: ServiceData = field(init=False)
    kids: list[_Kid] = field(default_factory=list)
    leavers: list[_Kid] = field(default_factory=list)
    room_group: dict[str, Group] = field(default_factory=dict)
    units: int = 0
    guardian_seed: int = 0
    profile_of: dict[str, _Kid] = field(default_factory=dict)  # profile id -> its child

    def __post_init__(self) -> None:
        self.data = ServiceData(self.spec.id, self.spec.name, self.spec.timezone)
        self.tz = ZoneInfo(self.spec.timezone)
        self.names = NameMaker(self.rng, self.spec.region)
        self.monday0 = self.today - dt.timedelta(days=self.today.weekday())

    # --- helpers -------------------------------------------------------------------------

    def week(self, n: int, weekday: int = 0) -> dt.date:
        """Monday (or another weekday, 0-based) of week n, week 0 being today's week."""
        return self.monday0 + dt.timedelta(weeks=n, days=weekday)

    def stamp(self, before: dt.date, max_days: int = 400) -> dt.datetime:
        day = before - dt.timedelta(days=self.rng.randint(1, max_days))
        time = dt.time(self.rng.randint(7, 18), self.rng.randint(0, 59), self.rng.randint(0, 59))
        return dt.datetime.combine(day, time, tzinfo=self.tz)

    def weekdays(self, lo: int, hi: int) -> tuple[int, ...]:
        return tuple(sorted(self.rng.sample(range(1, 6), self.rng.randint(lo, hi))))

    def rooms_of(self, group: str, *, usable: bool = True) -> list[str]:
        special = {self.spec.closure_room, *(self.spec.ending_room or ())}
        return [
            rid
            for rid, room in self.data.rooms.items()
            if self.room_group[rid] == group and not (usable and room.name in special)
        ]

    def room_named(self, name: str) -> str:
        return next(rid for rid, room in self.data.rooms.items() if room.name == name)

    def birth_for(self, group: str, at: dt.date) -> dt.date:
        lo, hi = AGES[group]
        return at - _years(self.rng.uniform(lo, hi))

    def add_child(self, first: str, last: str, birth: dt.date, status: str, at: dt.date) -> Child:
        preferred = None
        if self.rng.random() < 0.3:
            preferred = nickname(self.rng, first)
        child = Child(
            id=self.ids.ccms("child"),
            first_name=first,
            last_name=last,
            birth_date=birth,
            status=status,  # type: ignore[arg-type]
            updated_at=self.stamp(at, 60),
            preferred_name=preferred,
        )
        self.data.children[child.id] = child
        return child

    def add_booking(
        self,
        child: Child,
        room_id: str,
        start: dt.date,
        weekdays: tuple[int, ...],
        *,
        every: int = 1,
        end: dt.date | None = None,
        kind: str = "permanent",
        status: str = "placed",
    ) -> Booking:
        booking = Booking(
            id=self.ids.ccms("booking"),
            child_id=child.id,
            room_id=room_id,
            start_date=start,
            weekdays=weekdays,
            every=every,  # type: ignore[arg-type]
            kind=kind,  # type: ignore[arg-type]
            status=status,  # type: ignore[arg-type]
            end_date=end,
            updated_at=self.stamp(min(start, self.today), 30),
        )
        self.data.bookings[booking.id] = booking
        return booking

    # --- CCMS ------------------------------------------------------------------------------

    def build(self) -> ServiceData:
        for spec in self.spec.rooms:
            room = Room(self.ids.ccms("room"), spec.name, self.stamp(self.today - _years(1), 900))
            self.data.rooms[room.id] = room
            self.room_group[room.id] = spec.group
        self.special_rooms()
        while len(self.kids) < self.spec.current:
            self.family()
        self.make_leavers()
        self.portfolio_rooms()
        self.profiles()
        self.guardians()
        return self.data

    def special_rooms(self) -> None:
        spec = self.spec
        if spec.closure_room:
            rid = self.room_named(spec.closure_room)
            closed_from = self.week(0)
            reopen = None
            for _ in range(8):
                child = self.add_child(
                    self.names.first(),
                    self.names.last(),
                    self.birth_for("kindy", self.today),
                    "active",
                    self.today,
                )
                days = self.weekdays(2, 4)
                start = self.today - dt.timedelta(days=self.rng.randint(60, 600))
                self.add_booking(child, rid, start, days, end=closed_from - dt.timedelta(days=3))
                reopen = self.add_booking(child, rid, self.week(6), days)
                self.kids.append(_Kid(child, rid))
            assert reopen is not None
            self.data.landmarks["closure_room_id"] = rid
            self.data.landmarks["after_window_booking_id"] = reopen.id
        if spec.ending_room:
            name, successor = spec.ending_room
            rid, next_rid = self.room_named(name), self.room_named(successor)
            for _ in range(7):
                child = self.add_child(
                    self.names.first(),
                    self.names.last(),
                    self.birth_for("toddler", self.today),
                    "active",
                    self.today,
                )
                days = self.weekdays(2, 5)
                start = self.today - dt.timedelta(days=self.rng.randint(30, 300))
                self.add_booking(child, rid, start, days, end=self.week(2, 4))
                self.add_booking(child, next_rid, self.week(3), days)
                self.kids.append(_Kid(child, rid))
            self.data.landmarks["ending_room_id"] = rid
            self.data.landmarks["successor_room_id"] = next_rid
        if spec.week_six_start:
            rid = self.rng.choice(self.rooms_of("nursery"))
            child = self.add_child(
                self.names.first(),
                self.names.last(),
                self.birth_for("nursery", self.week(5)),
                "active",
                self.today,
            )
            booking = self.add_booking(child, rid, self.week(5), self.weekdays(2, 3))
            self.kids.append(_Kid(child, rid, future_start=True))
            self.data.landmarks["week_six_booking_id"] = booking.id

    def family(self) -> None:
        """One enrolment unit: a single child, twins, or two siblings with near-identical names."""
        # The first two units of every service are twins and near-named siblings, so each
        # service has both traps whatever the seed.
        roll = (0.0, 0.04)[self.units] if self.units < 2 else self.rng.random()
        unit, first_kid = self.units, len(self.kids)
        self.units += 1
        group = self.rng.choice(("nursery", "nursery", "toddler", "toddler", "kindy", "kindy"))
        room = self.rng.choice(self.rooms_of(group))
        last = self.names.last()
        if roll < 0.03:
            a, b = self.rng.choice(TWIN_NAMES)
            birth = self.birth_for(group, self.today)
            first = self.current_child(a, last, birth, room)
            twin = self.current_child(b, last, birth, room, pattern_of=first.child)
            twin.twin_of = first.child.id
        elif roll < 0.06:
            a, b = self.rng.choice(NEAR_SIBLINGS)
            older = self.rng.choice(self.rooms_of("kindy"))
            self.current_child(a, last, self.birth_for("kindy", self.today), older)
            younger = self.rng.choice(self.rooms_of("nursery"))
            self.current_child(b, last, self.birth_for("nursery", self.today), younger)
        else:
            self.current_child(self.names.first(), last, self.birth_for(group, self.today), room)
        for kid in self.kids[first_kid:]:
            kid.family = unit

    def current_child(
        self, first: str, last: str, birth: dt.date, room_id: str, pattern_of: Child | None = None
    ) -> _Kid:
        rng = self.rng
        child = self.add_child(first, last, birth, "active", self.today)
        if pattern_of is not None:  # twins share every booking
            for b in [b for b in self.data.bookings.values() if b.child_id == pattern_of.id]:
                self.add_booking(
                    child,
                    b.room_id,
                    b.start_date,
                    b.weekdays,
                    every=b.every,
                    end=b.end_date,
                    kind=b.kind,
                    status=b.status,
                )
            kid = _Kid(child, room_id)
            self.kids.append(kid)
            return kid
        future = rng.random() < 0.04
        if future:
            start = self.week(rng.randint(1, 4), rng.randint(0, 2))
        else:
            earliest = birth + dt.timedelta(days=100)
            start = max(earliest, self.today - dt.timedelta(days=rng.randint(7, 900)))
            start = min(start, self.today - dt.timedelta(days=1))
        group = self.room_group[room_id]
        roll = rng.random()
        if roll < 0.08 and not future:
            for _ in range(rng.randint(1, 3)):
                day = self.today + dt.timedelta(days=rng.randint(-10, 38))
                if day.isoweekday() <= 5:
                    self.add_booking(
                        child, room_id, day, (day.isoweekday(),), end=day, kind="casual"
                    )
        else:
            every = 2 if roll < 0.22 else 1
            days = self.weekdays(1, 3) if every == 2 else self.weekdays(2, 5)
            status = "suspended" if rng.random() < 0.04 else "placed"
            age_out = birth + _years(AGES[group][1])
            moves = group in NEXT_GROUP and age_out < self.week(5) and rng.random() < 0.8
            if moves:
                move_week = rng.randint(0, 4)
                self.add_booking(
                    child,
                    room_id,
                    start,
                    days,
                    every=every,
                    status=status,
                    end=max(start, self.week(move_week, 4)),
                )
                target = rng.choice(self.rooms_of(NEXT_GROUP[group]))
                self.add_booking(child, target, self.week(move_week + 1), days, every=every)
            else:
                end = self.week(rng.randint(1, 4), 4) if rng.random() < 0.03 else None
                self.add_booking(child, room_id, start, days, every=every, status=status, end=end)
            if rng.random() < 0.04:  # a move that was booked, then cancelled
                other = rng.choice(self.rooms_of(group))
                self.add_booking(
                    child, other, self.week(rng.randint(2, 5)), days, status="cancelled"
                )
            if rng.random() < 0.06:  # an extra casual day
                day = self.today + dt.timedelta(days=rng.randint(1, 30))
                if day.isoweekday() <= 5 and day.isoweekday() not in days:
                    self.add_booking(
                        child, room_id, day, (day.isoweekday(),), end=day, kind="casual"
                    )
        kid = _Kid(child, room_id, future_start=future)
        self.kids.append(kid)
        return kid

    def make_leavers(self) -> None:
        rng = self.rng
        for i in range(self.spec.leavers):
            recent = i % 5 < 2
            left = self.today - (
                dt.timedelta(days=rng.randint(7, 120)) if recent else _years(rng.uniform(1, 5))
            )
            group = rng.choice(("toddler", "kindy", "kindy"))
            room = rng.choice(self.rooms_of(group))
            if not recent and i % 5 == 2 and self.kids:  # an old leaver sharing a current name
                namesake = rng.choice(self.kids).child
                first, last = namesake.first_name, namesake.last_name
            else:
                first, last = self.names.first(), self.names.last()
            birth = self.birth_for(group, left)
            child = self.add_child(first, last, birth, "inactive" if recent else "archived", left)
            start = max(birth + dt.timedelta(days=120), left - _years(rng.uniform(0.5, 3)))
            self.add_booking(child, room, start, self.weekdays(2, 5), end=left)
            self.leavers.append(_Kid(child, room))

    # --- portfolio -------------------------------------------------------------------------

    def portfolio_rooms(self) -> None:
        rng = self.rng
        names: list[tuple[str, str | None, bool]] = []
        for spec, rid in zip(self.spec.rooms, self.data.rooms, strict=True):
            if not spec.in_portfolio:
                continue
            variants = [spec.name, f"{spec.name} Room", f"The {spec.name}"]
            if has_accents(spec.name):
                variants.append(strip_accents(spec.name))
            names.append(
                (rng.choices(variants, weights=[5, 3, 1, 4][: len(variants)])[0], rid, False)
            )
        names.append(("Old Preschool Room", None, True))
        names.append(("Whole Centre", None, False))
        rng.shuffle(names)
        self.proom_for: dict[str, str] = {}
        for name, ccms_id, archived in names:
            room = PortfolioRoom(self.ids.portfolio("portfolio_room"), name, archived)
            self.data.portfolio_rooms[room.id] = room
            if ccms_id is not None:
                self.proom_for[ccms_id] = room.id

    def profiles(self) -> None:
        rng = self.rng
        drafts: list[Profile] = []
        owners: list[_Kid] = []  # drafts[i] is owners[i]'s profile
        dup_done = False
        namesake_done = False
        current_names = {(k.child.first_name, k.child.last_name) for k in self.kids}
        for kid in self.kids:
            if kid.future_start or (kid.twin_of is None and rng.random() < 0.07):
                continue  # not yet created by the educators, or simply never created
            profile = self.hand_typed(kid)
            drafts.append(profile)
            owners.append(kid)
            if (not dup_done and rng.random() < 0.05) or (rng.random() < 0.005):
                # separated parents: a second profile so each parent has "their own" child
                drafts.append(_replace_invite(profile, "accepted"))
                owners.append(kid)
                dup_done = True
        for kid in self.leavers:
            recent = kid.child.status == "inactive"
            namesake = (kid.child.first_name, kid.child.last_name) in current_names
            keep = rng.random() < (0.85 if recent else 0.6) or (namesake and not namesake_done)
            if not keep:
                continue
            profile = self.hand_typed(kid, keep_names=namesake)
            if not recent:
                profile = dataclasses.replace(
                    profile, archived=True, room_ids=(), invitation_status="accepted"
                )
                namesake_done = namesake_done or namesake
            drafts.append(profile)
            owners.append(kid)
        if not dup_done and drafts:  # guarantee the duplicate pair exists in every service
            at = next(i for i, p in enumerate(drafts) if not p.archived)
            drafts.append(_replace_invite(drafts[at], "accepted"))
            owners.append(owners[at])
        # portfolio creation order has nothing to do with CCMS ids (a shuffle's draws depend
        # only on the length, so shuffling the pairs keeps every seeded profile as it was)
        pairs = list(zip(drafts, owners, strict=True))
        rng.shuffle(pairs)
        for draft, owner in pairs:
            pid = self.ids.portfolio("profile")
            self.profile_of[pid] = owner
            self.data.profiles[pid] = Profile(
                pid,
                draft.first_name,
                draft.last_name,
                draft.birth_date,
                draft.archived,
                draft.room_ids,
                None,
                draft.invitation_status,
            )

    def guardians(self) -> None:
        """Guardian emails on both sides, from a stream of their own so every other seeded
        value stays as it was: a family (twins, siblings) shares one or two addresses; most
        profiles invite the same ones, some none, some only one parent, a grandparent instead,
        or an address with a slip in it."""
        rng = random.Random(f"guardians:{self.guardian_seed}:{self.spec.id}")
        family: dict[object, tuple[str, ...]] = {}

        def emails_of(kid: _Kid) -> tuple[str, ...]:
            key: object = kid.family if kid.family >= 0 else kid.child.id
            if key not in family:
                count = 2 if rng.random() < 0.7 else 1
                family[key] = tuple(_email(rng, kid.child.last_name) for _ in range(count))
            return family[key]

        for kid in [*self.kids, *self.leavers]:
            kid.child = dataclasses.replace(kid.child, guardian_emails=emails_of(kid))
            self.data.children[kid.child.id] = kid.child
        for pid, kid in self.profile_of.items():
            emails, roll = emails_of(kid), rng.random()
            if roll < 0.08:
                invited: tuple[str, ...] = ()
            elif roll < 0.12:
                invited = (_email(rng, rng.choice(_GUARDIAN_SURNAMES)),)  # a grandparent, say
            elif roll < 0.16:
                invited = (_email_typo(rng, emails[0]), *emails[1:])
            elif roll < 0.3 and len(emails) > 1:
                invited = (emails[rng.randrange(2)],)
            else:
                invited = emails
            profile = self.data.profiles[pid]
            self.data.profiles[pid] = dataclasses.replace(profile, guardian_emails=invited)

    def hand_typed(self, kid: _Kid, *, keep_names: bool = False) -> Profile:
        """The profile an educator typed for this child, with the usual slips."""
        rng = self.rng
        child = kid.child
        first, last = child.first_name, child.last_name
        if not keep_names:
            if child.preferred_name and rng.random() < 0.7:
                first = child.preferred_name
            elif rng.random() < 0.12:
                first = nickname(rng, first) or first
            if has_accents(first + last) and rng.random() < 0.5:
                first, last = strip_accents(first), strip_accents(last)
            if "-" in last and rng.random() < 0.6:
                last = last.split("-")[0 if rng.random() < 0.8 else 1]
            if rng.random() < 0.06:
                if rng.random() < 0.5:
                    first = typo(rng, first)
                else:
                    last = typo(rng, last)
            if rng.random() < 0.03:
                first, last = last, first
        birth: dt.date | None = child.birth_date
        roll = rng.random()
        if birth is not None and not keep_names:  # namesakes keep the years-apart birth date
            if roll < 0.1:
                birth = None
            elif roll < 0.14 and birth.day <= 12 and birth.day != birth.month:
                birth = birth.replace(month=birth.day, day=birth.month)
        room_roll = rng.random()
        proom = self.proom_for.get(kid.room_id)
        rooms: tuple[str, ...] = ()
        if proom and room_roll < 0.85:
            rooms = (proom,)
        elif room_roll < 0.92:
            rooms = (rng.choice(list(self.proom_for.values())),)
        invite = rng.choices(_INVITES, weights=(55, 20, 25))[0]
        return Profile("", first, last, birth, False, rooms, None, invite)


_INVITES: tuple[InvitationStatus, ...] = ("accepted", "pending", "none")
_GUARDIAN_NAMES = (
    "sarah", "james", "emma", "michael", "jess", "david", "kate", "chris", "mel", "ben",
    "amy", "tom", "lisa", "matt", "nicole", "sam", "rachel", "dan", "aroha", "wiremu",
    "priya", "raj", "mei", "wei", "fatima", "omar", "nguyen", "linh", "sophie", "josh",
)  # fmt: skip
_GUARDIAN_SURNAMES = ("smith", "brown", "wilson", "taylor", "walker", "king", "patel", "chen")
_DOMAINS = (
    "gmail.com", "gmail.com", "gmail.com", "outlook.com", "hotmail.com", "icloud.com",
    "bigpond.com", "yahoo.com.au", "optusnet.com.au", "xtra.co.nz",
)  # fmt: skip


def _email(rng: random.Random, last_name: str) -> str:
    """A parent's everyday address: first.last@, firstlast84@ or flast@ a common provider."""
    last = "".join(c for c in strip_accents(last_name).lower() if c.isalnum()) or "family"
    first = rng.choice(_GUARDIAN_NAMES)
    local = rng.choice((f"{first}.{last}", f"{first}{last}{rng.randint(70, 99)}", first[0] + last))
    return f"{local}@{rng.choice(_DOMAINS)}"


def _email_typo(rng: random.Random, address: str) -> str:
    """One slip in the part before the @ (what an educator types from a paper form)."""
    local, _, domain = address.partition("@")
    return f"{typo(rng, local)}@{domain}"


def _replace_invite(profile: Profile, invite: InvitationStatus) -> Profile:
    return dataclasses.replace(
        profile, id="", archived=False, external_ref=None, invitation_status=invite
    )
