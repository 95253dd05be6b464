"""Identifiers masked in what people said: each kind in the spellings people use,
and ordinary words, dates, money, house numbers and times left alone.

The test numbers are the ones set aside for examples (Ofcom's drama ranges
07700 900xxx and 0113 496 0xxx, the NHS test number 943 476 5919, the HMRC
example NI number QQ 12 34 56 C).
"""

from __future__ import annotations

import pytest

from systemic.demand.mask import mask_identifiers


@pytest.mark.parametrize(
    "said",
    [
        "07700 900123",
        "07700900123",
        "07700-900-123",
        "+44 7700 900123",
        "+447700900123",
        "+44 (0)7700 900123",
        "0113 496 0000",
        "(0113) 496 0000",
        "0113-496-0000",
        "020 7946 0018",
        "01632 960 001",
    ],
)
def test_phone_numbers(said: str) -> None:
    assert mask_identifiers(f"ring me on {said} after 5") == "ring me on [phone] after 5"


@pytest.mark.parametrize(
    "said", ["a.b@example.org", "JOHN.Smith@Example.CO.UK", "j_smith+council@mail.example.org"]
)
def test_email_addresses(said: str) -> None:
    assert mask_identifiers(f"email {said}, thanks") == "email [email], thanks"


@pytest.mark.parametrize("said", ["943 476 5919", "9434765919", "943-476-5919"])
def test_nhs_numbers(said: str) -> None:
    assert mask_identifiers(f"NHS no {said} re appt") == "NHS no [nhs number] re appt"


@pytest.mark.parametrize(
    "said", ["QQ 12 34 56 C", "QQ123456C", "qq123456c", "qq 12 34 56 c", "QQ123456 C"]
)
def test_national_insurance_numbers(said: str) -> None:
    assert mask_identifiers(f"NI {said} for the claim") == "NI [ni number] for the claim"


@pytest.mark.parametrize(
    "said", ["LS6 2AB", "ls6 2ab", "LS62AB", "ls62ab", "SW1A 1AA", "sw1a1aa", "M1 1AE", "B33 8TH"]
)
def test_postcodes(said: str) -> None:
    assert mask_identifiers(f"lives at {said} now") == "lives at [postcode] now"


@pytest.mark.parametrize(
    ("said", "names", "masked"),
    [
        ("Mrs Okafor rang", ["Okafor"], "Mrs [name] rang"),
        ("mrs okafor rang", ["Okafor"], "mrs [name] rang"),
        ("MRS  OKAFOR rang", ["Mrs Okafor"], "[name] rang"),
        ("Ann-Marie Idris and Ann", ["Ann", "Ann-Marie Idris"], "[name] and [name]"),
        ("Annex B, Annabel", ["Ann"], "Annex B, Annabel"),  # whole words only
    ],
)
def test_names_the_team_lists(said: str, names: list[str], masked: str) -> None:
    assert mask_identifiers(said, names=names) == masked


@pytest.mark.parametrize(
    "ordinary",
    [
        "letter dated 12/03/2026, appt on 2026-03-12 at 14:45",
        "came at 10:30am, then 9.15, between 9 and 5pm",
        "paid £1,250.00 and £45.50, owes £2 300",
        "flat 12, 34 High Street; no. 7 Mill Lane, room B2 3rd floor",
        "the 1st 2nd and 3rd letters, 4th time, a 3 bed house, aged 84",
        "ref 123456, case 2026/00123, claim 12345678, 3 times in 2 weeks",
        "years 2024 2025, 100 per cent, 0 replies",
    ],
)
def test_ordinary_text_is_left_alone(ordinary: str) -> None:
    assert mask_identifiers(ordinary) == ordinary


def test_empty_text() -> None:
    assert mask_identifiers(None) == "" and mask_identifiers("") == ""
