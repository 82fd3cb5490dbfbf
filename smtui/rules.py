"""Pure sync rules: which rooms are active and where each child belongs, as of one date.

Everything here is a function of records and a date, computed arithmetically (never day by day),
because the planner evaluates it for every booking of a service on every sync and the TUI asks
"when will this room be removed?" for every room. The date is the service's local date
(``today_in``), so a cron run at 23:30 UTC already counts as tomorrow in Sydney.
See docs/sync-rules.md for the rules in prose with worked examples.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from smtui.records import Booking, Child, ChildMapping, PortfolioRoom, Profile, Room, RoomMapping

WINDOW_DAYS = 42  # the current week and the five following
_DAY = dt.timedelta(days=1)
_WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def week_monday(d: dt.date) -> dt.date:
    """Monday of d's ISO week: windows are whole weeks, so any day of a week sees the same rooms."""
    return d - dt.timedelta(days=d.weekday())


def window(as_of: dt.date) -> tuple[dt.date, dt.date]:
    """The six-week window [monday(as_of), monday(as_of) + 41 days], both ends inclusive."""
    start = week_monday(as_of)
    return start, start + dt.timedelta(days=WINDOW_DAYS - 1)


def today_in(tz_name: str, now: dt.datetime | None = None) -> dt.date:
    """The service's local date: the rules run on the service's calendar, not the server's.

    ``now`` defaults to the current instant; a naive ``now`` is taken as UTC. zoneinfo applies
    the offset in force at that instant, so daylight-saving changes need no special case.
    """
    try:
        zone = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown timezone: {tz_name!r}") from exc
    instant = now if now is not None else dt.datetime.now(dt.UTC)
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=dt.UTC)
    return instant.astimezone(zone).date()


# --- occurrences, computed per weekday as an arithmetic progression --------------------------


def _is_live(b: Booking) -> bool:
    return b.status == "placed"


def _clip(b: Booking, start: dt.date, end: dt.date) -> tuple[dt.date, dt.date] | None:
    lo = max(start, b.start_date)
    hi = end if b.end_date is None else min(end, b.end_date)
    return (lo, hi) if lo <= hi else None


def _weekdays(b: Booking) -> set[int]:
    return {w for w in b.weekdays if 1 <= w <= 7}


def _step(b: Booking) -> int:
    return 14 if b.every == 2 else 7


def _first_on_or_after(b: Booking, weekday: int, lo: dt.date) -> dt.date:
    """First date >= lo on ``weekday`` that lies in an 'on' week of the booking."""
    d = lo + dt.timedelta(days=(weekday - 1 - lo.weekday()) % 7)
    if b.every == 2 and ((d - week_monday(b.start_date)).days // 7) % 2:
        d += dt.timedelta(days=7)
    return d


def _last_on_or_before(b: Booking, weekday: int, hi: dt.date) -> dt.date:
    """Last date <= hi on ``weekday`` that lies in an 'on' week of the booking."""
    d = hi - dt.timedelta(days=(hi.weekday() - (weekday - 1)) % 7)
    if b.every == 2 and ((d - week_monday(b.start_date)).days // 7) % 2:
        d -= dt.timedelta(days=7)
    return d


def occurrences(booking: Booking, start: dt.date, end: dt.date) -> list[dt.date]:
    """Dates in [start, end] on which the booking occurs, sorted; none unless it is placed.

    Suspended and cancelled bookings never occur; start and end dates of the booking are honoured
    (end inclusive); fortnightly bookings occur in even weeks counted from the week of start_date.
    """
    span = _clip(booking, start, end) if _is_live(booking) else None
    if span is None:
        return []
    lo, hi = span
    step = dt.timedelta(days=_step(booking))
    found: list[dt.date] = []
    for wd in _weekdays(booking):
        d = _first_on_or_after(booking, wd, lo)
        while d <= hi:
            found.append(d)
            d += step
    found.sort()
    return found


def first_occurrence(booking: Booking, start: dt.date, end: dt.date) -> dt.date | None:
    """Earliest occurrence in [start, end] without listing them (the planner's hot path)."""
    if not _is_live(booking):
        return None
    span = _clip(booking, start, end)
    if span is None:
        return None
    lo, hi = span
    best = None
    for wd in _weekdays(booking):
        d = _first_on_or_after(booking, wd, lo)
        if d <= hi and (best is None or d < best):
            best = d
    return best


def last_occurrence(booking: Booking, start: dt.date, end: dt.date) -> dt.date | None:
    """Latest occurrence in [start, end]."""
    if not _is_live(booking):
        return None
    span = _clip(booking, start, end)
    if span is None:
        return None
    lo, hi = span
    best = None
    for wd in _weekdays(booking):
        d = _last_on_or_before(booking, wd, hi)
        if d >= lo and (best is None or d > best):
            best = d
    return best


def count_occurrences(booking: Booking, start: dt.date, end: dt.date) -> int:
    """How many occurrences fall in [start, end], by arithmetic rather than enumeration."""
    if not _is_live(booking):
        return 0
    span = _clip(booking, start, end)
    if span is None:
        return 0
    lo, hi = span
    step = _step(booking)
    total = 0
    for wd in _weekdays(booking):
        d = _first_on_or_after(booking, wd, lo)
        if d <= hi:
            total += (hi - d).days // step + 1
    return total


def _never_ends(b: Booking) -> bool:
    return _is_live(b) and b.end_date is None and bool(_weekdays(b))


# --- rooms ---------------------------------------------------------------------------------


def room_activity(bookings: Iterable[Booking], as_of: dt.date) -> dict[str, int]:
    """Occurrences per CCMS room in the window; a room absent from the result is inactive."""
    start, end = window(as_of)
    counts: dict[str, int] = {}
    for b in bookings:
        n = count_occurrences(b, start, end)
        if n:
            counts[b.room_id] = counts.get(b.room_id, 0) + n
    return counts


def room_removal_date(bookings: Iterable[Booking], room_id: str, as_of: dt.date) -> dt.date | None:
    """First sync date D >= as_of on which the room is inactive, or None if it never will be.

    The room is inactive at D when no occurrence falls in window(D). Windows start on Mondays, so
    after as_of D is a Monday: the one after the last booked week, or earlier at the first gap of
    six clear weeks. An open-ended placed booking keeps the room active forever (None). Returns
    as_of itself when the room is already inactive.

    Consecutive occurrences of one booking are at most 14 days apart, so a booking booked from
    first day f to last day l keeps the room active on every Monday in [f - 41, l]; the answer
    is the first Monday outside the union of those spans, found by one sorted sweep.
    """
    own = [b for b in bookings if b.room_id == room_id and _is_live(b)]
    if any(_never_ends(b) for b in own):
        return None
    first_monday = week_monday(as_of)
    spans = []
    for b in own:
        if b.end_date is None:  # open-ended without valid weekdays: never occurs
            continue
        first = first_occurrence(b, first_monday, b.end_date)
        last = last_occurrence(b, first_monday, b.end_date)
        if first is not None and last is not None:
            spans.append((first - dt.timedelta(days=WINDOW_DAYS - 1), last))
    candidate = first_monday
    for lo, hi in sorted(spans):
        if lo > candidate:
            break
        if hi >= candidate:
            candidate = week_monday(hi) + dt.timedelta(days=7)
    return as_of if candidate == first_monday else candidate


def room_last_active_day(
    bookings: Iterable[Booking], room_id: str, as_of: dt.date
) -> dt.date | None:
    """The room's last booked day before it goes inactive (its removal date), searching history.

    None when the room never goes inactive or never had a booking. For an already-inactive room
    this is "no bookings since DATE"; for an active one it is the last day that keeps it active.
    """
    own = [b for b in bookings if b.room_id == room_id and _is_live(b)]
    removal = room_removal_date(own, room_id, as_of)
    if removal is None:
        return None
    cutoff = removal - _DAY
    found = [d for b in own if (d := last_occurrence(b, dt.date.min, cutoff)) is not None]
    return max(found) if found else None


# --- children ------------------------------------------------------------------------------


def child_target_rooms(
    bookings_of_child: Iterable[Booking], as_of: dt.date
) -> frozenset[str] | None:
    """Rooms a child belongs in: this week's rooms, else its next booked day's; None = unchanged.

    Keeping rooms unchanged when nothing is booked in the window avoids emptying a child's rooms
    over a holiday; moving by the next booked day lets a child move before their first day there.
    """
    start, end = window(as_of)
    firsts = ((first_occurrence(b, start, end), b.room_id) for b in bookings_of_child)
    return target_rooms_from_firsts(firsts, start)


def target_rooms_from_firsts(
    firsts: Iterable[tuple[dt.date | None, str]], window_start: dt.date
) -> frozenset[str] | None:
    """child_target_rooms over precomputed (first occurrence in window, room) pairs.

    Split out so the planner computes each booking's first occurrence once, in one pass.
    """
    week_end = window_start + dt.timedelta(days=6)
    this_week: set[str] = set()
    earliest: dt.date | None = None
    earliest_rooms: set[str] = set()
    for d, room_id in firsts:
        if d is None:
            continue
        if d <= week_end:
            this_week.add(room_id)
        elif earliest is None or d < earliest:
            earliest, earliest_rooms = d, {room_id}
        elif d == earliest:
            earliest_rooms.add(room_id)
    if this_week:
        return frozenset(this_week)
    return frozenset(earliest_rooms) if earliest_rooms else None


# --- explanations (the engine's `smtui explain`) ---------------------------------------------


def describe_booking(b: Booking) -> str:
    """'b12 (Mon, Wed weekly)': enough to find the booking in the CCMS, no personal data."""
    days = ", ".join(_WEEKDAY_NAMES[w - 1] for w in sorted(_weekdays(b)))
    if b.kind == "casual" and b.end_date == b.start_date:
        pattern = f"casual on {b.start_date.isoformat()}"
    else:
        pattern = f"{days} {'fortnightly' if b.every == 2 else 'weekly'}"
        if b.kind == "casual":
            pattern = f"casual, {pattern}"
    extra = "" if b.status == "placed" else f", {b.status}"
    return f"{b.id} ({pattern}{extra})"


def explain_child(
    child_id: str,
    child: Child | None,
    mapping: ChildMapping | None,
    bookings_of_child: Iterable[Booking],
    room_names: Mapping[str, str],
    as_of: dt.date,
    profile: Profile | None = None,
) -> list[str]:
    """Human lines saying what the sync does with one child and why."""
    bookings = list(bookings_of_child)
    start, end = window(as_of)
    lines: list[str] = []
    if mapping is None:
        lines.append(f"{child_id}: not decided yet (no mapping): nothing is synced until it is")
    elif mapping.action == "ignore":
        lines.append("don't add: a person chose to keep this child out; never touched")
        return lines
    elif mapping.action == "review":
        lines.append("needs review: a person must decide link, create or don't add")
    elif mapping.profile_id is None:
        lines.append("will be created in the portfolio once it has a booked room")
    else:
        lines.append(f"linked to portfolio profile {mapping.profile_id}")

    if child is None or child.status != "active":
        why = "no longer in the CCMS" if child is None else f"{child.status} in the CCMS"
        if child is not None:
            why += f" since {child.updated_at.date().isoformat()}"
        if mapping is not None and mapping.profile_id and mapping.action in ("link", "create"):
            done = profile is not None and profile.archived
            lines.append(f"{'archived' if done else 'will be archived'}: {why}")
        else:
            lines.append(f"out of scope: {why}")
        return lines

    if profile is not None and profile.archived and mapping and mapping.action != "review":
        lines.append("will be unarchived: active in the CCMS again")

    week_end = start + dt.timedelta(days=6)
    firsts = [(first_occurrence(b, start, end), b) for b in bookings]
    current = [b for d, b in firsts if d is not None and d <= week_end]
    if current:
        for b in sorted(current, key=lambda b: b.id):
            name = room_names.get(b.room_id, b.room_id)
            lines.append(f"in {name} because of booking {describe_booking(b)} this week")
        return lines
    upcoming = sorted((d, b.id, b) for d, b in firsts if d is not None)
    if upcoming:
        first_day = upcoming[0][0]
        for d, _, b in upcoming:
            if d == first_day:
                name = room_names.get(b.room_id, b.room_id)
                lines.append(
                    f"in {name} from {d.isoformat()} because of booking {describe_booking(b)}, "
                    "its next booked day"
                )
        return lines
    lines.append(f"no booking from {start.isoformat()} to {end.isoformat()}: rooms left unchanged")
    return lines


def explain_room(
    room_id: str,
    room: Room | None,
    mapping: RoomMapping | None,
    bookings_of_room: Iterable[Booking],
    as_of: dt.date,
    portfolio_room: PortfolioRoom | None = None,
) -> list[str]:
    """Human lines saying whether a room is active, whether and when it will be removed."""
    bookings = [b for b in bookings_of_room if b.room_id == room_id]
    start, end = window(as_of)
    count = sum(count_occurrences(b, start, end) for b in bookings)
    active = count > 0
    lines: list[str] = []
    if active:
        lines.append(f"active: {count} booked day(s) from {start.isoformat()} to {end.isoformat()}")
    else:
        last = room_last_active_day(bookings, room_id, as_of)
        since = f" since {last.isoformat()}" if last else ""
        lines.append(f"inactive: no bookings from {start.isoformat()} to {end.isoformat()}{since}")

    if mapping is not None and mapping.action == "ignore":
        lines.append("unlinked or not added by a person: never touched")
        return lines
    if mapping is None:
        if room is None:
            lines.append("not in the CCMS and not mapped: nothing to do")
        else:
            todo = "will be created" if active else "created once booked"
            lines.append(f"new in the CCMS: {todo}")
        return lines
    if mapping.portfolio_room_id is None or portfolio_room is None:
        lines.append("will be created in the portfolio" if active else "created once booked")
        return lines
    if portfolio_room.archived:
        lines.append("archived in the portfolio" + ("; will be recreated" if active else ""))
        return lines
    if not active:
        lines.append("will be removed (archived) at the next sync")
        return lines
    removal = room_removal_date(bookings, room_id, as_of)
    if removal is not None:
        last = room_last_active_day(bookings, room_id, as_of)
        tail = f" (last booked day {last.isoformat()})" if last else ""
        lines.append(f"will be removed on {removal.isoformat()}{tail}")
    return lines
