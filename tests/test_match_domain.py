"""Evidence only a childcare integration has: guardian emails and rooms, in the matcher.

A shared guardian email with an agreeing name links children a person would otherwise be
asked about; twins and siblings share guardians and rooms too, so each guard is tested with
them shared. Evidence missing on either side is no information: it never changes a proposal.
"""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from smtui.automap import match_rooms, propose_child_mappings
from smtui.match import REASON_LABELS, RoomKeys, match_children
from smtui.records import Booking, Child, PortfolioRoom, Profile, Room, RoomMapping

UPDATED = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
FAMILY = ("sam.lee@example.com",)
ROOMS = RoomKeys(
    children={c: frozenset({"possums"}) for c in ("c1", "c2", "c3")},
    profiles={p: frozenset({"possums"}) for p in ("p1", "p2", "p3")},
)


def child(
    cid: str, first: str, last: str, born: dt.date | None, emails: tuple[str, ...] = FAMILY
) -> Child:
    return Child(cid, first, last, born, "active", UPDATED, guardian_emails=emails)


def profile(
    pid: str,
    first: str,
    last: str,
    born: dt.date | None,
    emails: tuple[str, ...] = FAMILY,
    *,
    archived: bool = False,
) -> Profile:
    return Profile(pid, first, last, born, archived, guardian_emails=emails)


def only(children: list[Child], profiles: list[Profile], rooms: RoomKeys | None = ROOMS):
    return {p.child_id: p for p in match_children(children, profiles, rooms=rooms)}


def test_same_name_without_profile_birth_date_links_on_a_shared_guardian_email():
    kids = [child("c1", "Mia", "Lee", dt.date(2021, 3, 4))]
    found = only(kids, [profile("p1", "Mia", "Lee", None)])["c1"]
    assert (found.action, found.profile_id, found.kind) == ("link", "p1", "shared_guardian")
    assert found.reason == "same name, shares a guardian email, same room, no birth date on profile"
    assert "@" not in found.reason and "@" not in REASON_LABELS[found.kind]
    alone = only(
        [child("c1", "Mia", "Lee", dt.date(2021, 3, 4), ())],
        [profile("p1", "Mia", "Lee", None, ())],
        None,
    )
    assert alone["c1"].action == "review"  # the same pair without the domain evidence


def test_swapped_day_and_month_and_a_nickname_link_on_a_shared_guardian_email():
    kids = [
        child("c1", "Elizabeth", "Brown", dt.date(2021, 3, 4)),
        child("c2", "Oliver", "Nguyen", dt.date(2020, 5, 9)),
    ]
    profiles = [
        profile("p1", "Liz", "Brown", None),
        profile("p2", "Oliver", "Nguyen", dt.date(2020, 9, 5)),
    ]
    found = only(kids, profiles)
    assert [(found[c].action, found[c].profile_id) for c in ("c1", "c2")] == [
        ("link", "p1"),
        ("link", "p2"),
    ]
    assert "birth date day/month swapped" in found["c2"].reason


def test_a_twin_stays_a_review_with_shared_guardians_and_rooms():
    born = dt.date(2021, 6, 1)
    kids = [child("c1", "Jack", "Moss", born), child("c2", "Jake", "Moss", born)]
    found = only(kids, [profile("p1", "Jak", "Moss", born)])
    assert {p.action for p in found.values()} <= {"review", "create"}
    assert "twin of" in next(p.reason for p in found.values() if p.action == "review")


def test_twins_sharing_a_family_keep_their_own_profiles_when_one_date_is_mistyped():
    """A shared family and room never outweigh the names: each twin's exact name wins."""
    born = dt.date(2021, 9, 4)
    kids = [child("c1", "Robert", "Morgan", born), child("c2", "William", "Morgan", born)]
    profiles = [
        profile("p1", "William", "Morgan", born),
        profile("p2", "Robert", "Morgan", dt.date(2021, 4, 9)),
    ]
    found = only(kids, profiles)
    assert {c: p.profile_id for c, p in found.items() if p.action == "link"} == {"c2": "p1"}
    assert found["c1"].profile_id == "p2"


def test_daniel_is_not_linked_to_the_only_daniela_with_shared_guardians_and_rooms():
    born = dt.date(2021, 6, 1)
    found = only([child("c1", "Daniel", "Moss", born)], [profile("p1", "Daniela", "Moss", born)])
    assert found["c1"].action == "review"
    undated = only([child("c1", "Daniel", "Moss", born)], [profile("p1", "Daniela", "Moss", None)])
    assert undated["c1"].action == "review"


def test_a_given_name_spelt_differently_needs_a_birth_date_even_with_a_shared_family():
    """Without a birth date a sibling's or a departed twin's profile (Eva for Ava, Kylie for
    Kyle) could be the one typed: a person decides, however alike the spellings."""
    for mine, theirs in (("Ava", "Eva"), ("Kylie", "Kyqie"), ("Matias", "Mattias")):
        kids = [child("c1", mine, "Moss", dt.date(2021, 6, 1))]
        found = only(kids, [profile("p1", theirs, "Moss", None)])["c1"]
        assert found.action != "link", (mine, theirs)


def test_a_namesake_with_a_far_birth_date_stays_apart_with_shared_guardians_and_rooms():
    kids = [child("c1", "Emma", "Moss", dt.date(2019, 2, 3))]
    found = only(kids, [profile("p1", "Emma", "Moss", dt.date(2022, 8, 9))])["c1"]
    assert (found.action, found.kind) == ("create", "namesake_far_birth_date")


def test_a_sibling_is_not_linked_to_a_brothers_undated_profile():
    kids = [
        child("c1", "Liam", "Moss", dt.date(2020, 1, 5)),
        child("c2", "Noah", "Moss", dt.date(2022, 4, 7)),
    ]
    found = only(kids, [profile("p1", "Liam", "Moss", None)])
    assert (found["c1"].action, found["c1"].profile_id) == ("link", "p1")
    assert found["c2"].action == "create"


def test_an_archived_profile_or_a_nickname_in_another_room_stays_with_a_person():
    kids = [child("c1", "Elizabeth", "Lee", dt.date(2021, 3, 4))]
    archived = only(kids, [profile("p1", "Elizabeth", "Lee", None, archived=True)])
    assert archived["c1"].action == "review"
    moved = RoomKeys(
        children={"c1": frozenset({"possums"})}, profiles={"p1": frozenset({"koalas"})}
    )
    nickname = only(kids, [profile("p1", "Liz", "Lee", None)], moved)["c1"]
    assert nickname.action == "review" and "in different rooms" in nickname.reason
    exact = only(kids, [profile("p1", "Elizabeth", "Lee", None)], moved)["c1"]
    assert exact.action == "link"  # children move rooms; the profile's may lag behind


def test_a_namesake_of_another_family_is_no_rival_but_one_without_guardians_is():
    born = dt.date(2021, 3, 4)
    ours = child("c1", "Mia", "Lee", born)
    theirs = child("c2", "Mia", "Lee", dt.date(2022, 7, 8), ("other@example.org",))
    found = only([ours, theirs], [profile("p1", "Mia", "Lee", None)])
    assert (found["c1"].action, found["c1"].profile_id) == ("link", "p1")
    unknown = child("c2", "Mia", "Lee", dt.date(2022, 7, 8), ())
    assert only([ours, unknown], [profile("p1", "Mia", "Lee", None)])["c1"].action == "review"


def test_different_guardian_emails_are_weak_evidence_never_a_veto_on_name_and_birth_date():
    born = dt.date(2021, 3, 4)
    kids = [child("c1", "Mia", "Lee", born, ("mum@example.com",))]
    found = only(kids, [profile("p1", "Mia", "Lee", born, ("dad@example.org",))], None)["c1"]
    assert (found.action, found.kind) == ("link", "same_name_same_birth_date")
    assert "guardian emails differ" in found.reason and "@" not in found.reason


def test_one_familys_duplicate_profiles_link_the_one_in_use_and_a_twins_never_counts():
    born = dt.date(2021, 3, 4)
    kids = [child("c1", "Mia", "Lee", born)]
    dupes = [profile("p1", "Mia", "Lee", None), profile("p2", "Mia", "Lee", born)]
    found = only(kids, dupes)["c1"]
    assert (found.action, found.profile_id, found.kind) == ("link", "p2", "duplicate_profiles")
    assert found.alternatives == ("p1",) and "the others are duplicates" in found.reason
    # a twin's profile shares the family and the birth date, never the given name
    twins = [profile("p1", "Mia", "Lee", born), profile("p2", "Maia", "Lee", born)]
    assert only(kids, twins)["c1"].kind != "duplicate_profiles"
    strangers = [profile("p1", "Mia", "Lee", born), profile("p2", "Mia", "Lee", born, ())]
    assert only(kids, strangers)["c1"].action == "review"  # one of them not known to be ours


NAMES = st.sampled_from(["Mia", "Liam", "Noah", "Ava", "Liz", "Elizabeth", "Daniel", "Daniela"])
DATES = st.one_of(st.none(), st.dates(dt.date(2019, 1, 1), dt.date(2019, 1, 20)))


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(NAMES, st.sampled_from(["Lee", "Moss"]), DATES), min_size=1, max_size=6),
    st.lists(st.tuples(NAMES, st.sampled_from(["Lee", "Moss"]), DATES), min_size=1, max_size=6),
    st.booleans(),
)
def test_evidence_on_one_side_only_is_no_information(kids, profs, on_children):
    """Guardian emails and rooms known on only one side never change a proposal (FEBRL4 has
    neither; a portfolio not yet inviting families has only the CCMS side)."""
    children = [child(f"c{n}", f, s, b, ()) for n, (f, s, b) in enumerate(kids)]
    profiles = [profile(f"p{n}", f, s, b, ()) for n, (f, s, b) in enumerate(profs)]
    plain = match_children(children, profiles)
    if on_children:
        children = [child(c.id, c.first_name, c.last_name, c.birth_date) for c in children]
        rooms = RoomKeys(children={c.id: frozenset({"possums"}) for c in children})
    else:
        profiles = [profile(p.id, p.first_name, p.last_name, p.birth_date) for p in profiles]
        rooms = RoomKeys(profiles={p.id: frozenset({"possums"}) for p in profiles})
    assert match_children(children, profiles, rooms=rooms) == plain


def test_automap_compares_booked_rooms_by_mapping_or_by_name():
    """The engine's entry point: a child's placed booking against the profile's rooms."""
    today = dt.date(2024, 3, 4)  # a Monday
    rooms = [Room("r1", "Possums Room", UPDATED), Room("r2", "Koalas", UPDATED)]
    proom = [PortfolioRoom("pr1", "possums", False), PortfolioRoom("pr2", "Wombats", False)]

    def booking(child_id: str, room_id: str) -> Booking:
        return Booking(
            f"b{child_id}", child_id, room_id, today, (1, 2, 3), 1, "permanent", "placed"
        )

    bookings = [booking("c1", "r1"), booking("c2", "r2")]
    profiles = [
        Profile("p1", "Mia", "Lee", None, False, room_ids=("pr1",)),
        Profile("p2", "Ava", "Moss", None, False, room_ids=("pr2",)),
    ]
    by_name = match_rooms(rooms, bookings, proom, profiles, {}, today)
    assert by_name.children["c1"] & by_name.profiles["p1"]  # "Possums Room" is "possums"
    mapped = match_rooms(
        rooms, bookings, proom, profiles, {"r2": RoomMapping("r2", "link", "pr2")}, today
    )
    assert mapped.children["c2"] & mapped.profiles["p2"]  # Koalas is mapped to Wombats
    assert not mapped.children["c1"] & mapped.profiles["p2"]

    kids = [child("c1", "Mia", "Lee", dt.date(2021, 3, 4))]
    prof = [Profile("p1", "Mia", "Lee", None, False, room_ids=("pr1",), guardian_emails=FAMILY)]
    proposed = propose_child_mappings(kids, prof, {}, only_new=False, rooms=by_name)
    assert (proposed[0].action, proposed[0].reason_kind) == ("link", "shared_guardian")


def test_the_engine_proposes_from_snapshots_with_guardians_and_booked_rooms():
    """engine.matching.propose_children: what setup's auto-match sees in the two systems."""
    from smtui.engine.matching import propose_children
    from smtui.records import CcmsSnapshot, PortfolioSnapshot

    today = dt.date(2024, 3, 4)
    ccms = CcmsSnapshot(
        children=(child("c1", "Mia", "Lee", dt.date(2021, 3, 4)),),
        rooms=(Room("r1", "Possums Room", UPDATED),),
        bookings=(Booking("b1", "c1", "r1", today, (1, 2), 1, "permanent", "placed"),),
    )
    portfolio = PortfolioSnapshot(
        profiles=(Profile("p1", "Mia", "Lee", None, False, ("pr1",), guardian_emails=FAMILY),),
        rooms=(PortfolioRoom("pr1", "Possums", False),),
    )
    proposed = propose_children(ccms, portfolio, {}, {}, only_new=False, as_of=today)
    assert [(m.action, m.profile_id, m.reason_kind) for m in proposed] == [
        ("link", "p1", "shared_guardian")
    ]
    assert "same room" in proposed[0].reason and "@" not in proposed[0].reason
