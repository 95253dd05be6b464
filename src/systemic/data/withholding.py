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

import polars as pl

#: Why a value of a rejected record's row is withheld.
NOT_ACCEPTED = "not a value this column holds in accepted records"
#: How many of the source's accepted events a rejected value is looked for in:
#: the first million. A column's vocabulary (activities, services, localities)
#: shows in them; a value seen only later is withheld, which is the safe way to
#: err, and the check costs the same on a file of five million rows as on one.
VOCABULARY_EVENTS = 1_000_000
#: Why a value beyond the header's last column is withheld.
NO_COLUMN = "beyond the header's columns"

#: A date, a time or both (``2024-01-02 09:00``, ``02/01/2024``, ``09:00:05``, with a
#: fraction of a second or a zone offset). Digits alone (an NHS number) are not.
_DATE_TIME = (
    r"(\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}([ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?)?"
    r"|\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?)"
    r"( ?(Z|UTC|[+-]\d{2}:?\d{2}))?"
)
#: A number that no identifier scheme looks like: a decimal (at most six digits
#: before the point) or a whole number of at most three digits.
_SMALL_NUMBER = r"[+-]?(\d{1,6}\.\d+|\d{1,3})"

_MAX_RUNS = 8
# Each character's class, as one marker character (values hold no control
# characters that matter: those are classed as "other" first).
_LETTER, _DIGIT, _SPACE, _OTHER = "\x01", "\x02", "\x03", "\x04"


def _whole(pattern: str) -> str:
    return f"^(?:{pattern})$"


def is_date_or_time_expr(values: pl.Expr) -> pl.Expr:
    """True for a date, a time or both; such a value is never part of a name."""
    return values.str.strip_chars().str.contains(_whole(_DATE_TIME))


def is_small_number_expr(values: pl.Expr) -> pl.Expr:
    """True for a decimal number or a whole number of at most three digits."""
    return values.str.strip_chars().str.contains(_whole(_SMALL_NUMBER))


def shows_itself_expr(values: pl.Expr) -> pl.Expr:
    """True when a value's shape alone says it is no name and no identifier:
    blank, a date or time, or a small number."""
    return (
        (values.str.strip_chars().str.len_chars() == 0)
        | is_date_or_time_expr(values)
        | is_small_number_expr(values)
    )


def _one(expr: pl.Expr, value: str) -> object:
    """``expr`` over column ``v`` holding one value."""
    return pl.DataFrame({"v": [value]}, schema={"v": pl.String}).select(expr).item()


def is_date_or_time(value: str) -> bool:
    """:func:`is_date_or_time_expr` for one value."""
    return bool(_one(is_date_or_time_expr(pl.col("v")), value))


def is_small_number(value: str) -> bool:
    """:func:`is_small_number_expr` for one value."""
    return bool(_one(is_small_number_expr(pl.col("v")), value))


def shows_itself(value: str) -> bool:
    """:func:`shows_itself_expr` for one value."""
    return bool(_one(shows_itself_expr(pl.col("v")), value))


def _run_words(run: pl.Expr) -> pl.Expr:
    """One run of same-class characters in words: '3 letters', 'a space', "'-'"."""
    n = run.str.len_chars()
    first = run.str.slice(0, 1)

    def counted(word: str) -> pl.Expr:
        return pl.when(n == 1).then(pl.lit(f"a {word}")).otherwise(pl.format("{} " + word + "s", n))

    # Punctuation and symbols say no name: shown as they are, in quotes.
    quoted = pl.when(first == "'").then(pl.lit('"\'"')).otherwise(pl.format("'{}'", first))
    return (
        pl.when(first == _LETTER)
        .then(counted("letter"))
        .when(first == _DIGIT)
        .then(counted("digit"))
        .when(first == _SPACE)
        .then(counted("space"))
        .when(first == _OTHER)
        .then(
            pl.when(n == 1)
            .then(pl.lit("1 other character"))
            .otherwise(pl.format("{} other characters", n))
        )
        .otherwise(pl.when(n == 1).then(quoted).otherwise(pl.format("{} × {}", n, quoted)))
    )


def shape_expr(values: pl.Expr) -> pl.Expr:
    """The values' shapes without their content: runs of letters, digits, spaces and
    the punctuation between them (see :func:`shape`)."""
    classes = (
        values.str.replace_all(r"[\x01-\x04]|[^\p{L}\p{N}\s\p{P}\p{S}]", _OTHER)
        .str.replace_all(r"\p{L}", _LETTER)
        .str.replace_all(r"\p{N}", _DIGIT)
        .str.replace_all(r"\s", _SPACE)
    )
    runs = classes.str.extract_all(r"\x01+|\x02+|\x03+|\x04+|.")
    words = runs.list.eval(_run_words(pl.element()))
    long = pl.format(
        "{}, ... ({} characters)",
        words.list.head(_MAX_RUNS // 2).list.join(", "),
        values.str.len_chars(),
    )
    return (
        pl.when(values.str.len_chars() == 0)
        .then(pl.lit("empty"))
        .when(words.list.len() <= _MAX_RUNS)
        .then(words.list.join(", "))
        .otherwise(long)
    )


def withheld_expr(values: pl.Expr, why: str = "", hint: pl.Expr | None = None) -> pl.Expr:
    """The marker that stands for each withheld value (see :func:`withheld`)."""
    head = f"(withheld{', ' + why if why else ''}: "
    parts = [pl.lit(head), shape_expr(values)]
    if hint is not None:
        parts.append(hint.fill_null(""))
    return pl.concat_str([*parts, pl.lit(")")])


def shape(value: str) -> str:
    """A value's shape without its content.

    >>> shape("Bob Jones 2")
    '3 letters, a space, 5 letters, a space, a digit'
    >>> print(shape("O'Brien-Smith"))
    a letter, "'", 5 letters, '-', 5 letters
    >>> shape("x" * 40 + " y z w v u t")
    '40 letters, a space, a letter, a space, ... (52 characters)'
    """
    return str(_one(shape_expr(pl.col("v")), value))


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
    "is_date_or_time_expr",
    "is_small_number",
    "is_small_number_expr",
    "shape",
    "shape_expr",
    "shows_itself",
    "shows_itself_expr",
    "withheld",
    "withheld_expr",
]
