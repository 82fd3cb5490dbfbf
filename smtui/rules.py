"""Pure sync rules: which rooms are active and where each child belongs, as of one date.

Everything here is a function of records and a date, computed arithmetically (never day by day),
because the planner evaluates it for every booking of a service on every sync and the TUI asks
"when will this room be removed?" for every room. The date is the service's local date
(``today_in``), so a cron run at 23:30 UTC already counts as tomorrow in Sydney.
See docs/sync-rules.md for the rules in prose with worked examples.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Container, Iterable, Iterator, Mapping, Sequence
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from smtui.records import Booking, Child, ChildMapping, Profile

WINDOW_DAYS = 42  # the current week and the five following
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


# Arithmetic is on proleptic ordinals (ints): 1 is Monday 0001-01-01, so (o - 1) % 7 is the
# weekday with Monday = 0. It is several times faster than date/timedelta arithmetic.


def _clip(b: Booking, start: dt.date, end: dt.date) -> tuple[int, int] | None:
    lo = max(start, b.start_date)
    hi = end if b.end_date is None else min(end, b.end_date)
    return (lo.toordinal(), hi.toordinal()) if lo <= hi else None


def _weekdays(b: Booking) -> set[int]:
    return {w for w in b.weekdays if 1 <= w <= 7}


def _anchor(b: Booking) -> int:
    """Ordinal of the Monday of the week of start_date: fortnights count from it."""
    o = b.start_date.toordinal()
    return o - (o - 1) % 7


def _first_on_or_after(b: Booking, weekday: int, lo: int, anchor: int) -> int:
    """First ordinal >= lo on ``weekday`` in an 'on' week of the booking."""
    d = lo + (weekday - 1 - (lo - 1) % 7) % 7
    if b.every == 2 and (d - anchor) // 7 % 2:
        d += 7
    return d


def _last_on_or_before(b: Booking, weekday: int, hi: int, anchor: int) -> int:
    """Last ordinal <= hi on ``weekday`` in an 'on' week of the booking."""
    d = hi - ((hi - 1) % 7 - (weekday - 1)) % 7
    if b.every == 2 and (d - anchor) // 7 % 2:
        d -= 7
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
    anchor = _anchor(booking)
    step = 14 if booking.every == 2 else 7
    found: list[int] = []
    for wd in _weekdays(booking):
        found.extend(range(_first_on_or_after(booking, wd, lo, anchor), hi + 1, step))
    found.sort()
    return [dt.date.fromordinal(o) for o in found]


def first_occurrence(booking: Booking, start: dt.date, end: dt.date) -> dt.date | None:
    """Earliest occurrence in [start, end], without listing them."""
    found = next(first_occurrences((booking,), start, end), None)
    return found[1] if found is not None else None


def first_occurrences(
    bookings: Iterable[Booking], start: dt.date, end: dt.date
) -> Iterator[tuple[Booking, dt.date]]:
    """(booking, its first occurrence in [start, end]) for each booking that occurs there.

    One tight loop over plain ints: the planner runs it over every booking of a service (300k
    for a big one) on each sync, so helper calls per booking would dominate the plan's time.
    """
    s_ord, e_ord = start.toordinal(), end.toordinal()
    for b in bookings:
        sd, ed = b.start_date, b.end_date
        if b.status != "placed" or sd > end or (ed is not None and ed < start):
            continue
        lo = s_ord if sd <= start else sd.toordinal()
        hi = e_ord if ed is None or ed >= end else ed.toordinal()
        lo_wd = (lo - 1) % 7
        best = hi + 1
        if b.every == 2:
            a = sd.toordinal()
            anchor = a - (a - 1) % 7
            for wd in b.weekdays:
                if 1 <= wd <= 7:
                    d = lo + (wd - 1 - lo_wd) % 7
                    if (d - anchor) // 7 % 2:
                        d += 7
                    if d < best:
                        best = d
        else:
            for wd in b.weekdays:
                if 1 <= wd <= 7:
                    d = lo + (wd - 1 - lo_wd) % 7
                    if d < best:
                        best = d
        if best <= hi:
            yield b, dt.date.fromordinal(best)


def last_occurrence(booking: Booking, start: dt.date, end: dt.date) -> dt.date | None:
    """Latest occurrence in [start, end]."""
    if not _is_live(booking):
        return None
    span = _clip(booking, start, end)
    if span is None:
        return None
    lo, hi = span
    anchor = _anchor(booking)
    best = lo - 1
    for wd in _weekdays(booking):
        best = max(best, _last_on_or_before(booking, wd, hi, anchor))
    return dt.date.fromordinal(best) if best >= lo else None


def count_occurrences(booking: Booking, start: dt.date, end: dt.date) -> int:
    """How many occurrences fall in [start, end], by arithmetic rather than enumeration."""
    if not _is_live(booking):
        return 0
    span = _clip(booking, start, end)
    if span is None:
        return 0
    lo, hi = span
    anchor = _anchor(booking)
    step = 14 if booking.every == 2 else 7
    total = 0
    for wd in _weekdays(booking):
        d = _first_on_or_after(booking, wd, lo, anchor)
        if d <= hi:
            total += (hi - d) // step + 1
    return total


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
    six clear weeks. An open-ended placed booking keeps it active for good once within reach
    (None). Returns as_of itself when the room is already inactive.

    Consecutive occurrences of one booking are at most 14 days apart, so a booking booked from
    first day f to last day l keeps the room active on every Monday in [f - 41, l]; the answer
    is the first Monday outside the union of those spans, found by one sorted sweep.
    """
    first_monday = week_monday(as_of)
    spans: list[tuple[dt.date, dt.date | None]] = []  # None: open-ended
    for b in bookings:
        if b.room_id != room_id:
            continue
        first = first_occurrence(b, first_monday, b.end_date or dt.date.max)
        if first is None:
            continue
        last = None if b.end_date is None else last_occurrence(b, first_monday, b.end_date)
        spans.append((first - dt.timedelta(days=WINDOW_DAYS - 1), last))
    candidate = first_monday
    for lo, hi in sorted(spans, key=lambda span: span[0]):
        if lo > candidate:
            break
        if hi is None:
            return None
        if hi >= candidate:
            candidate = week_monday(hi) + dt.timedelta(days=7)
    return as_of if candidate == first_monday else candidate


# --- children ------------------------------------------------------------------------------


def child_target_rooms(
    bookings_of_child: Iterable[Booking], as_of: dt.date
) -> frozenset[str] | None:
    """Rooms a child belongs in: this week's rooms, else its next booked day's; None = unchanged.

    Keeping rooms unchanged when nothing is booked in the window avoids emptying a child's rooms
    over a holiday; moving by the next booked day lets a child move before their first day there.
    """
    start, end = window(as_of)
    firsts = [(d, b.room_id) for b, d in first_occurrences(bookings_of_child, start, end)]
    return target_rooms_from_firsts(firsts, start)


def target_rooms_from_firsts(
    firsts: Sequence[tuple[dt.date, str]], window_start: dt.date
) -> frozenset[str] | None:
    """child_target_rooms over precomputed (first occurrence in window, room) pairs.

    Split out so the planner computes each booking's first occurrence once, in one pass.
    """
    if not firsts:
        return None
    week_end = window_start + dt.timedelta(days=6)
    this_week = frozenset([room for d, room in firsts if d <= week_end])
    if this_week:
        return this_week
    earliest = min(d for d, _ in firsts)
    return frozenset([room for d, room in firsts if d == earliest])


# --- explanations (the engine's `smtui explain`) ---------------------------------------------


def integrated(mapping: ChildMapping, live_profiles: Container[str]) -> bool:
    """Whether a child is in the integration: a sync linked it (its CCMS values are recorded as
    synced) to a profile that is live in the portfolio (there, and not archived). A leaver
    counts until its profile is archived; a child before setup, to review, not to add, or
    linked by a person and not synced since does not.

    The one rule behind the holds' percentages, the suspicious-read check, the services'
    "integrated" count and the families not yet invited.
    """
    return (
        mapping.action == "link"
        and mapping.synced_first_name is not None
        and mapping.profile_id in live_profiles
    )


def describe_booking(b: Booking) -> str:
    """'b12 (Mon, Wed weekly)': enough to find the booking in the CCMS, no personal data."""
    days = ", ".join(_WEEKDAY_NAMES[w - 1] for w in sorted(_weekdays(b)))
    if b.kind == "casual" and b.end_date == b.start_date:
        pattern = f"casual on {b.start_date.isoformat()}"
    else:
        pattern = f"{days} {'fortnightly' if b.every == 2 else 'weekly'}"
        if b.kind == "casual":
            pattern = f"casual, {pattern}"
        if b.end_date is not None:
            pattern += f", until {b.end_date.isoformat()}"
    extra = "" if b.status == "placed" else f", {b.status}"
    return f"{b.id} ({pattern}{extra})"


def explain_child(
    child: Child,
    bookings: Iterable[Booking],
    room_names: Mapping[str, str],
    as_of: dt.date,
    *,
    profile: Profile | None = None,
) -> list[str]:
    """Human lines saying which rooms the rules put a child in and why, or why it leaves.

    ``bookings`` may be all of the service's bookings: only the child's are read. Mapping
    decisions are the caller's to explain; ``profile`` (the linked one) adds archive state.
    """
    own = [b for b in bookings if b.child_id == child.id]
    start, end = window(as_of)
    if child.status != "active":
        since = child.updated_at.date().isoformat()
        if profile is None:
            fate = "a linked profile is archived"
        else:
            fate = "its profile is archived" if profile.archived else "its profile will be archived"
        return [f"leaving: {child.status} in the CCMS since {since}: {fate}"]
    lines: list[str] = []
    if profile is not None and profile.archived:
        lines.append("returning: active in the CCMS again, so its profile will be unarchived")
    week_end = start + dt.timedelta(days=6)
    firsts = sorted((d, b.id, b) for b in own if (d := first_occurrence(b, start, end)) is not None)
    current = [b for d, _, b in firsts if d <= week_end]
    if current:
        for b in current:
            name = room_names.get(b.room_id, b.room_id)
            lines.append(f"in {name} because of booking {describe_booking(b)} this week")
        rooms_now = {b.room_id for b in current}
        for d, _, b in firsts:  # a move already booked: the rooms change in its week, not now
            if b.room_id not in rooms_now:
                rooms_now.add(b.room_id)
                name = room_names.get(b.room_id, b.room_id)
                lines.append(
                    f"later: booked in {name} from {d.isoformat()} ({describe_booking(b)}); "
                    "rooms follow that week's bookings when it comes"
                )
        return lines
    if firsts:
        first_day = firsts[0][0]
        for d, _, b in firsts:
            if d == first_day:
                name = room_names.get(b.room_id, b.room_id)
                lines.append(
                    f"in {name} from {d.isoformat()} because of booking {describe_booking(b)}, "
                    "its next booked day"
                )
        return lines
    lines.append(f"no booking from {start.isoformat()} to {end.isoformat()}: rooms left unchanged")
    return lines
