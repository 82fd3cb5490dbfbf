"""Child matching: worked examples for each messy case educators produce, and properties.

A wrong link shows one family another child's portfolio, so most tests pin down when the
matcher must NOT link; the examples also check the reason a person will read.
"""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smtui.match import (
    REASON_LABELS,
    Proposal,
    candidates_for,
    group_reviews,
    match_children,
    search_profiles,
)
from smtui.records import Child, Profile

D = dt.date
UPDATED = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)


def child(cid: str, first: str, last: str, born: dt.date | None, preferred: str | None = None):
    return Child(cid, first, last, born, "active", UPDATED, preferred)


def profile(pid: str, first: str, last: str, born: dt.date | None, **kw) -> Profile:
    kw.setdefault("archived", False)
    return Profile(pid, first, last, born, **kw)


def one(children: list[Child], profiles: list[Profile], **kw) -> Proposal:
    (proposal,) = match_children(children, profiles, **kw)
    return proposal


# --- messy spellings that are still the same child -------------------------------------------


def test_nickname_links_with_same_birth_date():
    p = one(
        [child("c1", "Elizabeth", "Brown", D(2021, 3, 4))],
        [profile("p1", "Liz", "Brown", D(2021, 3, 4))],
    )
    assert (p.action, p.profile_id) == ("link", "p1")
    assert p.reason == "nickname Liz->Elizabeth, same birth date"


def test_preferred_name_links():
    p = one(
        [child("c1", "Xiaoling", "Chen", D(2020, 5, 6), preferred="Lily")],
        [profile("p1", "Lily", "Chen", D(2020, 5, 6))],
    )
    assert (p.action, p.profile_id) == ("link", "p1")
    assert "preferred name Lily" in p.reason


def test_swapped_first_and_last_name_links():
    p = one(
        [child("c1", "Thi", "Nguyen", D(2020, 1, 20))],
        [profile("p1", "Nguyen", "Thi", D(2020, 1, 20))],
    )
    assert (p.action, p.profile_id) == ("link", "p1")
    assert "first and last name swapped" in p.reason


def test_dropped_accents_and_case_are_the_same_name():
    p = one(
        [child("c1", "Zoë", "Ngā-O'Brien", D(2019, 8, 1))],
        [profile("p1", "ZOE", "nga o brien", D(2019, 8, 1))],
    )
    assert (p.action, p.profile_id, p.score) == ("link", "p1", 100.0)
    assert p.reason == "same name, same birth date"


def test_shortened_hyphenated_surname_links():
    p = one(
        [child("c1", "Ava", "Smith-Jones", D(2021, 1, 2))],
        [profile("p1", "Ava", "Smith", D(2021, 1, 2))],
    )
    assert (p.action, p.profile_id) == ("link", "p1")
    assert "surname shortened to Smith" in p.reason


def test_one_typo_links_only_with_exact_birth_date():
    children = [child("c1", "Isabella", "Fitzgerald", D(2020, 6, 1))]
    same = one(children, [profile("p1", "Isabela", "Fitzgerald", D(2020, 6, 1))])
    assert (same.action, same.profile_id) == ("link", "p1")
    assert "first name typo Isabela" in same.reason
    days_off = one(children, [profile("p1", "Isabela", "Fitzgerald", D(2020, 6, 20))])
    assert (days_off.action, days_off.profile_id) == ("review", "p1")
    assert "birth date 19 days apart" in days_off.reason


@pytest.mark.parametrize(
    ("typed", "name"), [("Daniela", "Daniel"), ("Milo", "Mila"), ("Maria", "Mario")]
)
def test_one_letter_that_makes_another_name_is_only_a_review(typed, name):
    """Daniel/Daniela: a twin's name as often as a typo, so a person decides."""
    p = one(
        [child("c1", name, "Russo", D(2020, 6, 1))], [profile("p1", typed, "Russo", D(2020, 6, 1))]
    )
    assert (p.action, p.profile_id) == ("review", "p1")
    assert p.reason == f"first name spelled differently ({typed}), same birth date"


def test_missing_birth_date_is_review_never_link():
    for c_born, p_born, says in [
        (D(2021, 5, 5), None, "no birth date on profile"),
        (None, D(2021, 5, 5), "no birth date in CCMS"),
    ]:
        p = one([child("c1", "Noah", "Lee", c_born)], [profile("p1", "Noah", "Lee", p_born)])
        assert (p.action, p.profile_id) == ("review", "p1")
        assert p.reason == f"same name, {says}"


def test_day_month_swapped_birth_date_is_review():
    p = one(
        [child("c1", "Jack", "Taylor", D(2020, 3, 9))],
        [profile("p1", "Jack", "Taylor", D(2020, 9, 3))],
    )
    assert (p.action, p.profile_id) == ("review", "p1")
    assert "birth date day/month swapped" in p.reason


# --- look-alikes that are NOT this child -----------------------------------------------------


def test_twins_need_well_agreeing_first_names():
    amelia = child("c2", "Amelia", "Ngata", D(2020, 2, 2))
    olivia = child("c1", "Olivia", "Ngata", D(2020, 2, 2))
    profiles = [
        profile("p1", "Olivia", "Ngata", D(2020, 2, 2)),
        profile("p2", "Amelai", "Ngata", D(2020, 2, 2)),  # a typo
    ]
    # Alone, a one-letter slip with the same birth date is linked ...
    assert one([amelia], profiles[1:]).action == "link"
    # ... but a twin means the given name is the only thing telling them apart.
    got = {p.child_id: p for p in match_children([olivia, amelia], profiles)}
    assert (got["c1"].action, got["c1"].profile_id) == ("link", "p1")
    assert (got["c2"].action, got["c2"].profile_id) == ("review", "p2")
    assert "twin of Olivia Ngata: names differ" in got["c2"].reason


def test_twins_with_nicknames_still_link():
    twins = [
        child("c1", "Elizabeth", "Ward", D(2021, 7, 7)),
        child("c2", "Katherine", "Ward", D(2021, 7, 7)),
    ]
    profiles = [
        profile("p1", "Kate", "Ward", D(2021, 7, 7)),
        profile("p2", "Liz", "Ward", D(2021, 7, 7)),
    ]
    got = [(p.action, p.profile_id) for p in match_children(twins, profiles)]
    assert got == [("link", "p2"), ("link", "p1")]


def test_sibling_with_near_identical_name_is_decided_by_birth_date():
    ava = child("c1", "Ava", "Smith", D(2021, 5, 1))
    eva_profile = profile("p1", "Eva", "Smith", D(2018, 2, 1))
    assert one([ava], [eva_profile]).action == "create"
    both = match_children(
        [ava, child("c2", "Eva", "Smith", D(2018, 2, 1))],
        [eva_profile, profile("p2", "Ava", "Smith", D(2021, 5, 1))],
    )
    assert [(p.action, p.profile_id) for p in both] == [("link", "p2"), ("link", "p1")]


def test_sibling_profile_without_birth_date_is_only_a_review():
    p = one([child("c1", "Ava", "Smith", D(2021, 5, 1))], [profile("p1", "Eva", "Smith", None)])
    assert (p.action, p.profile_id) == ("review", "p1")
    assert "first name differs (Eva)" in p.reason


def test_old_same_name_profile_is_another_child():
    p = one(
        [child("c1", "Oliver", "Wilson", D(2021, 7, 8))],
        [profile("p6", "Oliver", "Wilson", D(2015, 7, 8), archived=True)],
    )
    assert (p.action, p.profile_id) == ("create", None)
    assert p.reason == "same name as p6 but birth date 6 years apart: likely another child"
    nickname = one(
        [child("c1", "Elizabeth", "Brown", D(2021, 3, 4))],
        [profile("p1", "Liz", "Brown", D(2019, 1, 4))],
    )
    assert nickname.action == "create"
    assert (
        nickname.reason == "similar name as p1 but birth date 2 years apart: likely another child"
    )


def test_returning_child_links_to_archived_profile_but_active_ranks_first():
    kid = child("c1", "Ruby", "Hall", D(2019, 4, 4))
    returning = one([kid], [profile("p1", "Ruby", "Hall", D(2019, 4, 4), archived=True)])
    assert (returning.action, returning.profile_id) == ("link", "p1")
    assert "profile archived" in returning.reason
    picks = candidates_for(
        kid,
        [
            profile("p1", "Ruby", "Hall", None, archived=True),
            profile("p2", "Ruby", "Hall", None),
        ],
    )
    assert [c.profile_id for c in picks] == ["p2", "p1"]


def test_two_profiles_of_one_child_ask_a_person_to_pick():
    kid = child("c1", "Emily", "Clark", D(2021, 6, 6))
    p = one(
        [kid],
        [
            profile("p9", "Emily", "Clark", D(2021, 6, 6)),
            profile("p10", "Emily", "Clark", D(2021, 6, 6), invitation_status="accepted"),
        ],
    )
    assert (p.action, p.profile_id, p.alternatives) == ("review", "p10", ("p9",))
    assert p.reason == "two profiles look like this child (p9, p10): pick one"
    archived_first = one(
        [kid],
        [
            profile("p1", "Emily", "Clark", D(2021, 6, 6), archived=True),
            profile("p2", "Emily", "Clark", D(2021, 6, 6)),
        ],
    )
    assert (archived_first.profile_id, archived_first.alternatives) == ("p2", ("p1",))


def test_lookalike_without_birth_date_is_left_for_a_same_named_child():
    """Two different children called Sam Green: the dateless profile is not held for the first."""
    got = match_children(
        [child("c1", "Sam", "Green", D(2019, 3, 8)), child("c2", "Sam", "Green", D(2018, 5, 7))],
        [profile("p1", "Sam", "Green", D(2019, 3, 8)), profile("p2", "Sam", "Green", None)],
    )
    assert [(p.action, p.profile_id) for p in got] == [("link", "p1"), ("review", "p2")]


# --- existing links and competition ----------------------------------------------------------


def test_external_ref_and_existing_mapping_are_kept():
    kids = [child("c1", "Ava", "Ngata", D(2020, 2, 2)), child("c2", "Leo", "King", D(2020, 1, 1))]
    profiles = [
        profile("p1", "Totally", "Different", None, external_ref="c1"),
        profile("p2", "Ava", "Ngata", D(2020, 2, 2)),
        profile("p3", "Someone", "Else", None),
    ]
    got = match_children(kids, profiles, linked={"c2": "p3"})
    assert got[0] == Proposal("c1", "link", "p1", 100.0, "already linked")
    assert got[1] == Proposal("c2", "link", "p3", 100.0, "already linked")


def test_profile_linked_elsewhere_is_not_offered():
    kid = child("c1", "Ava", "Ngata", D(2020, 2, 2))
    taken = profile("p1", "Ava", "Ngata", D(2020, 2, 2), external_ref="c99")
    assert one([kid], [taken]).action == "create"
    assert one(
        [kid], [profile("p1", "Ava", "Ngata", D(2020, 2, 2))], linked={"c7": "p1"}
    ).action == ("create")
    assert candidates_for(kid, [taken]) == []


def test_two_children_competing_for_one_profile_the_better_wins():
    got = match_children(
        [
            child("c2", "Jack", "Tayler", D(2020, 3, 9)),  # listed first, but a typo
            child("c1", "Jack", "Taylor", D(2020, 3, 9)),
        ],
        [profile("p1", "Jack", "Taylor", D(2020, 3, 9))],
    )
    assert [(p.child_id, p.action, p.profile_id) for p in got] == [
        ("c2", "create", None),
        ("c1", "link", "p1"),
    ]
    assert got[0].reason.startswith("closest profile p1 fits child c1 better")


def test_nothing_similar_is_create():
    p = one([child("c1", "Hudson", "Brooks", D(2022, 1, 1))], [profile("p1", "Mia", "Patel", None)])
    assert p == Proposal("c1", "create", None, 0.0, "no similar profile")


# --- picker helpers -------------------------------------------------------------------------


def test_candidates_for_ranks_best_first_with_reasons():
    kid = child("c1", "Elizabeth", "Brown", D(2021, 3, 4))
    profiles = [
        profile("p1", "Beth", "Browne", D(2021, 3, 4)),
        profile("p2", "Liz", "Brown", D(2021, 3, 4)),
        profile("p3", "Elizabeth", "Brown", D(2016, 3, 4)),
        profile("p4", "Mia", "Patel", D(2021, 3, 4)),
    ]
    picks = candidates_for(kid, profiles)
    assert [c.profile_id for c in picks][:2] == ["p2", "p1"]
    assert picks[0].reason == "nickname Liz->Elizabeth, same birth date"
    assert "p3" in [c.profile_id for c in picks]  # shown, but last-ish and explained
    assert "years apart" in next(c.reason for c in picks if c.profile_id == "p3")
    assert "p4" not in [c.profile_id for c in picks]
    assert candidates_for(kid, profiles, limit=1) == picks[:1]


def test_search_profiles_by_typed_text():
    profiles = [
        profile("p1", "Ava", "Ngata", None),
        profile("p2", "Zoë", "Brown", None),
        profile("p3", "Mia", "Patel", None),
    ]
    assert search_profiles("ava ng", profiles)[0][0] == "p1"
    assert search_profiles("ZOE", profiles)[0] == ("p2", 100.0)
    assert "p3" not in [pid for pid, _ in search_profiles("zoe brown", profiles)]
    assert [pid for pid, _ in search_profiles("  ", profiles)] == ["p1", "p3", "p2"]
    assert len(search_profiles("", profiles, limit=2)) == 2


# --- properties -----------------------------------------------------------------------------

FIRSTS = ["Ava", "Eva", "Mia", "Maia", "Liz", "Elizabeth", "Zoë", "Zoe", "Jack", "Jac", "Noah"]
LASTS = ["Smith", "Smith-Jones", "Ngata", "Ngāta", "Lee", "Brown", "Browne"]
DATES = [None, D(2020, 3, 4), D(2020, 4, 3), D(2020, 3, 20), D(2018, 3, 4), D(2021, 3, 4)]


@st.composite
def populations(draw):
    def person():
        return (
            draw(st.sampled_from(FIRSTS)),
            draw(st.sampled_from(LASTS)),
            draw(st.sampled_from(DATES)),
        )

    kids = [child(f"c{i}", *person()) for i in range(draw(st.integers(0, 6)))]
    profiles = [
        profile(f"p{i}", *person(), archived=draw(st.booleans()))
        for i in range(draw(st.integers(0, 8)))
    ]
    return kids, profiles


@settings(max_examples=150, deadline=None)
@given(populations(), st.randoms(use_true_random=False))
def test_properties_of_any_population(population, rnd):
    kids, profiles = population
    got = match_children(kids, profiles)
    assert [p.child_id for p in got] == [c.id for c in kids]
    proposed = [p.profile_id for p in got if p.profile_id is not None]
    assert len(proposed) == len(set(proposed)), "a profile proposed for two children"
    by_id = {p.id: p for p in profiles}
    for kid, p in zip(kids, got, strict=True):
        assert p.reason.strip()
        assert 0.0 <= p.score <= 100.0
        assert (p.profile_id is None) == (p.action == "create")
        assert p.profile_id not in p.alternatives
        if p.action == "link":  # never without an exactly equal birth date
            assert kid.birth_date is not None
            assert by_id[p.profile_id].birth_date == kid.birth_date
    shuffled = list(profiles)
    rnd.shuffle(shuffled)
    assert match_children(kids, shuffled) == got


@settings(max_examples=100, deadline=None)
@given(
    st.sampled_from(FIRSTS),
    st.sampled_from(LASTS),
    st.integers(367, 3000),
    st.booleans(),
    st.sampled_from(FIRSTS),
    st.sampled_from(LASTS),
)
def test_birth_date_over_a_year_off_is_never_linked(first, last, days, later, p_first, p_last):
    born = D(2021, 6, 15)
    other = born + dt.timedelta(days=days if later else -days)
    for names in [(first, last), (p_first, p_last), (last, first)]:
        p = one([child("c1", first, last, born)], [profile("p1", *names, other)])
        assert p.action == "create"
        assert p.profile_id is None


@pytest.mark.parametrize("linked", [None, {"c1": "p2"}])
def test_existing_links_are_never_given_to_another_child(linked):
    kids = [child("c1", "Ava", "Lee", D(2020, 1, 1)), child("c2", "Ava", "Lee", D(2020, 1, 1))]
    profiles = [
        profile("p1", "Ava", "Lee", D(2020, 1, 1), external_ref="c2"),
        profile("p2", "Ava", "Lee", D(2020, 1, 1)),
    ]
    got = match_children(kids, profiles, linked=linked)
    assert [(p.action, p.profile_id) for p in got] == [("link", "p2"), ("link", "p1")]


# --- candidates that can't be missed ---------------------------------------------------------


def test_a_typo_in_each_name_with_the_same_birth_date_is_offered():
    """kylie stanley / kyqie stanleu: too far apart for a name search, but born the same day."""
    p = one(
        [child("c1", "Kylie", "Stanley", D(2020, 4, 17))],
        [profile("p1", "Kyqie", "Stanleu", D(2020, 4, 17))],
    )
    assert (p.action, p.profile_id) == ("review", "p1")


def test_profile_with_a_blank_first_name_is_not_created_twice():
    p = one(
        [child("c1", "Kylie", "Stanley", D(2020, 4, 17))],
        [profile("p1", "", "Stanley", D(2020, 4, 17))],
    )
    assert (p.action, p.profile_id) == ("review", "p1")


WORDS = st.text(alphabet="abcdefghijklmnoprstuvwyz", min_size=4, max_size=9)


def _one_edit(word: str, at: int, letter: str) -> str:
    i = at % len(word)
    return word[:i] + letter + word[i + 1 :]


@settings(max_examples=200, deadline=None)
@given(
    WORDS,
    WORDS,
    st.integers(0, 20),
    st.integers(0, 20),
    st.sampled_from("aeiouxq"),
    st.sampled_from(
        ["typos", "swapped", "swapped-typo", "blank-first", "blank-child", "blank-typo"]
    ),
    st.booleans(),
)
def test_pairs_that_cannot_be_missed_are_always_weighed(first, last, i, j, letter, how, dated):
    """Born the same day, names swapped, or a blank name part: the pair is always weighed."""
    from smtui.match.candidates import nominate
    from smtui.match.evidence import child_person, profile_person

    born = D(2020, 4, 17)
    kid = child("c1", first, last, born)
    p_first, p_last = _one_edit(first, i, letter), _one_edit(last, j, letter)
    shown = {
        "typos": (p_first, p_last),
        "swapped": (last, first),
        "swapped-typo": (p_last, first),
        "blank-first": ("", last),
        "blank-child": (first, last),
        "blank-typo": (p_first, "") if i % 2 else ("", p_last),
    }[how]
    if how == "blank-child":
        kid = child("c1", "", last, born)
    elif how in ("typos", "blank-typo") and not dated:
        return  # a typo and no birth date in common: nothing says it is one child
    prof = profile("p1", *shown, born if dated else None)
    noise = [profile(f"p{k}", "Zed", "Quorra", D(2019, 1, k)) for k in range(2, 6)]
    pool = [profile_person(x) for x in [*noise, prof]]
    (found,) = nominate([child_person(kid)], pool)
    assert len(pool) - 1 in found


# --- a service big enough to learn from: weights promote, vetoes still hold ------------------


def _word(i: int, salt: str) -> str:
    """A made-up name, random-looking: names for different i are never one typo apart."""
    digest = hashlib.sha256(f"{salt}{i}".encode()).digest()
    return "".join(chr(97 + b % 26) for b in digest[:7]).capitalize()


def _service(extra_children: list[Child], extra_profiles: list[Profile], n: int = 220):
    """n ordinary children, each with a matching profile, plus the case under test."""
    born = D(2019, 1, 1)
    people = [(_word(i, "given"), _word(i, "family"), born + dt.timedelta(i)) for i in range(n)]
    kids = [child(f"k{i}", *person) for i, person in enumerate(people)]
    profs = [profile(f"q{i}", *person) for i, person in enumerate(people)]
    got = match_children([*extra_children, *kids], [*extra_profiles, *profs])
    return {p.child_id: p for p in got}


def test_exact_unique_name_links_when_the_profile_has_no_birth_date():
    """Storypark's own setup matches on names alone; we do when the name is unique on both sides."""
    got = _service(
        [child("c1", "Noah", "Lee", D(2021, 5, 5))], [profile("p1", "Noah", "Lee", None)]
    )
    p = got["c1"]
    assert (p.action, p.profile_id, p.kind) == ("link", "p1", "unique_name_no_birth_date")
    assert p.reason == "same name, unique in both lists, profile has no birth date"


@pytest.mark.parametrize("second", ["child", "profile"])
def test_a_name_that_is_not_unique_needs_a_birth_date(second):
    kids = [child("c1", "Noah", "Lee", D(2021, 5, 5))]
    profs = [profile("p1", "Noah", "Lee", None)]
    if second == "child":
        kids.append(child("c2", "Noah", "Lee", D(2019, 2, 2)))
    else:
        profs.append(profile("p2", "Noah", "Lee", D(2016, 2, 2), archived=True))
    p = _service(kids, profs)["c1"]
    assert p.action == "review" and p.profile_id == "p1"
    assert p.kind == "profile_no_birth_date"


def test_no_birth_date_in_ccms_is_never_linked_on_the_name():
    p = _service([child("c1", "Noah", "Lee", None)], [profile("p1", "Noah", "Lee", D(2021, 5, 5))])[
        "c1"
    ]
    assert (p.action, p.kind) == ("review", "ccms_no_birth_date")


@pytest.mark.parametrize(
    ("name", "typed"), [("Daniel", "Daniela"), ("Milo", "Mila"), ("Mario", "Maria")]
)
def test_another_name_one_letter_away_is_never_linked_by_weights(name, typed):
    """splink links a same-birth-date Daniel to the only Daniela at p = 1.000; we ask."""
    p = _service(
        [child("c1", name, "Russo", D(2020, 6, 1))], [profile("p1", typed, "Russo", D(2020, 6, 1))]
    )["c1"]
    assert (p.action, p.profile_id) == ("review", "p1")


def test_a_typo_with_the_same_birth_date_links_in_a_service_that_learned_its_weights():
    p = _service(
        [child("c1", "Kylie", "Stanley", D(2020, 4, 17))],
        [profile("p1", "Kyilie", "Stanley", D(2020, 4, 17))],
    )["c1"]
    assert (p.action, p.profile_id) == ("link", "p1")


@pytest.mark.parametrize(("name", "typed"), [("Caleb", "Caleg"), ("Aidan", "Aidank")])
def test_a_final_consonant_slip_is_a_typo_not_another_name(name, typed):
    p = _service(
        [child("c1", name, "Stanley", D(2020, 4, 17))],
        [profile("p1", typed, "Stanley", D(2020, 4, 17))],
    )["c1"]
    assert (p.action, p.kind) == ("link", "weighed_evidence")


def test_day_month_swap_of_an_exact_name_links_when_weighed():
    p = _service(
        [child("c1", "Jack", "Taylor", D(2020, 3, 9))],
        [profile("p1", "Jack", "Taylor", D(2020, 9, 3))],
    )["c1"]
    assert (p.action, p.kind) == ("link", "weighed_evidence")
    assert "birth date day/month swapped" in p.reason


def test_twins_stay_safe_in_a_service_that_learned_its_weights():
    got = _service(
        [
            child("c1", "Olivia", "Ngata", D(2020, 2, 2)),
            child("c2", "Amelia", "Ngata", D(2020, 2, 2)),
        ],
        [
            profile("p1", "Olivia", "Ngata", D(2020, 2, 2)),
            profile("p2", "Amelai", "Ngata", D(2020, 2, 2)),
        ],
    )
    assert (got["c1"].action, got["c1"].profile_id) == ("link", "p1")
    assert (got["c2"].action, got["c2"].kind) == ("review", "twin")


def test_sibling_with_a_near_identical_name_and_close_birth_date_is_not_linked():
    p = _service(
        [child("c1", "Ava", "Smith", D(2021, 5, 1))], [profile("p1", "Eva", "Smith", D(2020, 5, 1))]
    )["c1"]
    assert p.action != "link"


def test_namesake_with_a_far_birth_date_is_created_in_a_big_service():
    p = _service(
        [child("c1", "Oliver", "Wilson", D(2021, 7, 8))],
        [profile("p6", "Oliver", "Wilson", D(2011, 7, 8))],  # one digit, ten years
    )["c1"]
    assert (p.action, p.kind) == ("create", "namesake_far_birth_date")


def test_reviews_are_grouped_by_reason_kind():
    got = _service(
        [
            child("c1", "Noah", "Lee", None),
            child("c2", "Mia", "Chen", None),
            child("c3", "Daniel", "Russo", D(2020, 6, 1)),
        ],
        [
            profile("p1", "Noah", "Lee", D(2021, 5, 5)),
            profile("p2", "Mia", "Chen", D(2021, 5, 6)),
            profile("p3", "Daniela", "Russo", D(2020, 6, 1)),
        ],
    )
    groups = group_reviews(got.values())
    assert [(kind, [p.child_id for p in ps]) for kind, ps in groups] == [
        ("ccms_no_birth_date", ["c1", "c2"]),
        ("name_differs", ["c3"]),
    ]
    assert REASON_LABELS["ccms_no_birth_date"] == "no birth date in the CCMS"


@settings(max_examples=60, deadline=None)
@given(populations())
def test_weights_never_link_across_a_far_birth_date_or_a_changed_name(population):
    """With a service big enough to learn from, a link still needs agreeing names and dates."""
    kids, profiles = population
    got = _service(kids, profiles)
    by_id = {p.id: p for p in profiles}
    for kid in kids:
        p = got[kid.id]
        if p.action != "link":
            continue
        prof = by_id[p.profile_id]
        assert kid.birth_date is not None
        if prof.birth_date is None:
            assert p.kind == "unique_name_no_birth_date"
        else:
            assert abs((kid.birth_date - prof.birth_date).days) <= 366
        assert {kid.first_name[:1].casefold(), kid.last_name[:1].casefold()} & {
            prof.first_name[:1].casefold(),
            prof.last_name[:1].casefold(),
        }
