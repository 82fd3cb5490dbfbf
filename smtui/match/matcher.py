"""Match CCMS children to portfolio profiles, one to one, erring towards asking a person.

A wrong link shows one family another child's portfolio; a review costs a person a click. So a
pair is linked on a strong name and an exactly equal birth date (or an existing link), and in a
service big enough to learn from (``weights.MIN_PEOPLE``) also when its Fellegi-Sunter match
probability, learned from the service's own pairs, is overwhelming and no veto applies
(``_promotable``), or on a name unique in both lists when the profile has no birth date and
the names alone are trusted (``_names_alone``). The same probability sends a person the pairs
the tiers call implausible but the service's evidence says are likely (``REVIEW_P``). In a
service of any size, a shared guardian email links a pair whose names agree and nothing
contradicts (``_link_shared_guardians``); rooms only support or weakly doubt. Every
veto can only turn a link into a review, never the other way round, and each proposal carries
its reason as data (``ReasonKind``).

Assignment is greedy by evidence over all candidate pairs, strongest first (tier, then score, then
active before archived, then ids in natural order for determinism). We chose greedy over an
optimal assignment (Hungarian) because its outcome is explainable in one sentence per child
("the closer match took it"), it never trades a confident pair away to raise a total, and the
candidate graph is so sparse that the two rarely differ.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence

from smtui.match.candidates import nominate
from smtui.match.evidence import (
    LINK,
    REVIEW,
    Evidence,
    Person,
    RoomKeys,
    assess,
    child_person,
    natural_key,
    profile_person,
)
from smtui.match.names import AGREE_WELL, name_family
from smtui.match.results import Proposal, ProposalAction, ReasonKind
from smtui.match.weights import MIN_PEOPLE, learn, probability
from smtui.records import Child, Profile

PROMOTE_P = 0.99  # learned match probability a reviewable pair needs to become a link
REVIEW_P = 0.9  # ... and a pair the tiers find implausible needs to be worth a person's look
_VOWELS = frozenset("aeiouy")
REPLACED_SHARE = 0.02  # above this share of replaced name parts, names alone are weighed
# Log-odds the domain evidence adds to the learned weights. Fixed, not learned: EM over pairs
# where most sides lack it would learn little, and these are deliberately modest. A different
# address is weak against (families change addresses), rooms weaker still (children move).
GUARDIAN_ODDS = {"shared": 3.0, "different": -1.5, "": 0.0}
ROOM_ODDS = {"shared": 1.1, "different": -0.7, "": 0.0}
# Birth-date levels a shared guardian email may link over, with a name that agrees.
GUARDIAN_DATES = frozenset({"same", "missing", "swapped", "digit"})


def _twin_index(people: Sequence[Person]) -> dict[str, list[Person]]:
    """For each person, the others sharing a birth date and a surname word (twins, triplets)."""

    def keys(person: Person) -> set[str]:
        return (
            {f"{person.birth_date}|{word}" for word in person.last} if person.birth_date else set()
        )

    shared = Counter(key for person in people for key in keys(person))
    groups: dict[str, list[Person]] = defaultdict(list)
    for person in people:
        for key in keys(person):
            if shared[key] > 1:  # only these: a list per person would be garbage to collect
                groups[key].append(person)
    twins: dict[str, list[Person]] = defaultdict(list)
    for members in groups.values():
        if len(members) > 1:
            for person in members:
                known = {t.id for t in twins[person.id]}
                twins[person.id].extend(
                    o for o in members if o.id != person.id and o.id not in known
                )
    return twins


def _guard_twins(ev: Evidence, child_twins: list[Person], profile_twins: list[Person]) -> Evidence:
    """Twins share surname and birth date, so only the given name tells them apart.

    Without a well-agreeing given name (exact, preferred or a known nickname) a pair involving a
    twin is at most a review, and the reason names the twin.
    """
    if ev.tier < REVIEW or ev.agree_well or not (child_twins or profile_twins):
        return ev
    if child_twins:
        note = f"twin of {min(child_twins, key=lambda p: natural_key(p.id)).shown}: names differ"
    else:
        note = "profile has a twin with the same surname and birth date: names differ"
    return ev._replace(tier=REVIEW, guard_note=note)


def _suggestion_key(profile: Profile) -> tuple[object, ...]:
    """Which of a child's duplicate profiles to suggest: the one the family most likely uses."""
    return (
        profile.archived,
        profile.birth_date is None,
        profile.invitation_status not in ("accepted", "pending"),
        natural_key(profile.id),
    )


def _looks_like(ev: Evidence) -> bool:
    """Strong name and nothing against it: a profile that could be this very child."""
    return ev.strong and ev.dob in ("same", "missing")


def _another_look_alike(best: Evidence, other: Evidence) -> bool:
    """Another profile that could be this child too, unless the family says it is another's:
    the best pair shares a guardian email and the other's guardian emails differ."""
    if not (_looks_like(best) and _looks_like(other)):
        return False
    return not (best.guardian == "shared" and other.guardian == "different")


def _same_family_same_name(ev: Evidence) -> bool:
    """A profile with exactly the child's name and a shared guardian email: a twin's profile
    shares the family but never the given name, so only these may be called duplicates."""
    return ev.guardian == "shared" and ev.first.kind == ev.last.kind == "exact" and not ev.swapped


def _confirmed_duplicate(best: Evidence, other: Evidence) -> bool:
    """A second profile with the same strong name and the same birth date: one child, twice.

    Only these are held for the child during assignment; a look-alike without a birth date may
    just as well belong to a same-named child, so it is mentioned but left for others.
    """
    return best.strong and other.strong and best.dob == other.dob == "same"


def _pre_linked(
    children: Sequence[Child], profiles: Sequence[Profile], linked: Mapping[str, str]
) -> dict[str, str]:
    """child_id -> profile_id for pairs linked before; explicit mappings win over external_ref."""
    child_ids = {c.id for c in children}
    profile_ids = {p.id for p in profiles}
    fixed: dict[str, str] = {}
    taken: set[str] = set()
    for child_id, profile_id in sorted(linked.items(), key=lambda kv: natural_key(kv[0])):
        if child_id in child_ids and profile_id in profile_ids and profile_id not in taken:
            fixed[child_id] = profile_id
            taken.add(profile_id)
    referenced = sorted((p for p in profiles if p.external_ref), key=lambda p: natural_key(p.id))
    for profile in referenced:
        ref = profile.external_ref
        if ref in child_ids and ref not in fixed and profile.id not in taken:
            fixed[ref] = profile.id
            taken.add(profile.id)
    return fixed


def match_children(
    children: Sequence[Child],
    profiles: Sequence[Profile],
    *,
    linked: Mapping[str, str] | None = None,
    rooms: RoomKeys | None = None,
) -> list[Proposal]:
    """One proposal per child, in the children's order; no profile is proposed for two children.

    ``linked`` (child_id -> profile_id from existing mappings) and profiles whose external_ref is a
    child's id are kept as links. Any profile linked elsewhere (listed in ``linked`` or carrying
    an external_ref) is never offered to another child. ``rooms`` and the records' guardian
    emails are the domain evidence (``_link_shared_guardians``); without them nothing changes.
    """
    linked = dict(linked or {})
    rooms = rooms or RoomKeys()
    none: frozenset[str] = frozenset()
    fixed = _pre_linked(children, profiles, linked)
    claimed = set(linked.values()) | {p.id for p in profiles if p.external_ref}
    all_children = [child_person(c, rooms.children.get(c.id, none)) for c in children]
    open_children = [c for c in all_children if c.id not in fixed]
    free_profiles = sorted(
        (
            profile_person(p, rooms.profiles.get(p.id, none))
            for p in profiles
            if p.id not in claimed
        ),
        key=lambda p: natural_key(p.id),
    )
    # Ties break on ids in natural order, never on input order.
    child_rank = {
        c.id: n for n, c in enumerate(sorted(open_children, key=lambda c: natural_key(c.id)))
    }
    profile_rank = {p.id: n for n, p in enumerate(free_profiles)}

    def rank(ev: Evidence) -> tuple[object, ...]:
        return (
            -ev.tier,
            -ev.score,
            -domain_odds(ev),  # breaks ties only: twins share the family, so the names decide
            ev.archived,
            child_rank[ev.child_id],
            profile_rank[ev.profile_id],
        )

    options, contradicted, confident = _weigh(all_children, open_children, free_profiles, rank)
    changed = _link_unique_names(options, all_children, profiles, open_children, confident)
    if _link_shared_guardians(options, all_children, free_profiles):
        changed = True
    if changed:
        for mine in options.values():
            mine.sort(key=rank)
    chosen, taken, lost = _assign(options, rank)

    by_id = {p.id: p for p in profiles}
    proposals: list[Proposal] = []
    for child in children:
        if child.id in fixed:
            proposals.append(
                Proposal(
                    child.id,
                    "link",
                    fixed[child.id],
                    100.0,
                    "already linked",
                    kind="already_linked",
                )
            )
        elif child.id in chosen:
            ev, held = chosen[child.id]
            free = [o for o in options[child.id] if o.profile_id not in taken]
            loose = tuple(o.profile_id for o in free if _another_look_alike(ev, o))
            extra = tuple(o.profile_id for o in free if o.profile_id not in loose)
            family = {o.profile_id for o in options[child.id] if _same_family_same_name(o)}
            proposals.append(_proposal(ev, held, loose, extra, by_id, family))
        else:
            proposals.append(_create(child.id, contradicted.get(child.id), lost.get(child.id)))
    return proposals


def _weigh(
    all_children: Sequence[Person],
    open_children: Sequence[Person],
    free_profiles: Sequence[Person],
    rank: Callable[[Evidence], tuple[object, ...]],
) -> tuple[dict[str, list[Evidence]], dict[str, Evidence], Callable[[Evidence], bool]]:
    """Per child: plausible pairs best first, the strongest name ruled out by birth date, and
    whether a pair's names alone may link it (``_names_alone``)."""
    child_twins = _twin_index(all_children)
    profile_twins = _twin_index(free_profiles)
    no_twins: list[Person] = []
    options: dict[str, list[Evidence]] = {}
    contradicted: dict[str, Evidence] = {}
    doubtful: list[Evidence] = []
    untwinned: list[Evidence] = []
    for child, found in zip(open_children, nominate(open_children, free_profiles), strict=True):
        mine: list[Evidence] = []
        twins_c = child_twins.get(child.id, no_twins)
        for j in found:
            profile = free_profiles[j]
            twins_p = profile_twins.get(profile.id, no_twins)
            ev = _guard_twins(assess(child, profile), twins_c, twins_p)
            if not (twins_c or twins_p):
                untwinned.append(ev)
            if ev.tier >= REVIEW:
                mine.append(ev)
            elif ev.dob != "far":
                doubtful.append(ev)
            elif ev.strong:
                prior = contradicted.get(child.id)
                if prior is None or rank(ev) < rank(prior):
                    contradicted[child.id] = ev
        options[child.id] = mine
    weights = learn(open_children, free_profiles, [ev for mine in options.values() for ev in mine])
    odds: dict[str, dict[str, float]] = {}
    if weights is not None:
        names = _known_names(all_children, free_profiles)
        child_of = {c.id: c for c in open_children}
        profile_of = {p.id: p for p in free_profiles}
        for child_id, mine in options.items():
            child = child_of[child_id]
            odds[child_id] = mine_odds = {}
            for n, ev in enumerate(mine):
                profile = profile_of[ev.profile_id]
                mine_odds[ev.profile_id] = weights.log_odds(ev, child, profile) + domain_odds(ev)
                if probability(mine_odds[ev.profile_id]) >= PROMOTE_P and _promotable(
                    ev, child, profile, names
                ):
                    mine[n] = ev._replace(tier=LINK, basis="weighed")
        for ev in doubtful:  # names the tiers call too far apart, but likely
            child, profile = child_of[ev.child_id], profile_of[ev.profile_id]
            if weights.probability(ev, child, profile) >= REVIEW_P:
                twins = child_twins.get(child.id, no_twins), profile_twins.get(profile.id, no_twins)
                options[ev.child_id].append(_guard_twins(ev._replace(tier=REVIEW), *twins))
    for mine in options.values():
        mine.sort(key=rank)
    return options, contradicted, _names_alone(untwinned, odds)


def _names_alone(
    pairs: Sequence[Evidence], odds: Mapping[str, Mapping[str, float]]
) -> Callable[[Evidence], bool]:
    """Whether a name unique in both lists may link a pair with no birth date to compare.

    Always where the service's names are reliable: parts are rarely replaced outright. Elsewhere
    when the learned probability is overwhelming once uniqueness is counted: the model weighs a
    pair alone, as if a stranger with the same name could be in either list; with the name
    unique in both, the profile can only be a stranger's if that stranger's name was replaced
    by exactly this one, which the service's share of replaced parts makes that much rarer.
    """
    replaced = _replaced_share(pairs)
    if replaced <= REPLACED_SHARE:
        return lambda ev: ev.guardian != "different"
    bar = math.log(PROMOTE_P / (1 - PROMOTE_P)) + math.log(replaced)

    def confident(ev: Evidence) -> bool:
        known = odds.get(ev.child_id, {}).get(ev.profile_id, -math.inf) >= bar
        return ev.guardian != "different" and (known or ev.room == "shared")

    return confident


def domain_odds(ev: Evidence) -> float:
    """What the guardian emails and rooms add to a pair's learned log-odds (0 when unknown)."""
    return GUARDIAN_ODDS[ev.guardian] + ROOM_ODDS[ev.room]


def _known_names(children: Sequence[Person], profiles: Sequence[Person]) -> set[str]:
    """Given names this service has for real: any child's, and any two profiles share."""
    typed = Counter(p.first[0] for p in profiles if p.first)
    return {c.first[0] for c in children if c.first} | {n for n, k in typed.items() if k > 1}


def _promotable(ev: Evidence, child: Person, profile: Person, known_names: set[str]) -> bool:
    """Vetoes the learned weights cannot overrule; only these pairs may be promoted to a link.

    A birth date a little off needs names that agree well; a typo in the given name needs the
    same birth date, a spelling that is no name in its own right (not a name this service
    knows, ``_known_names``, not in the nickname table) and no vowel added or changed at the
    end (Daniel/Daniela, Mila/Milo are other names). A part left blank, or two slips in a
    surname, need the rest and the birth date to agree. Twins (a guard note), archived profiles
    and a part replaced by another name stay with a person.
    """
    if ev.tier != REVIEW or ev.guard_note or ev.archived:
        return False
    kinds = (ev.first.kind, ev.last.kind)
    if "different" in kinds or kinds == ("blank", "blank"):
        return False
    if "blank" in kinds:  # one part left out: the other and the birth date must agree
        return ev.dob == "same" and not ev.swapped
    if "near" in kinds:  # two slips: only in a surname, with a given name and birth date agreeing
        return ev.last.kind == "near" and ev.agree_well and ev.dob == "same" and not ev.swapped
    if ev.dob in ("swapped", "digit"):
        return ev.first.kind in AGREE_WELL and ev.last.kind in ("exact", "part") and not ev.swapped
    if ev.dob != "same":
        return False
    if ev.first.kind == "typo":
        return _mere_slip(ev, child, profile, known_names)
    return True


def _another_name(given: str, spelt: str) -> bool:
    """Daniel typed Daniela, Mila typed Milo, Louis typed Louise: a vowel added at the end or
    one final vowel for another makes another name (often a twin's), whatever the service knows.

    A final letter dropped or changed otherwise (Emma typed Emm, Toby typed Tobt, Aidan typed
    Aidank) is a slip unless the spelling is a name the caller knows (Daniela typed Daniel).
    """
    if len(spelt) == len(given) + 1 and spelt.startswith(given):
        return spelt[-1] in _VOWELS
    if len(given) == len(spelt) and given[:-1] == spelt[:-1]:
        return given[-1] in _VOWELS and spelt[-1] in _VOWELS
    return False


def _replaced_share(pairs: Sequence[Evidence]) -> float:
    """How often this service's names have a part replaced outright by another name.

    Among pairs born the same day whose names agree in one part, the share whose other part is
    a different name altogether (a changed surname, another given name): where that is common,
    a unique exact name may as well be someone else's renamed profile.
    """
    agree = replaced = 0
    for ev in pairs:
        if ev.dob != "same" or ev.guard_note:
            continue
        kinds = {ev.first.kind, ev.last.kind}
        if "exact" not in kinds and not kinds <= {"exact", "part", "typo", "slip", "nickname"}:
            continue
        if "different" in kinds:
            replaced += 1
        elif "blank" not in kinds:
            agree += 1
    return replaced / (agree + replaced) if replaced else 0.0


def _link_unique_names(
    options: dict[str, list[Evidence]],
    all_children: Sequence[Person],
    profiles: Sequence[Profile],
    open_children: Sequence[Person],
    confident: Callable[[Evidence], bool],
) -> bool:
    """Link a name unique in both lists when the profile has no birth date.

    Storypark's own setup matches on names alone; we only do so when the name occurs once among
    all children and once among all profiles, the child has a birth date, nobody else has a
    strong claim on either side, the lists are big enough for "unique" to mean something, and
    the names alone are ``confident`` (the service's names are reliable, or this name is rare
    enough for its learned probability to be overwhelming). The name may be typed the other way
    round, or with a slip in the given name that is nobody's name in either list. Returns
    whether any pair changed.
    """
    if len(all_children) < MIN_PEOPLE or len(profiles) < MIN_PEOPLE:
        return False
    changed = False
    child_keys = Counter(c.key for c in all_children)
    profile_key = {p.id: profile_person(p).key for p in profiles}
    profile_keys = Counter(profile_key.values())
    strong_claims = Counter(ev.profile_id for mine in options.values() for ev in mine if ev.strong)
    keys = {c.id: c.key for c in open_children if c.birth_date is not None}
    for child_id, mine in options.items():
        key = keys.get(child_id)
        if key is None or sum(ev.strong for ev in mine) != 1:
            continue
        for n, ev in enumerate(mine):
            typed = profile_key[ev.profile_id]
            if (
                ev.tier == REVIEW
                and ev.dob == "missing"
                and ev.strong
                and ev.first.kind in ("exact", "slip")
                and ev.last.kind == "exact"
                and not (ev.guard_note or ev.archived)
                and child_keys[key] == profile_keys[typed] == 1
                and (typed == key or child_keys[typed] == profile_keys[key] == 0)
                and strong_claims[ev.profile_id] == 1
                and confident(ev)
            ):
                mine[n] = ev._replace(tier=LINK, basis="unique_name")
                changed = True
    return changed


def _link_shared_guardians(
    options: dict[str, list[Evidence]],
    all_children: Sequence[Person],
    free_profiles: Sequence[Person],
) -> bool:
    """Link a reviewable pair whose child and profile share a guardian email and whose names
    agree, when nothing contradicts it: the family's own address is evidence only this domain
    has, and it settles the missing birth date, a day/month swap, a digit or a nickname.

    Twins and siblings share guardians too, so this only lifts what the names already say: a
    strong name (``evidence._is_strong``), no twin guard, a given-name typo only where
    ``_promotable`` would accept one (Daniel/Daniela stays a review) and with a birth date on
    both sides (an undated Eva may be a departed twin of Ava's), rooms not disagreeing
    unless the given name is exact (children move rooms; a nickname in another room is
    another doubt), a profile not archived, and no other child with a strong claim on the
    profile unless that child's guardian emails differ from the profile's. Works in a service
    of any size: it learns nothing. Returns whether any pair changed.
    """
    if not any(p.emails for p in free_profiles):
        return False
    # A same-named child of another family (its guardian emails differ) is no rival claim.
    rivals = Counter(
        ev.profile_id
        for mine in options.values()
        for ev in mine
        if ev.strong and ev.guardian != "different"
    )
    names = _known_names(all_children, free_profiles)
    child_of = {c.id: c for c in all_children}
    profile_of = {p.id: p for p in free_profiles}
    changed = False
    for child_id, mine in options.items():
        for n, ev in enumerate(mine):
            if (
                ev.tier == REVIEW
                and ev.guardian == "shared"
                and (ev.room != "different" or ev.first.kind == "exact")
                and ev.strong
                and ev.dob in GUARDIAN_DATES
                and not (ev.guard_note or ev.archived)
                and rivals[ev.profile_id] == 1
                and (
                    ev.first.kind not in ("slip", "typo")
                    or (
                        ev.dob != "missing"
                        and _mere_slip(ev, child_of[child_id], profile_of[ev.profile_id], names)
                    )
                )
            ):
                mine[n] = ev._replace(tier=LINK, basis="guardian")
                changed = True
    return changed


def _mere_slip(ev: Evidence, child: Person, profile: Person, known_names: set[str]) -> bool:
    """A given name spelt differently is a slip only when the spelling is no name of its own:
    not one this service knows (``_known_names``), not in the nickname table, and not another
    name by its final vowel (``_another_name``)."""
    spelt = (profile.last if ev.swapped else profile.first)[:1]
    given = child.first[:1]
    if not spelt or not given or spelt[0] in known_names or len(name_family(spelt[0])) > 1:
        return False
    return not _another_name(given[0], spelt[0])


def _assign(
    options: Mapping[str, list[Evidence]], rank: Callable[[Evidence], tuple[object, ...]]
) -> tuple[dict[str, tuple[Evidence, tuple[str, ...]]], dict[str, str], dict[str, tuple[str, str]]]:
    """Greedy one-to-one: strongest pair first; a child's confirmed duplicates are held for it.

    Returns chosen (child_id -> (pair, held duplicate ids)), taken (profile_id -> child_id) and
    lost (child_id -> (profile_id, winning child_id)) for children whose best profile went
    elsewhere.
    """
    chosen: dict[str, tuple[Evidence, tuple[str, ...]]] = {}
    taken: dict[str, str] = {}
    lost: dict[str, tuple[str, str]] = {}
    for ev in sorted((ev for mine in options.values() for ev in mine), key=rank):
        if ev.child_id in chosen:
            continue
        if ev.profile_id in taken:
            lost.setdefault(ev.child_id, (ev.profile_id, taken[ev.profile_id]))
            continue
        held = tuple(
            o.profile_id
            for o in options[ev.child_id]
            if o.profile_id != ev.profile_id
            and o.profile_id not in taken
            and _confirmed_duplicate(ev, o)
        )
        chosen[ev.child_id] = (ev, held)
        for profile_id in (ev.profile_id, *held):
            taken[profile_id] = ev.child_id
    return chosen, taken, lost


_COUNTS = {2: "two", 3: "three"}


def _proposal(
    ev: Evidence,
    held: tuple[str, ...],
    loose: tuple[str, ...],
    extra: tuple[str, ...],
    by_id: Mapping[str, Profile],
    family: set[str],
) -> Proposal:
    """Link, review, or a "pick one" review when several profiles look like this child.

    Several profiles that all have the child's exact name and share a guardian email with it,
    the child linked with confidence, are one family's duplicates: any of them is this child's,
    so the one the family most likely uses is linked and the rest are named for a person to
    archive.
    """
    if held or loose:
        group = sorted((ev.profile_id, *held), key=lambda pid: _suggestion_key(by_id[pid]))
        listed = ", ".join(sorted((*group, *loose), key=natural_key))
        count = len(group) + len(loose)
        alternatives = (*group[1:], *loose, *extra)
        if ev.tier == LINK and family.issuperset((*group, *loose)):
            reason = (
                f"{_COUNTS.get(count, count)} profiles of this child ({listed}), all sharing a "
                f"guardian email: linked {group[0]}, the others are duplicates"
            )
            return Proposal(
                ev.child_id, "link", group[0], ev.score, reason, alternatives, "duplicate_profiles"
            )
        reason = f"{_COUNTS.get(count, count)} profiles look like this child ({listed}): pick one"
        return Proposal(
            ev.child_id, "review", group[0], ev.score, reason, alternatives, "several_profiles"
        )
    action: ProposalAction = "link" if ev.tier == LINK else "review"
    return Proposal(ev.child_id, action, ev.profile_id, ev.score, ev.reason(), extra, _kind(ev))


def _kind(ev: Evidence) -> ReasonKind:
    """The reason as data, for a link or a single-profile review."""
    if ev.basis == "unique_name":
        return "unique_name_no_birth_date"
    if ev.basis == "weighed":
        return "weighed_evidence"
    if ev.basis == "guardian":
        return "shared_guardian"
    if ev.tier == LINK:
        exact = ev.first.kind == ev.last.kind == "exact" and not ev.swapped
        return "same_name_same_birth_date" if exact else "similar_name_same_birth_date"
    if ev.guard_note:
        return "twin"
    if ev.dob == "missing":
        return "profile_no_birth_date" if ev.child_dated else "ccms_no_birth_date"
    if ev.dob != "same":
        return "birth_date_differs"
    return "name_differs"


def _create(child_id: str, contradicted: Evidence | None, lost: tuple[str, str] | None) -> Proposal:
    if contradicted is not None:
        exact = contradicted.first.kind == contradicted.last.kind == "exact"
        same = "same name" if exact and not contradicted.swapped else "similar name"
        reason = f"{same} as {contradicted.profile_id} but {contradicted.dob_note}"
        kind: ReasonKind = "namesake_far_birth_date"
    elif lost is not None:
        reason = f"closest profile {lost[0]} fits child {lost[1]} better; no other similar profile"
        kind = "closer_match_elsewhere"
    else:
        reason, kind = "no similar profile", "no_similar_profile"
    return Proposal(child_id, "create", None, 0.0, reason, kind=kind)
