"""Name data and the ways educators mistype names, for the seeded world.

Names are drawn from faker's en_AU / en_NZ pools (read once, then sampled with our own seeded
RNG so generation is fast and byte-for-byte repeatable) plus hand-made lists covering the
families Australian and New Zealand centres actually enrol: Māori, Pacific, Asian and European
names with accents. The "mess" helpers reproduce what hand-typed portfolio profiles look like.
"""

from __future__ import annotations

import functools
import random
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

# Formal names with the short forms families and educators actually use.
NICKNAMES: dict[str, tuple[str, ...]] = {
    "Elizabeth": ("Liz", "Lizzie", "Beth", "Eliza"),
    "William": ("Will", "Billy", "Liam"),
    "Alexander": ("Alex", "Xander"),
    "Benjamin": ("Ben", "Benji"),
    "Charlotte": ("Lottie", "Charlie"),
    "Isabella": ("Izzy", "Bella"),
    "Matthew": ("Matt",),
    "Samuel": ("Sam", "Sammy"),
    "Thomas": ("Tom", "Tommy"),
    "Oliver": ("Ollie",),
    "Jacob": ("Jake",),
    "James": ("Jamie", "Jim"),
    "Olivia": ("Liv", "Livvy"),
    "Amelia": ("Millie", "Mia"),
    "Abigail": ("Abby",),
    "Katherine": ("Kate", "Katie"),
    "Margaret": ("Maggie", "Meg"),
    "Theodore": ("Theo", "Teddy"),
    "Henry": ("Harry", "Hank"),
    "Joshua": ("Josh",),
    "Nicholas": ("Nick", "Nico"),
    "Daniel": ("Dan", "Danny"),
    "Madeleine": ("Maddie", "Maddy"),
    "Sophia": ("Sophie",),
    "Zachary": ("Zach",),
    "Frederick": ("Freddie", "Fred"),
    "Edward": ("Ed", "Teddy", "Eddie"),
    "Christopher": ("Chris", "Kit"),
    "Evelyn": ("Evie",),
    "Penelope": ("Penny", "Nell"),
    "Matilda": ("Tilly", "Tilda"),
    "Archibald": ("Archie",),
    "Eleanor": ("Ellie", "Nell", "Nora"),
    "Harrison": ("Harry",),
    "Jonathan": ("Jon", "Jonny"),
    "Gabriel": ("Gabe",),
    "Josephine": ("Josie",),
    "Florence": ("Flo", "Florrie"),
}

MAORI_FIRST = (
    "Aroha", "Tama", "Mere", "Nikau", "Ariki", "Kahu", "Manaia", "Anahera", "Wiremu", "Hemi",
    "Tūī", "Kōwhai", "Mīria", "Rāwiri", "Ihaia", "Te Ao", "Hine", "Māia", "Tāne", "Kauri",
    "Ngaio", "Rangi", "Whetū", "Āperahama", "Ātaahua",
)  # fmt: skip
MAORI_LAST = (
    "Ngata", "Te Awa", "Parata", "Tipene", "Te Whata", "Horomona", "Tāwhai", "Rāwiri",
    "Te Kani", "Ngāwaka", "Pōmare", "Tūhiwai", "Walker", "Hēnare", "Tamihana",
)  # fmt: skip
PACIFIC_FIRST = (
    "Sione", "Mele", "Losa", "Tavita", "Lupe", "Malakai", "Ana", "Sefo", "Talia", "Viliami",
    "Lagi", "Folau", "Salote", "Ioane", "Leilani", "Siaosi",
)  # fmt: skip
PACIFIC_LAST = (
    "Tuilagi", "Fonoti", "Taufa", "Fifita", "Leota", "Faleolo", "Vaifale", "Tupou", "Aumua",
    "Soliai", "Havili", "Matagi",
)  # fmt: skip
ASIAN_FIRST = (
    "Aarav", "Priya", "Ananya", "Arjun", "Ishaan", "Siddharth", "Minh", "Linh", "Ji-woo",
    "Seo-yeon", "Haruto", "Yuki", "Jun", "Xin", "Mei", "Hao", "Thảo", "Bảo", "Anh", "Riya",
    "Kabir", "Sakura", "Hiro", "Jia", "Ren",
)  # fmt: skip
ASIAN_LAST = (
    "Nguyen", "Tran", "Le", "Wang", "Li", "Zhang", "Chen", "Kim", "Park", "Patel", "Singh",
    "Sharma", "Tanaka", "Wong", "Huang", "Pham", "Choi", "Iyer", "Sato", "Lim",
)  # fmt: skip
EUROPEAN_FIRST = (
    "Zoë", "José", "Siân", "Chloé", "Renée", "Amélie", "Noé", "Björn", "Søren", "Élodie",
    "Léa", "Chloë", "Anaïs", "Raphaël", "Joël", "Ffion", "Aoife", "Niamh", "Seán", "Ciarán",
    "Inés", "Matías", "Lukáš", "Zoé", "Jürgen", "Małgosia", "Émile",
)  # fmt: skip
EUROPEAN_LAST = (
    "Müller", "Gómez", "Muñoz", "O'Brien", "Jørgensen", "Lefèvre", "Kovač", "Nowak",
    "Ó Briain", "Dvořák", "Peña", "Schröder", "Rossi", "Papadopoulos", "Ní Bhriain", "Łukasik",
)  # fmt: skip

# The names topping recent Australian and New Zealand birth registrations.
POPULAR_FIRST = (
    "Charlotte", "Olivia", "Amelia", "Isla", "Mia", "Ava", "Grace", "Matilda", "Harper", "Hazel",
    "Willow", "Ivy", "Frankie", "Sadie", "Oliver", "Noah", "Leo", "Jack", "Henry", "Hudson",
    "Theodore", "Luca", "Archie", "Harvey", "Arlo", "Charlie", "Hunter", "Ari", "Mason", "Lachlan",
)  # fmt: skip

# Sibling first names that differ by a letter or two: a fuzzy matcher's favourite trap.
NEAR_SIBLINGS = (
    ("Ava", "Eva"), ("Ella", "Ellie"), ("Lily", "Lilly"), ("Aiden", "Aidan"), ("Mila", "Milla"),
    ("Noah", "Noa"), ("Isla", "Isha"), ("Mia", "Maia"), ("Leo", "Theo"), ("Hana", "Hannah"),
)  # fmt: skip

# Twins get deliberately different but same-era first names.
TWIN_NAMES = (
    ("Oscar", "Hugo"), ("Ruby", "Rose"), ("Archer", "Hudson"), ("Grace", "Harper"),
    ("Tama", "Aroha"), ("Jack", "Finn"), ("Olive", "Pearl"), ("Kai", "Mana"),
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class _Pool:
    names: tuple[str, ...]
    cum_weights: tuple[float, ...]

    def pick(self, rng: random.Random) -> str:
        return rng.choices(self.names, cum_weights=self.cum_weights, k=1)[0]


def _pool(weighted: dict[str, float]) -> _Pool:
    names = tuple(weighted)
    total = 0.0
    cum = []
    for name in names:
        total += float(weighted[name])
        cum.append(total)
    return _Pool(names, tuple(cum))


@functools.cache
def _faker_pools() -> dict[str, dict[str, _Pool]]:
    """Faker's person pools (en_AU uses the en_US one), sampled with our RNG: ~50x faster."""
    from faker.providers.person import en_NZ, en_US

    pools: dict[str, dict[str, _Pool]] = {}
    for locale, provider in (("en_AU", en_US.Provider), ("en_NZ", en_NZ.Provider)):
        pools[locale] = {
            "female": _pool(dict(provider.first_names_female)),
            "male": _pool(dict(provider.first_names_male)),
            "last": _pool(dict(provider.last_names)),
        }
    return pools


# Share of each name origin per region, in the order of _ORIGINS.
_ORIGINS = ("faker", "popular", "formal", "maori", "pacific", "asian", "european")
_MIX = {
    "au": (0.34, 0.22, 0.14, 0.03, 0.05, 0.14, 0.08),
    "nz": (0.22, 0.12, 0.10, 0.24, 0.14, 0.10, 0.08),
}


class NameMaker:
    """Draws plausible child names for one region from a seeded RNG."""

    def __init__(self, rng: random.Random, region: str) -> None:
        self._rng = rng
        self._locale = "en_NZ" if region == "nz" else "en_AU"
        self._weights = _MIX[region]
        self._pools = _faker_pools()[self._locale]

    def first(self) -> str:
        rng = self._rng
        origin = rng.choices(_ORIGINS, weights=self._weights, k=1)[0]
        if origin == "popular":
            return rng.choice(POPULAR_FIRST)
        if origin == "formal":
            return rng.choice(tuple(NICKNAMES))
        if origin == "maori":
            return rng.choice(MAORI_FIRST)
        if origin == "pacific":
            return rng.choice(PACIFIC_FIRST)
        if origin == "asian":
            return rng.choice(ASIAN_FIRST)
        if origin == "european":
            return rng.choice(EUROPEAN_FIRST)
        return self._pools[rng.choice(("female", "male"))].pick(rng)

    def last(self) -> str:
        rng = self._rng
        origin = rng.choices(_ORIGINS, weights=self._weights, k=1)[0]
        if origin == "maori":
            name = rng.choice(MAORI_LAST)
        elif origin == "pacific":
            name = rng.choice(PACIFIC_LAST)
        elif origin == "asian":
            name = rng.choice(ASIAN_LAST)
        elif origin == "european":
            name = rng.choice(EUROPEAN_LAST)
        else:
            name = self._pools["last"].pick(rng)
        if rng.random() < 0.06:  # double-barrelled family names
            other = self._pools["last"].pick(rng)
            if other != name and " " not in name:
                name = f"{name}-{other}"
        return name


# --- how hand-typed names go wrong ---------------------------------------------------------


_NO_DECOMPOSITION = str.maketrans({"ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "ß": "ss"})


def strip_accents(text: str) -> str:
    """'Zoë' -> 'Zoe', 'Tūī' -> 'Tui': what a keyboard without macrons produces."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).translate(
        _NO_DECOMPOSITION
    )


def has_accents(text: str) -> bool:
    return strip_accents(text) != text


def typo(rng: random.Random, text: str) -> str:
    """One keyboard slip: a swapped, dropped or doubled letter (never the first letter)."""
    if len(text) < 4:
        return text + text[-1]
    i = rng.randrange(1, len(text) - 1)
    kind = rng.choice(("swap", "drop", "double"))
    if kind == "swap" and text[i] != text[i + 1]:
        return text[:i] + text[i + 1] + text[i] + text[i + 2 :]
    if kind == "drop":
        return text[:i] + text[i + 1 :]
    return text[:i] + text[i] + text[i:]


def nickname(rng: random.Random, first: str) -> str | None:
    options: Sequence[str] = NICKNAMES.get(first, ())
    return rng.choice(options) if options else None
