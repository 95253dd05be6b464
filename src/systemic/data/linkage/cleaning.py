"""Cleaning identifying fields before they are compared.

Each kind of field has one cleaning, written as a Polars expression so that a
million records clean in the engine, not in a Python loop. What comes out is
still clear personal data: it lives only in memory (and in the linkage engine's
own temporary tables) while records are compared, and is never written out.

>>> import polars as pl
>>> df = pl.DataFrame({"pc": [" sw1a1aa", "SW1A 1AA", "not one"],
...                    "dob": ["25/12/1980", "12/25/1980", "1980-12-25"]})
>>> df.select(clean_postcode(pl.col("pc")), clean_date(pl.col("dob"),
...     ["dd/mm/yyyy", "yyyy-mm-dd"])).rows()
[('SW1A 1AA', '1980-12-25'), ('SW1A 1AA', '1980-12-25'), (None, '1980-12-25')]
"""

from __future__ import annotations

import datetime as dt
from functools import cache

import polars as pl

from systemic.data.mapping import strftime_format

#: A full UK postcode with its space removed: outward code, then inward code.
UK_POSTCODE = r"^([A-Z]{1,2}[0-9][A-Z0-9]?)([0-9][A-Z]{2})$"
#: A National Insurance number without spaces (the suffix letter is often left off).
NI_NUMBER = r"^[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z][0-9]{6}[A-D]?$"
EARLIEST_BIRTH_YEAR = 1880


def _blank_to_null(e: pl.Expr) -> pl.Expr:
    return pl.when(e.str.len_chars() > 0).then(e).otherwise(None)


def clean_name(e: pl.Expr) -> pl.Expr:
    """Lower case, accents off, punctuation and spaces tidied.

    >>> pl.select(clean_name(pl.lit("  O'Brien-SMITH ")).alias("x")).item()
    'obrien smith'
    """
    e = e.str.normalize("NFKD").str.replace_all(r"\p{M}", "").str.to_lowercase()
    e = e.str.replace_all(r"['’`.]", "").str.replace_all(r"[^a-z]+", " ").str.strip_chars()
    return _blank_to_null(e)


@cache
def _nickname_table() -> dict[str, list[str]]:
    """Each known name -> itself and the names it is a nickname of.

    From the ``nicknames`` package (a hand-curated list of English names and
    their nicknames). The list relates names both ways and in chains (Bill is
    given for Robert and for William), so no single canonical form exists;
    two forenames agree as nicknames when their sets share a name.
    """
    from nicknames import NickNamer

    canonicals = NickNamer().canonical_lookup
    return {name: sorted({name, *names}) for name, names in canonicals.items()}


def nickname_key(e: pl.Expr) -> pl.Expr:
    """A cleaned forename with the names it may stand for, as a list.

    >>> pl.select(nickname_key(pl.lit("bob")).alias("x")).item().to_list()
    ['bert', 'bob', 'bobby', 'robert']
    >>> pl.select(nickname_key(pl.lit("zebedee")).alias("x")).item().to_list()
    ['zebedee']
    """
    table = _nickname_table()
    known = e.replace_strict(
        list(table), list(table.values()), default=None, return_dtype=pl.List(pl.String)
    )
    return pl.when(e.is_null()).then(None).otherwise(pl.coalesce(known, pl.concat_list([e])))


def _date_patterns(formats: list[str]) -> list[str]:
    """strftime patterns to try: each format, then each with day and month swapped.

    The swapped patterns come after all the given ones, so a date valid as
    written is read as written; only a date impossible as written (a month of
    25) is read the other way round.
    """
    given = [strftime_format(f) for f in formats]
    swapped = [
        p.replace("%d", "\0").replace("%m", "%d").replace("\0", "%m")
        for p in given
        if "%d" in p and "%m" in p
    ]
    return given + [p for p in swapped if p not in given]


def clean_date(e: pl.Expr, formats: list[str]) -> pl.Expr:
    """An ISO date string (``YYYY-MM-DD``) from text in any of ``formats``.

    Impossible dates of birth (before 1880 or in the future) become null.

    >>> pl.select(clean_date(pl.lit("19800231"), ["yyyymmdd"]).alias("x")).item() is None
    True
    """
    text = e.str.strip_chars()
    parsed = pl.coalesce(
        [text.str.strptime(pl.Date, p, strict=False, exact=True) for p in _date_patterns(formats)]
    )
    ok = (parsed.dt.year() >= EARLIEST_BIRTH_YEAR) & (parsed <= pl.lit(dt.date.today()))
    return pl.when(ok).then(parsed.dt.strftime("%Y-%m-%d")).otherwise(None)


def clean_postcode(e: pl.Expr, *, uk: bool = True) -> pl.Expr:
    """A UK postcode in its standard form (``SW1A 1AA``); not a postcode: null.

    With ``uk=False`` only case and spaces are tidied.

    >>> pl.select(clean_postcode(pl.lit("m1 1ae")).alias("x")).item()
    'M1 1AE'
    """
    packed = e.str.to_uppercase().str.replace_all(r"[^A-Z0-9]", "")
    if not uk:
        return _blank_to_null(packed)
    return (
        pl.when(packed.str.contains(UK_POSTCODE))
        .then(packed.str.replace(UK_POSTCODE, "$1 $2"))
        .otherwise(None)
    )


def clean_text(e: pl.Expr) -> pl.Expr:
    """Lower case, punctuation to spaces, spaces collapsed.

    >>> pl.select(clean_text(pl.lit(" 12, High  St.")).alias("x")).item()
    '12 high st'
    """
    e = e.str.to_lowercase().str.replace_all(r"[^\w]+", " ").str.strip_chars()
    return _blank_to_null(e)


def clean_phone(e: pl.Expr) -> pl.Expr:
    """Digits only, with a +44 or 0044 prefix written as the leading 0.

    >>> pl.select(clean_phone(pl.lit("+44 (0)7700 900123")).alias("x")).item()
    '07700900123'
    """
    digits = e.str.replace_all(r"[^0-9]", "")
    digits = digits.str.replace(r"^(?:00)?440?", "0")
    return pl.when(digits.str.len_chars() >= 6).then(digits).otherwise(None)


def clean_email(e: pl.Expr) -> pl.Expr:
    """Lower case without spaces; not an address: null."""
    e = e.str.to_lowercase().str.replace_all(r"\s", "")
    return pl.when(e.str.contains(r"^[^@]+@[^@]+\.[^@]+$")).then(e).otherwise(None)


def clean_nhs_number(e: pl.Expr) -> pl.Expr:
    """Ten digits whose check digit (modulus 11) is right; otherwise null.

    >>> pl.select(clean_nhs_number(pl.lit("943 476 5919")).alias("x")).item()
    '9434765919'
    >>> pl.select(clean_nhs_number(pl.lit("943 476 5918")).alias("x")).item() is None
    True
    """
    digits = e.str.replace_all(r"[^0-9]", "")
    d = [digits.str.slice(i, 1).cast(pl.Int32, strict=False) for i in range(10)]
    total = sum((10 - i) * d[i] for i in range(9))
    check = (11 - total % 11) % 11
    ok = (digits.str.len_chars() == 10) & (check != 10) & (check == d[9])
    return pl.when(ok).then(digits).otherwise(None)


def clean_ni_number(e: pl.Expr) -> pl.Expr:
    """A National Insurance number's first eight characters, upper case; else null.

    >>> pl.select(clean_ni_number(pl.lit("ab 12 34 56 c")).alias("x")).item()
    'AB123456'
    """
    packed = e.str.to_uppercase().str.replace_all(r"[^A-Z0-9]", "")
    return pl.when(packed.str.contains(NI_NUMBER)).then(packed.str.slice(0, 8)).otherwise(None)


def clean_identifier(e: pl.Expr) -> pl.Expr:
    """Upper case, spaces and punctuation removed."""
    return _blank_to_null(e.str.to_uppercase().str.replace_all(r"[^A-Z0-9]", ""))
