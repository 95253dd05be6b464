"""Mask obvious identifiers in what a person said, before it is stored or shown.

Phone numbers, e-mail addresses, NHS numbers, National Insurance numbers,
UK postcodes and any names the team lists are replaced by a bracketed word,
so the note keeps its meaning for classification and reading.

>>> mask_identifiers("ring 07700 900123 or a.b@example.org, NHS no 943 476 5919, NI QQ123456C")
'ring [phone] or [email], NHS no [nhs number], NI [ni number]'
>>> mask_identifiers("lives at LS1 4AP, mrs Patel called", names=["Patel"])
'lives at [postcode], mrs [name] called'
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# NHS numbers: 10 digits, often written 3-3-4
_NHS = re.compile(r"\b\d{3}[ -]?\d{3}[ -]?\d{4}\b")
# UK phone numbers: 0 or +44 (with an optional "(0)"), then 9-10 more digits with
# spaces, dashes or a bracketed area code between: "(0113) 496 0000", "+44 (0)7700 900123"
_PHONE = re.compile(
    r"(?<![\w+])(?:\+44[\s-]?(?:\(0\)[\s-]?)?|\(?0)\d(?:(?:[\s-]|\)\s?)?\d){8,9}(?!\d)"
)
_NI = re.compile(r"\b[A-Z]{2}\s?\d{2}\s?\d{2}\s?\d{2}\s?[A-D]\b", re.IGNORECASE)
# The inward code of a postcode in lower case is not an ordinal ("room b2 3rd floor");
# in capitals it is taken as a postcode ("LS1 3RD").
_POSTCODE = re.compile(
    r"\b[A-Z]{1,2}\d[A-Z\d]?\s*(?!(?-i:1st|2nd|3rd|[04-9]th)\b)\d[A-Z]{2}\b", re.IGNORECASE
)


def mask_identifiers(text: str | None, names: Iterable[str] = ()) -> str:
    """``text`` with identifiers replaced by ``[phone]``, ``[email]``, ``[nhs number]``...

    Empty or missing text comes back as an empty string.
    """
    if not text:
        return ""
    out = _EMAIL.sub("[email]", text)
    out = _NHS.sub("[nhs number]", out)
    out = _PHONE.sub("[phone]", out)
    out = _NI.sub("[ni number]", out)
    out = _POSTCODE.sub("[postcode]", out)
    for name in sorted({n.strip() for n in names if n and n.strip()}, key=len, reverse=True):
        words = r"\s+".join(re.escape(word) for word in name.split())
        out = re.sub(rf"(?<!\w){words}(?!\w)", "[name]", out, flags=re.IGNORECASE)
    return out
