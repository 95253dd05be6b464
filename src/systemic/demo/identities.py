"""Made-up clear identities for the demo town, and silo extracts with realistic errors.

No real person is in these tables: names are drawn from lists of common
English forenames and surnames (surnames also built from common parts, so
that there are thousands), dates of birth are uniform over an age range, and
addresses are invented streets in made-up postcode districts shaped like UK
postcodes. Each silo then writes its own extract with its own record ids and
the errors real extracts have: typos, nicknames, day and month swapped,
other date formats, old addresses and missing fields.

>>> ids = town_identities(["a", "b", "c"], seed=1)
>>> ids.columns[:6]
['person_id', 'forename', 'surname', 'date_of_birth', 'postcode', 'address']
>>> ext = silo_extract(ids, "housing", seed=1)
>>> ext.columns[:3], ext.height
(['record_id', 'person_id', 'First name'], 3)
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import polars as pl

FORENAMES = [
    "oliver",
    "george",
    "harry",
    "jack",
    "jacob",
    "noah",
    "charlie",
    "thomas",
    "oscar",
    "william",
    "james",
    "henry",
    "leo",
    "alfie",
    "joshua",
    "freddie",
    "archie",
    "ethan",
    "isaac",
    "alexander",
    "joseph",
    "edward",
    "samuel",
    "max",
    "daniel",
    "arthur",
    "lucas",
    "mohammed",
    "logan",
    "theo",
    "harrison",
    "benjamin",
    "mason",
    "sebastian",
    "finley",
    "adam",
    "dylan",
    "zachary",
    "riley",
    "teddy",
    "david",
    "toby",
    "jake",
    "louie",
    "elijah",
    "luca",
    "reuben",
    "tyler",
    "robert",
    "michael",
    "richard",
    "christopher",
    "anthony",
    "peter",
    "john",
    "stephen",
    "andrew",
    "paul",
    "mark",
    "kevin",
    "gary",
    "ian",
    "olivia",
    "amelia",
    "isla",
    "ava",
    "emily",
    "isabella",
    "mia",
    "poppy",
    "ella",
    "lily",
    "sophia",
    "grace",
    "evie",
    "sophie",
    "ruby",
    "charlotte",
    "jessica",
    "florence",
    "freya",
    "daisy",
    "alice",
    "chloe",
    "phoebe",
    "matilda",
    "elsie",
    "sienna",
    "evelyn",
    "holly",
    "emma",
    "megan",
    "lucy",
    "hannah",
    "katie",
    "lauren",
    "rebecca",
    "rachel",
    "sarah",
    "laura",
    "jennifer",
    "elizabeth",
    "margaret",
    "susan",
    "patricia",
    "barbara",
    "catherine",
    "victoria",
    "kimberley",
    "amanda",
    "deborah",
    "nicola",
    "joanne",
    "helen",
    "karen",
    "julie",
    "tracey",
    "janet",
    "maureen",
]

#: Nicknames a clerk might write instead of the name on record.
NICKNAMES = {
    "william": "bill",
    "robert": "bob",
    "richard": "dick",
    "thomas": "tom",
    "james": "jim",
    "joseph": "joe",
    "edward": "ted",
    "alexander": "alex",
    "christopher": "chris",
    "anthony": "tony",
    "michael": "mike",
    "daniel": "danny",
    "samuel": "sam",
    "benjamin": "ben",
    "margaret": "peggy",
    "elizabeth": "liz",
    "catherine": "kate",
    "victoria": "vicky",
    "rebecca": "becky",
    "jennifer": "jenny",
    "patricia": "pat",
    "susan": "sue",
    "deborah": "debbie",
    "kimberley": "kim",
    "nicola": "nicky",
}

COMMON_SURNAMES = [
    "smith",
    "jones",
    "williams",
    "taylor",
    "brown",
    "davies",
    "evans",
    "wilson",
    "thomas",
    "johnson",
    "roberts",
    "robinson",
    "thompson",
    "wright",
    "walker",
    "white",
    "edwards",
    "hughes",
    "green",
    "hall",
    "lewis",
    "harris",
    "clarke",
    "patel",
    "jackson",
    "wood",
    "turner",
    "martin",
    "cooper",
    "hill",
    "ward",
    "morris",
    "moore",
    "clark",
    "lee",
    "king",
    "baker",
    "harrison",
    "morgan",
    "allen",
    "james",
    "scott",
    "phillips",
    "watson",
    "davis",
    "parker",
    "price",
    "bennett",
    "young",
    "griffiths",
    "mitchell",
    "kelly",
    "cook",
    "carter",
    "richardson",
    "bailey",
    "collins",
    "bell",
    "shaw",
    "murphy",
    "miller",
    "cox",
    "richards",
    "khan",
    "marshall",
    "anderson",
    "simpson",
    "ellis",
    "adams",
    "singh",
    "begum",
    "wilkinson",
    "foster",
    "chapman",
    "powell",
    "webb",
]
_SURNAME_HEADS = [
    "ash",
    "black",
    "brad",
    "brook",
    "church",
    "cold",
    "cross",
    "dun",
    "fair",
    "green",
    "hart",
    "hay",
    "holl",
    "kings",
    "lang",
    "long",
    "mar",
    "middle",
    "new",
    "north",
    "oak",
    "pen",
    "ram",
    "red",
    "rid",
    "rush",
    "shel",
    "stan",
    "stock",
    "sut",
    "thorn",
    "wake",
    "west",
    "whit",
    "wind",
    "wood",
    "brom",
    "cal",
    "ches",
    "dar",
    "elm",
]
_SURNAME_TAILS = [
    "ford",
    "ley",
    "ton",
    "wood",
    "field",
    "worth",
    "by",
    "well",
    "ham",
    "ridge",
    "more",
    "cott",
    "stead",
    "hurst",
    "wick",
]

STREETS = [
    "high",
    "church",
    "station",
    "park",
    "victoria",
    "mill",
    "queen's",
    "king's",
    "london",
    "manor",
    "school",
    "green",
    "chapel",
    "north",
    "south",
    "bridge",
    "orchard",
    "meadow",
    "farm",
    "grange",
    "albert",
    "windsor",
    "york",
    "springfield",
    "highfield",
    "mount",
]
STREET_KINDS = ("street", "road", "lane", "avenue", "close", "drive", "way", "grove")
POSTCODE_AREAS = ("TS", "TN", "TQ", "TR", "TF", "TW")
_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"  # letters used in inward codes


@dataclass(frozen=True)
class SiloStyle:
    """How one silo writes its extract: column names, date format, error rates."""

    prefix: str
    columns: dict[str, str]
    date_format: str
    typo: float = 0.03
    nickname: float = 0.05
    swapped_date: float = 0.02
    missing_date: float = 0.03
    old_address: float = 0.08
    missing_postcode: float = 0.03


#: Each silo's own style. Record ids are the silo's own: none is shared.
SILO_STYLES: dict[str, SiloStyle] = {
    "housing": SiloStyle(
        "HSG",
        {
            "forename": "First name",
            "surname": "Surname",
            "date_of_birth": "DOB",
            "postcode": "Post code",
            "address": "Address",
        },
        "%d/%m/%Y",
    ),
    "benefits": SiloStyle(
        "CLM",
        {
            "forename": "forename",
            "surname": "surname",
            "date_of_birth": "birth_date",
            "postcode": "postcode",
            "address": "address_line",
        },
        "%Y-%m-%d",
    ),
    "social_care": SiloStyle(
        "ASC",
        {
            "forename": "Given Name",
            "surname": "Family Name",
            "date_of_birth": "Date of Birth",
            "postcode": "Postcode",
            "address": "Home Address",
        },
        "%d-%m-%Y",
        missing_date=0.01,
    ),
    "contact_centre": SiloStyle(
        "CRM",
        {
            "forename": "caller_first",
            "surname": "caller_last",
            "date_of_birth": "caller_dob",
            "postcode": "caller_postcode",
            "address": "caller_address",
        },
        "%d/%m/%Y",
        typo=0.06,
        nickname=0.12,
        missing_date=0.25,
        old_address=0.12,
    ),
}


def _surnames() -> list[str]:
    built = [h + t for h in _SURNAME_HEADS for t in _SURNAME_TAILS]
    return COMMON_SURNAMES + built


def _zipf_choice(rng: np.random.Generator, items: list[str], n: int, s: float) -> np.ndarray:
    ranks = np.arange(1, len(items) + 1, dtype=np.float64)
    w = ranks**-s
    return np.asarray(items, dtype=object)[rng.choice(len(items), size=n, p=w / w.sum())]


def _postcodes(rng: np.random.Generator, n: int) -> np.ndarray:
    area = rng.choice(POSTCODE_AREAS, size=n)
    district = rng.integers(1, 20, size=n)
    sector = rng.integers(0, 10, size=n)
    unit = [
        _LETTERS[a] + _LETTERS[b]
        for a, b in zip(rng.integers(0, 20, size=n), rng.integers(0, 20, size=n), strict=True)
    ]
    return np.array(
        [f"{a}{d} {s}{u}" for a, d, s, u in zip(area, district, sector, unit, strict=True)],
        dtype=object,
    )


def _addresses(rng: np.random.Generator, n: int) -> np.ndarray:
    number = rng.integers(1, 200, size=n)
    street = rng.choice(STREETS, size=n)
    kind = rng.choice(STREET_KINDS, size=n)
    return np.array(
        [f"{a} {s.title()} {k.title()}" for a, s, k in zip(number, street, kind, strict=True)],
        dtype=object,
    )


def town_identities(person_ids: list[str] | pl.Series, *, seed: int = 0) -> pl.DataFrame:
    """A made-up clear identity (and a previous address) for each person id."""
    ids = list(person_ids)
    n = len(ids)
    rng = np.random.default_rng(seed)
    start = dt.date(1930, 1, 1).toordinal()
    days = rng.integers(0, dt.date(2008, 12, 31).toordinal() - start, size=n)
    return pl.DataFrame(
        {
            "person_id": ids,
            "forename": _zipf_choice(rng, FORENAMES, n, 0.6).tolist(),
            "surname": _zipf_choice(rng, _surnames(), n, 0.7).tolist(),
            "date_of_birth": [dt.date.fromordinal(start + int(d)) for d in days],
            "postcode": _postcodes(rng, n).tolist(),
            "address": _addresses(rng, n).tolist(),
            "old_postcode": _postcodes(rng, n).tolist(),
            "old_address": _addresses(rng, n).tolist(),
        }
    )


def _typo(words: list[str], rng: np.random.Generator) -> list[str]:
    out = []
    for w in words:
        i = int(rng.integers(0, max(len(w) - 1, 1)))
        kind = rng.integers(0, 3)
        if kind == 0 and len(w) > 3:  # drop a letter
            w = w[:i] + w[i + 1 :]
        elif kind == 1 and len(w) > 2:  # swap two letters
            w = w[:i] + w[i + 1] + w[i] + w[i + 2 :]
        else:  # a wrong letter
            w = w[:i] + "abcdefghijklmnopqrstuvwxyz"[int(rng.integers(0, 26))] + w[i + 1 :]
        out.append(w)
    return out


def silo_extract(
    identities: pl.DataFrame, silo: str, *, seed: int = 0, style: SiloStyle | None = None
) -> pl.DataFrame:
    """One silo's extract: its own record id per person, fields with its errors.

    Keeps ``person_id`` (the simulation's truth) so the demo can score the
    linkage; that column is dropped before the extract is linked.
    """
    st = style or SILO_STYLES[silo]
    rng = np.random.default_rng([seed, sum(map(ord, silo))])
    n = identities.height
    forename = identities["forename"].to_list()
    surname = identities["surname"].to_list()
    u = rng.random((7, n))
    nick = [
        NICKNAMES.get(f, f) if p < st.nickname else f for f, p in zip(forename, u[0], strict=True)
    ]
    typo_idx = np.flatnonzero(u[1] < st.typo)
    surname = list(surname)
    for i, w in zip(typo_idx, _typo([surname[i] for i in typo_idx], rng), strict=True):
        surname[i] = w
    dob = identities["date_of_birth"].to_list()
    dates: list[str | None] = []
    for d, p_swap, p_miss in zip(dob, u[2], u[3], strict=True):
        if p_miss < st.missing_date:
            dates.append(None)
        elif p_swap < st.swapped_date and d.day <= 12 and d.day != d.month:
            dates.append(dt.date(d.year, d.day, d.month).strftime(st.date_format))
        else:
            dates.append(d.strftime(st.date_format))
    moved = u[4] < st.old_address
    postcode = np.where(moved, identities["old_postcode"], identities["postcode"]).astype(object)
    address = np.where(moved, identities["old_address"], identities["address"]).astype(object)
    postcode[u[5] < st.missing_postcode] = None
    # Postcodes written carelessly: lower case or without the space, now and then.
    sloppy = u[6] < 0.2
    postcode = [
        (p.lower().replace(" ", "") if s else p) if p is not None else None
        for p, s in zip(postcode, sloppy, strict=True)
    ]
    record_ids = rng.permutation(n) + 100_000
    c = st.columns
    return pl.DataFrame(
        {
            "record_id": [f"{st.prefix}-{r}" for r in record_ids],
            "person_id": identities["person_id"],
            c["forename"]: [f.title() for f in nick],
            c["surname"]: [s.upper() if silo == "benefits" else s.title() for s in surname],
            c["date_of_birth"]: dates,
            c["postcode"]: postcode,
            c["address"]: address.tolist(),
        }
    )


def silo_settings_toml(silos: list[str], styles: dict[str, SiloStyle] | None = None) -> str:
    """Linkage settings for the silos' extracts (their own columns and date formats)."""
    styles = styles or SILO_STYLES
    fmt = {"%d/%m/%Y": "dd/mm/yyyy", "%Y-%m-%d": "yyyy-mm-dd", "%d-%m-%Y": "dd-mm-yyyy"}
    formats = sorted({fmt[styles[s].date_format] for s in silos})
    lines = [
        "[linkage]",
        'link_type = "link_and_dedupe"',
        "",
        "[fields]",
        f"date_of_birth = {{ formats = {formats!r} }}".replace("'", '"'),
        "",
    ]
    for s in silos:
        st = styles[s]
        cols = ", ".join(f'{k} = "{v}"' for k, v in st.columns.items())
        lines += [f"[sources.{s}]", 'record_id = "record_id"', f"columns = {{ {cols} }}", ""]
    return "\n".join(lines)
