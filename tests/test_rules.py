"""The sync rules: the worked examples of docs/sync-rules.md, plus properties against a naive
day-by-day reference, because the rules compute occurrences arithmetically."""

from __future__ import annotations

import datetime as dt
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smtui.records import Booking, Child, Profile
from smtui.rules import (
    child_target_rooms,
    count_occurrences,
    explain_child,
    first_occurrence,
    last_occurrence,
    occurrences,
    room_activity,
    room_removal_date,
    today_in,
    week_monday,
    window,
)

D = dt.date
UTC = dt.UTC
AS_OF = D(2025, 3, 12)  # a Wednesday; the window is Mon 2025-03-10 .. Sun 2025-04-20
STAMP = dt.datetime(2025, 1, 1, tzinfo=UTC)
ROOM_NAMES = {"r-possums": "Possums", "r-koalas": "Koalas", "r-wombats": "Wombats"}


def booking(
    bid: str,
    room: str,
    start: dt.date,
    weekdays: tuple[int, ...],
    *,
    child: str = "c1",
    every: int = 1,
    end: dt.date | None = None,
    status: str = "placed",
    kind: str = "permanent",
) -> Booking:
    return Booking(bid, child, room, start, weekdays, every, kind, status, end)  # type: ignore[arg-type]


# --- the window and the service's date -------------------------------------------------------


def test_window_is_six_whole_weeks_from_this_monday() -> None:
    assert week_monday(AS_OF) == D(2025, 3, 10)
    assert window(AS_OF) == (D(2025, 3, 10), D(2025, 4, 20))
    # every day of a week sees the same window, so a mid-week sync changes nothing
    assert {window(D(2025, 3, 10) + dt.timedelta(days=i)) for i in range(7)} == {window(AS_OF)}


def test_cron_at_2330_utc_is_tomorrow_in_sydney() -> None:
    assert today_in("Australia/Sydney", dt.datetime(2025, 3, 11, 23, 30, tzinfo=UTC)) == AS_OF


def test_daylight_saving_start_moves_sydney_into_the_next_week() -> None:
    # Daylight saving starts in Sydney on Sunday 2025-10-05 (UTC+10 -> UTC+11). At 13:30 UTC that
    # evening it is already 00:30 on Monday 2025-10-06 in Sydney: a new week. A fixed +10 offset
    # would still say Sunday and plan from the week of 2025-09-29.
    instant = dt.datetime(2025, 10, 5, 13, 30, tzinfo=UTC)
    assert today_in("Australia/Sydney", instant) == D(2025, 10, 6)
    assert window(today_in("Australia/Sydney", instant))[0] == D(2025, 10, 6)
    before_switch = dt.datetime(2025, 10, 4, 13, 30, tzinfo=UTC)  # still AEST: 23:30 Saturday
    assert today_in("Australia/Sydney", before_switch) == D(2025, 10, 4)


def test_a_room_last_booked_on_friday_is_removed_by_the_monday_sync_in_sydney() -> None:
    friday_only = [booking("b1", "r-possums", D(2025, 9, 1), (5,), end=D(2025, 10, 3))]
    instant = dt.datetime(2025, 10, 5, 13, 30, tzinfo=UTC)  # Monday 00:30 in Sydney
    assert room_activity(friday_only, today_in("Australia/Sydney", instant)) == {}
    # the server's UTC date (Sunday) would wrongly keep the room one more week
    assert room_activity(friday_only, instant.date()) == {"r-possums": 1}


def test_auckland_is_a_day_ahead_of_sydney_at_the_same_instant() -> None:
    instant = dt.datetime(2025, 3, 9, 11, 30, tzinfo=UTC)  # NZDT is UTC+13, AEDT UTC+11
    assert today_in("Pacific/Auckland", instant) == D(2025, 3, 10)  # Monday: new week
    assert today_in("Australia/Sydney", instant) == D(2025, 3, 9)  # Sunday: last week
    assert window(D(2025, 3, 10))[0] != window(D(2025, 3, 9))[0]


def test_a_naive_now_is_taken_as_utc_and_an_unknown_zone_is_one_clear_error() -> None:
    assert today_in("Pacific/Auckland", dt.datetime(2025, 3, 9, 11, 30)) == D(2025, 3, 10)
    with pytest.raises(ValueError, match="unknown timezone"):
        today_in("Mars/Olympus_Mons")


# --- occurrences --------------------------------------------------------------------------


def test_fortnightly_booking_counts_weeks_from_the_week_of_its_start() -> None:
    # starts Wednesday 2025-03-05, so its weeks are those of 03-03, 03-17, 03-31, 04-14
    b = booking("b7", "r-koalas", D(2025, 3, 5), (2, 4), every=2)
    assert occurrences(b, *window(AS_OF)) == [
        D(2025, 3, 18),
        D(2025, 3, 20),
        D(2025, 4, 1),
        D(2025, 4, 3),
        D(2025, 4, 15),
        D(2025, 4, 17),
    ]
    # the Tuesday of its first week is before its start date: not an occurrence
    assert occurrences(b, D(2025, 3, 3), D(2025, 3, 9)) == [D(2025, 3, 6)]


def test_suspended_and_cancelled_bookings_never_occur() -> None:
    for status in ("suspended", "cancelled"):
        b = booking("b1", "r-possums", D(2024, 1, 1), (1, 2, 3, 4, 5), status=status)
        assert occurrences(b, *window(AS_OF)) == []
        assert room_activity([b], AS_OF) == {}


def test_casual_booking_occurs_on_its_one_day() -> None:
    b = booking("b9", "r-wombats", D(2025, 4, 2), (3,), end=D(2025, 4, 2), kind="casual")
    assert occurrences(b, *window(AS_OF)) == [D(2025, 4, 2)]
    assert room_activity([b], AS_OF) == {"r-wombats": 1}


# --- rooms ---------------------------------------------------------------------------------


def test_booking_starting_in_week_six_makes_the_room_active() -> None:
    b = booking("b20", "r-koalas", D(2025, 4, 14), (1,))
    assert room_activity([b], AS_OF) == {"r-koalas": 1}
    assert room_activity([b], D(2025, 3, 9)) == {}  # a week earlier it is out of reach


def test_booking_ending_mid_window_sets_the_removal_date() -> None:
    b = booking("b3", "r-possums", D(2024, 1, 8), (1, 2, 3, 4, 5), end=D(2025, 3, 28))
    assert room_activity([b], AS_OF) == {"r-possums": 15}
    assert room_removal_date([b], "r-possums", AS_OF) == D(2025, 3, 31)
    assert room_activity([b], D(2025, 3, 30)) == {"r-possums": 5}  # Sunday: still active
    assert room_activity([b], D(2025, 3, 31)) == {}


def test_six_clear_weeks_remove_a_room_even_if_it_is_booked_again_later() -> None:
    # booked this week, then not again until 2025-05-05: the window of Monday 03-17 (to 04-27)
    # is empty, so the room goes on 03-17 and comes back as a new room when booked again
    this_week = booking("b1", "r-wombats", D(2025, 3, 10), (1,), end=D(2025, 3, 10))
    later = booking("b2", "r-wombats", D(2025, 5, 5), (1,), end=D(2025, 6, 30))
    assert room_removal_date([this_week, later], "r-wombats", AS_OF) == D(2025, 3, 17)
    closer = booking("b3", "r-wombats", D(2025, 4, 21), (1,), end=D(2025, 4, 21))
    assert room_removal_date([this_week, closer], "r-wombats", AS_OF) == D(2025, 4, 28)


def test_open_ended_booking_means_never_removed_and_inactive_means_removed_now() -> None:
    forever = booking("b1", "r-possums", D(2024, 1, 1), (3,), every=2)
    assert room_removal_date([forever], "r-possums", AS_OF) is None
    gone = booking("b2", "r-koalas", D(2024, 1, 1), (3,), end=D(2025, 2, 26))
    assert room_removal_date([gone], "r-koalas", AS_OF) == AS_OF


# --- children ------------------------------------------------------------------------------


def test_child_rooms_come_from_this_week_else_the_next_booked_day_else_unchanged() -> None:
    this_week = booking("b12", "r-possums", D(2024, 1, 8), (1, 3), end=D(2025, 3, 12))
    week_six = booking("b20", "r-koalas", D(2025, 4, 14), (1,))
    assert child_target_rooms([this_week, week_six], AS_OF) == {"r-possums"}
    # after Possums ends, the child moves to Koalas ahead of its first day there
    assert child_target_rooms([this_week, week_six], D(2025, 3, 17)) == {"r-koalas"}
    # nothing booked in the window (e.g. away for two months): rooms unchanged
    far = booking("b30", "r-wombats", D(2025, 6, 2), (1,))
    assert child_target_rooms([far], AS_OF) is None
    assert child_target_rooms([], AS_OF) is None


def test_two_rooms_on_the_same_next_day_are_both_targets() -> None:
    a = booking("b1", "r-possums", D(2025, 3, 25), (2,))
    b = booking("b2", "r-koalas", D(2025, 3, 25), (2,))
    c = booking("b3", "r-wombats", D(2025, 4, 1), (2,))
    assert child_target_rooms([a, b, c], AS_OF) == {"r-possums", "r-koalas"}


# --- explanations --------------------------------------------------------------------------


def test_explain_child_names_the_booking_that_puts_it_in_a_room() -> None:
    child = Child("c1", "Ava", "Ngata", D(2021, 5, 2), "active", STAMP)
    other = booking("b99", "r-wombats", D(2024, 1, 8), (2,), child="c2")
    lines = explain_child(
        child, [booking("b12", "r-possums", D(2024, 1, 8), (1, 3)), other], ROOM_NAMES, AS_OF
    )
    assert lines == ["in Possums because of booking b12 (Mon, Wed weekly) this week"]
    upcoming = booking("b20", "r-koalas", D(2025, 4, 14), (1,), every=2)
    assert explain_child(child, [upcoming], ROOM_NAMES, AS_OF) == [
        "in Koalas from 2025-04-14 because of booking b20 (Mon fortnightly), its next booked day"
    ]
    assert explain_child(child, [], ROOM_NAMES, AS_OF) == [
        "no booking from 2025-03-10 to 2025-04-20: rooms left unchanged"
    ]


def test_explain_child_mentions_a_move_already_booked_for_a_later_week() -> None:
    child = Child("c1", "Ava", "Ngata", D(2021, 5, 2), "active", STAMP)
    now = booking("b12", "r-possums", D(2024, 1, 8), (1, 3), end=D(2025, 3, 28))
    later = booking("b20", "r-koalas", D(2025, 3, 31), (1, 3))
    assert explain_child(child, [now, later], ROOM_NAMES, AS_OF) == [
        "in Possums because of booking b12 (Mon, Wed weekly, until 2025-03-28) this week",
        "later: booked in Koalas from 2025-03-31 (b20 (Mon, Wed weekly)); rooms follow that "
        "week's bookings when it comes",
    ]


def test_explain_child_says_when_a_leaver_left_and_what_happens_to_the_profile() -> None:
    left = Child("c1", "Ava", "Ngata", None, "inactive", dt.datetime(2025, 2, 28, tzinfo=UTC))
    profile = Profile("p1", "Ava", "Ngata", None, archived=False)
    assert explain_child(left, [], ROOM_NAMES, AS_OF, profile=profile) == [
        "leaving: inactive in the CCMS since 2025-02-28: its profile will be archived"
    ]
    back = Child("c1", "Ava", "Ngata", None, "active", STAMP)
    archived = Profile("p1", "Ava", "Ngata", None, archived=True)
    lines = explain_child(back, [], ROOM_NAMES, AS_OF, profile=archived)
    assert lines[0] == "returning: active in the CCMS again, so its profile will be unarchived"


# --- properties against a naive reference ----------------------------------------------------


def naive_occurrences(b: Booking, start: dt.date, end: dt.date) -> list[dt.date]:
    """Day by day, straight from the Booking docstring."""
    if b.status != "placed":
        return []
    out = []
    d = start
    while d <= end:
        in_range = b.start_date <= d and (b.end_date is None or d <= b.end_date)
        weeks = (week_monday(d) - week_monday(b.start_date)).days // 7
        if in_range and d.isoweekday() in b.weekdays and (b.every == 1 or weeks % 2 == 0):
            out.append(d)
        d += dt.timedelta(days=1)
    return out


BASE = D(2025, 1, 1)
days = st.integers(min_value=-120, max_value=240).map(lambda n: BASE + dt.timedelta(days=n))


@st.composite
def bookings(draw: st.DrawFn, room: str | None = None) -> Booking:
    start = draw(days)
    end = draw(st.none() | st.integers(0, 200).map(lambda n: start + dt.timedelta(days=n)))
    return booking(
        f"b{draw(st.integers(0, 10**6))}",
        room or draw(st.sampled_from(sorted(ROOM_NAMES))),
        start,
        tuple(draw(st.lists(st.integers(1, 7), min_size=1, max_size=7, unique=True))),
        every=draw(st.sampled_from([1, 2])),
        end=end,
        status=draw(st.sampled_from(["placed", "placed", "placed", "suspended", "cancelled"])),
    )


@settings(max_examples=300, deadline=None)
@given(b=bookings(), start=days, length=st.integers(0, 120))
def test_occurrences_match_the_day_by_day_reference(b: Booking, start: dt.date, length: int):
    end = start + dt.timedelta(days=length)
    found = occurrences(b, start, end)
    assert found == naive_occurrences(b, start, end)
    assert all(start <= d <= end and d.isoweekday() in b.weekdays for d in found)
    assert count_occurrences(b, start, end) == len(found)
    assert first_occurrence(b, start, end) == (found[0] if found else None)
    assert last_occurrence(b, start, end) == (found[-1] if found else None)


@settings(max_examples=200, deadline=None)
@given(b=bookings(), start=days)
def test_fortnightly_occurrences_of_one_weekday_are_14_days_apart(b: Booking, start: dt.date):
    end = start + dt.timedelta(days=120)
    for wd in b.weekdays:
        same_day = [d for d in occurrences(b, start, end) if d.isoweekday() == wd]
        gaps = {(b2 - b1).days for b1, b2 in pairwise(same_day)}
        assert gaps <= ({14} if b.every == 2 else {7})


@settings(max_examples=150, deadline=None)
@given(bs=st.lists(bookings(room="r-possums"), max_size=4), as_of=days)
def test_removal_date_is_the_first_day_the_room_is_inactive(bs: list[Booking], as_of: dt.date):
    removal = room_removal_date(bs, "r-possums", as_of)
    horizon = BASE + dt.timedelta(days=500)  # beyond every end date and start date
    d = as_of
    while d <= horizon and room_activity(bs, d):
        d += dt.timedelta(days=1)
    if d > horizon:  # an open-ended booking keeps it active for good
        assert removal is None
        return
    assert removal == d
