"""What a rejected record may show, and the marker that replaces the rest.

A rejected record cannot be trusted to hold its values where the header says:
an unquoted comma in a name ("Lee, Ann") shifts every value after it, and a
record can still have the right number of fields (an empty value left off at
its end). Only identifiers found in their own columns are known, so a part of a
name can sit in clear in any other column. A rejected record's row therefore
shows a value only when it cannot be (part of) a name or an identifier:

- a pseudonym (the import made it, or the source is declared pseudonymised);
- a date or a time (:func:`is_date_or_time`);
- a number with a decimal point, or a whole number of at most three digits
  (:func:`is_small_number`): longer digit strings are what NHS and CHI numbers,
  case numbers, phone numbers and UPRNs look like;
- a value its column holds in the source's accepted records (the column's
  vocabulary: activities, services, localities): it is written there already,
  so the reject adds nothing in clear that the events do not hold.

Every other value is replaced by a marker that says it was withheld, why, and
its shape (letters, digits, spaces, punctuation) but not its content; the line
number still finds the record in the team's own file.

>>> shape(" Ann")
'a space, 3 letters'
>>> shape("£12.50")
"'£', 2 digits, '.', 2 digits"
>>> withheld("Lee", NOT_ACCEPTED)
'(withheld, not a value this column holds in accepted records: 3 letters)'
>>> is_date_or_time("2024-01-02 09:00"), is_date_or_time("09:00"), is_date_or_time("Ann")
(True, True, False)
>>> is_small_number("12.50"), is_small_number("42"), is_small_number("9434765919")
(True, True, False)
"""

from __future__ import annotations

import re
import unicodedata

#: Why a value of a rejected record's row is withheld.
NOT_ACCEPTED = "not a value this column holds in accepted records"
#: Why a value beyond the header's last column is withheld.
NO_COLUMN = "beyond the header's columns"

#: A date, a time or both (``2024-01-02 09:00``, ``02/01/2024``, ``09:00:05``, with a
#: fraction of a second or a zone offset). Digits alone (an NHS number) are not.
_DATE_TIME = re.compile(
    r"(\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}([ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?)?"
    r"|\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?)"
    r"( ?(Z|UTC|[+-]\d{2}:?\d{2}))?"
)
#: A number that no identifier scheme looks like: a decimal (at most six digits
#: before the point) or a whole number of at most three digits.
_SMALL_NUMBER = re.compile(r"[+-]?(\d{1,6}\.\d+|\d{1,3})")

_MAX_RUNS = 8


def is_date_or_time(value: str) -> bool:
    """True for a date, a time or both; such a value is never part of a name."""
    return _DATE_TIME.fullmatch(value.strip()) is not None


def is_small_number(value: str) -> bool:
    """True for a decimal number or a whole number of at most three digits."""
    return _SMALL_NUMBER.fullmatch(value.strip()) is not None


def shows_itself(value: str) -> bool:
    """True when the value's shape alone says it is no name and no identifier:
    blank, a date or time, or a small number."""
    return not value.strip() or is_date_or_time(value) or is_small_number(value)


def _kind(ch: str) -> str:
    if ch.isalpha():
        return "letter"
    if ch.isdigit():
        return "digit"
    if ch.isspace():
        return "space"
    if unicodedata.category(ch)[0] in "PS":  # punctuation and symbols say no name
        return f'"{ch}"' if ch == "'" else f"'{ch}'"
    return "other character"


def _plural(n: int, word: str) -> str:
    if word[0] in "'\"":
        return word if n == 1 else f"{n} × {word}"
    if n == 1:
        return f"a {word}" if word in ("space", "letter", "digit") else f"1 {word}"
    return f"{n} {word}s"


def shape(value: str) -> str:
    """The value's shape without its content: runs of letters, digits, spaces and
    the punctuation between them.

    >>> shape("Bob Jones 2")
    '3 letters, a space, 5 letters, a space, a digit'
    >>> print(shape("O'Brien-Smith"))
    a letter, "'", 5 letters, '-', 5 letters
    >>> shape("x" * 40 + " y z w v u t")
    '40 letters, a space, a letter, a space, ... (52 characters)'
    """
    runs: list[tuple[str, int]] = []
    for ch in value:
        kind = _kind(ch)
        if runs and runs[-1][0] == kind:
            runs[-1] = (kind, runs[-1][1] + 1)
        else:
            runs.append((kind, 1))
    if not runs:
        return "empty"
    words = [_plural(n, kind) for kind, n in runs]
    if len(words) <= _MAX_RUNS:
        return ", ".join(words)
    return ", ".join(words[: _MAX_RUNS // 2]) + f", ... ({len(value)} characters)"


def withheld(value: str, why: str = "", hint: str = "") -> str:
    """The marker that stands for a withheld value: why (unless the sentence around
    it says so), and the value's shape.

    >>> withheld("visit")
    '(withheld: 5 letters)'
    """
    return f"(withheld{', ' + why if why else ''}: {shape(value)}{hint})"


__all__ = [
    "NOT_ACCEPTED",
    "NO_COLUMN",
    "is_date_or_time",
    "is_small_number",
    "shape",
    "shows_itself",
    "withheld",
]
