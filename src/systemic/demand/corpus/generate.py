"""Write the demand-study corpus: contact notes in the style staff write them.

Run ``python -m systemic.demand.corpus.generate`` to rebuild ``contacts.csv``
beside this file (the CSV is committed; the script is how it was made). Each
contact is composed from hand-written fragments: an opener (who called and
how), the demand in one of many phrasings, sometimes context, and a closer
(what the member of staff did), then written the way notes are typed in a
hurry: lower case, no full stops, abbreviations, run-ons and typos.

The classes are not a keyword game: value demands often mention earlier
contacts or apologies, failure demands often read like new requests, some
demands are genuinely ambiguous, and about 4% of labels disagree with what
the phrasing suggests (two reviewers do not always agree either). A third
of the contacts (``part`` = ``held_out``) are set aside: tuning never reads
them.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
import re
from dataclasses import dataclass
from pathlib import Path

#: What failed, for failure demand (the capture sheet's words).
WHAT_FAILED = (
    "not_done",
    "not_done_right",
    "chasing_progress",
    "not_understood",
    "sent_elsewhere",
)

LOCALITIES = ("Northfield", "Riverside", "Old Town", "Hillcrest", "Meadows", "Eastgate")
CHANNELS = (
    ("phone", 0.62),
    ("email", 0.14),
    ("web form", 0.12),
    ("face to face", 0.09),
    ("letter", 0.03),
)


@dataclass(frozen=True)
class DemandType:
    """One demand type of one service, with its class and phrasings."""

    service: str
    name: str
    demand_class: str
    what_failed: str
    weight: float
    phrasings: tuple[str, ...]


def _t(service: str, name: str, cls: str, failed: str, weight: float, *ph: str) -> DemandType:
    return DemandType(service, name, cls, failed, weight, ph)


# Slots filled at random: {thing}, {when}, {days}, {weeks}, {letter}, {who}.
SLOTS: dict[str, tuple[str, ...]] = {
    "repair": (
        "boiler",
        "heating",
        "kitchen tap",
        "toilet cistern",
        "front door lock",
        "back door",
        "window catch",
        "bathroom extractor fan",
        "light in hallway",
        "leak under sink",
        "damp in bedroom",
        "ceiling in bathroom",
        "gutter",
        "fence panel",
        "radiator",
        "shower",
        "communal door entry",
        "stair rail",
        "socket in kitchen",
        "mould on bedroom wall",
    ),
    "next": ("tomorrow", "next week", "monday", "the 14th", "thursday am", "friday pm"),
    "when": (
        "yesterday",
        "last week",
        "on monday",
        "this morning",
        "2 weeks ago",
        "at the weekend",
        "last month",
        "few days ago",
        "on friday",
        "tuesday",
    ),
    "days": ("3", "4", "5", "6", "10", "two", "three", "a few"),
    "weeks": ("2", "3", "4", "6", "two", "three", "six", "several"),
    "bin": (
        "green bin",
        "black bin",
        "recycling",
        "blue bin",
        "brown garden waste bin",
        "food caddy",
        "bins",
        "glass box",
    ),
    "benefit": (
        "housing benefit",
        "council tax support",
        "HB",
        "CTS",
        "discretionary housing payment",
        "UC housing element",
        "free school meals",
        "crisis grant",
    ),
    "ctax": (
        "council tax bill",
        "ctax bill",
        "annual bill",
        "reminder",
        "final notice",
        "summons",
        "direct debit letter",
    ),
    "who": (
        "mum",
        "dad",
        "husband",
        "wife",
        "elderly neighbour",
        "son",
        "daughter",
        "brother",
        "partner",
        "nan",
    ),
    "clinic": (
        "cardiology",
        "ortho",
        "fracture clinic",
        "ENT",
        "dermatology",
        "gastro",
        "diabetes clinic",
        "physio",
        "eye clinic",
        "urology",
        "outpatients",
    ),
    "test": ("blood test", "bloods", "xray", "scan", "MRI", "ultrasound", "ECG", "smear"),
}

TYPES: tuple[DemandType, ...] = (
    # ---------------- housing repairs
    _t(
        "Housing repairs",
        "report a repair",
        "value",
        "",
        3.0,
        "reporting {repair} not working since {when}",
        "{repair} broken wants repair booking",
        "new repair {repair} leaking",
        "wants to report {repair}, started {when}",
        "{repair} gone, no hot water",
        "asking for someone to look at {repair}",
        "reports {repair} damaged in the wind",
        "{repair} stuck cant close it properly",
        "says {repair} has a crack, not urgent but wants it booked",
        "tenant moved in {when} and {repair} doesnt work",
        "rang before about a different job which was done fine, now the {repair} has gone",
    ),
    _t(
        "Housing repairs",
        "emergency repair",
        "value",
        "",
        0.8,
        "water coming through ceiling from flat above",
        "no heating at all and has a baby in the house",
        "locked out, key snapped in {repair}",
        "sparking from {repair}, told not to touch",
        "burst pipe water everywhere",
    ),
    _t(
        "Housing repairs",
        "chasing a repair",
        "failure",
        "chasing_progress",
        2.2,
        "chasing repair for {repair} reported {weeks} weeks ago",
        "rang {days} times about {repair} still no date",
        "wants to know when someone is coming for {repair}",
        "any update on job ref for {repair}, nobody has called back",
        "was told someone would ring within 48hrs to book {repair}, no call",
        "asking whats happening with the {repair}, reported {when}",
        "still waiting for the {repair} to be booked in",
        "chasing again re {repair}",
        "wants an update, says she has been waiting ages for {repair}",
        "follow up on {repair}, no letter no call",
    ),
    _t(
        "Housing repairs",
        "operative did not come",
        "failure",
        "not_done",
        1.4,
        "waited in all day for {repair} appt nobody turned up",
        "took day off work for repair, no show",
        "engineer didnt come for {repair}, no call to say",
        "appt for {repair} {when} and nobody came",
        "contractor cancelled on the day again",
        "was in 8-1 for the {repair} and no one came and no one rang",
    ),
    _t(
        "Housing repairs",
        "repair not fixed",
        "failure",
        "not_done_right",
        1.3,
        "{repair} fixed {when} but its doing the same thing again",
        "repair not done properly, {repair} still leaking",
        "operative came for {repair} but didnt have the part, left it",
        "same fault on {repair}, third time out",
        "job marked complete but {repair} not fixed",
        "damp treated {weeks} weeks ago and mould back already",
        "wrong part fitted on {repair}",
        "they fixed it but made a mess of the wall and left",
    ),
    _t(
        "Housing repairs",
        "repair sent elsewhere",
        "failure",
        "sent_elsewhere",
        0.5,
        "was told by call centre to ring housing directly, housing said ring repairs",
        "passed between repairs and estates about {repair}, nobody owns it",
        "told to email, email bounced back so ringing",
        "contractor told him to ring us to rebook",
    ),
    # ---------------- benefits
    _t(
        "Benefits",
        "new claim",
        "value",
        "",
        2.0,
        "wants to claim {benefit}, lost job {when}",
        "new claim for {benefit}, partner moved out",
        "asking if entitled to {benefit}, on low income",
        "help to apply for {benefit} online",
        "wants form for {benefit}",
        "change of address, wants to claim {benefit} at new place",
    ),
    _t(
        "Benefits",
        "report a change",
        "value",
        "",
        1.5,
        "reporting change of circs, started new job",
        "son has moved out so household changed",
        "hours at work gone down, reporting change for {benefit}",
        "income gone up, letting us know for {benefit}",
        "partner moved in {when}, reporting it",
        "rent going up in april, wants to update {benefit}",
    ),
    _t(
        "Benefits",
        "chasing a claim",
        "failure",
        "chasing_progress",
        1.8,
        "chasing {benefit} claim made {weeks} weeks ago",
        "still not heard anything about {benefit}",
        "wants to know why {benefit} not paid yet, sent everything",
        "been waiting {weeks} weeks for decision on {benefit}, rent arrears building",
        "asking progress of claim, landlord threatening",
        "rang last week told would be sorted in {days} days, still nothing",
    ),
    _t(
        "Benefits",
        "evidence asked again",
        "failure",
        "not_done_right",
        1.1,
        "asked to send payslips again, already sent them {when}",
        "letter says evidence missing but she uploaded it",
        "we lost his documents, has to send them in again",
        "claim suspended for info already provided",
        "sent bank statements twice, now asked for a third time",
    ),
    _t(
        "Benefits",
        "letter not understood",
        "failure",
        "not_understood",
        1.2,
        "doesnt understand letter about overpayment",
        "got a letter saying {benefit} stopped, doesnt know why",
        "confused by award letter, amounts dont match",
        "what does this {benefit} decision mean, cant make sense of it",
        "letter says owes money, doesnt understand what for",
        "cant work out from the letter if she has to do anything",
    ),
    _t(
        "Benefits",
        "benefits sent elsewhere",
        "failure",
        "sent_elsewhere",
        0.5,
        "DWP told him to ring us, we say it is DWP",
        "sent here by jobcentre but its a UC matter",
        "told to come in person, office said ring the number",
    ),
    # ---------------- council tax
    _t(
        "Council tax",
        "set up payment",
        "value",
        "",
        1.8,
        "wants to set up direct debit",
        "paying council tax by card",
        "wants to pay over 12 months instead of 10",
        "moving in to the area, set up account",
        "moving out {when}, closing account",
        "wants to pay arrears in one go",
    ),
    _t(
        "Council tax",
        "discount or exemption",
        "value",
        "",
        1.2,
        "applying single person discount, partner left",
        "student exemption, both at uni",
        "asking about discount for disabled adaptations",
        "property empty after {who} died, asking about exemption",
        "asks about band of property, thinks wrong",
    ),
    _t(
        "Council tax",
        "bill wrong",
        "failure",
        "not_done_right",
        1.3,
        "bill wrong, single person discount missing again",
        "dd taken twice this month",
        "paid in full but got a reminder",
        "moved out {weeks} weeks ago still billed",
        "bill in wrong name, told us {when}",
        "discount removed without telling her",
        "summons received but on payment plan agreed on phone",
    ),
    _t(
        "Council tax",
        "bill not understood",
        "failure",
        "not_understood",
        1.0,
        "doesnt understand {ctax}",
        "why has {ctax} gone up so much, what is the adult social care precept",
        "got {ctax} and doesnt know what it is for",
        "confused, 2 bills for same property",
        "cant read the letter, can someone explain",
    ),
    _t(
        "Council tax",
        "chasing a refund",
        "failure",
        "chasing_progress",
        0.8,
        "chasing refund promised {weeks} weeks ago",
        "told refund would be paid, still waiting",
        "where is my credit, was told it would be back in {days} days",
    ),
    # ---------------- waste
    _t(
        "Waste",
        "order a bin or collection",
        "value",
        "",
        2.0,
        "wants new {bin}, moved in",
        "book bulky collection sofa and fridge",
        "ordering extra {bin} large family",
        "{bin} cracked wants replacement",
        "asks what day {bin} goes out now",
        "wants to sign up for garden waste",
        "request assisted collection, cant pull the bin, had op",
    ),
    _t(
        "Waste",
        "missed collection",
        "failure",
        "not_done",
        2.0,
        "{bin} missed {when}",
        "missed bin again, whole street done but not hers",
        "{bin} not emptied {days} weeks running",
        "crew missed {bin}, it was out by 7",
        "assisted collection not done again",
        "bin men skipped the close again",
    ),
    _t(
        "Waste",
        "collection done wrong",
        "failure",
        "not_done_right",
        0.7,
        "crew left {bin} in the middle of the road",
        "bin emptied but rubbish all over the path",
        "{bin} not returned after collection",
        "bulky collection took the wrong items",
    ),
    _t(
        "Waste",
        "chasing a bin",
        "failure",
        "chasing_progress",
        1.0,
        "ordered {bin} {weeks} weeks ago not arrived",
        "chasing {bin} delivery",
        "when is the replacement {bin} coming, paid already",
        "asked for bin {when} still not here",
    ),
    # ---------------- adult social care
    _t(
        "Adult social care",
        "ask for help at home",
        "value",
        "",
        1.8,
        "{who} struggling at home since fall, wants assessment",
        "asking for help with care for {who}, getting confused",
        "referral for care needs, lives alone",
        "wants info on day centres for {who}",
        "asking about equipment, grab rails and a bath seat",
        "carer wants a carers assessment",
        "{who} coming out of hospital {when}, family want to talk about support",
    ),
    _t(
        "Adult social care",
        "chasing an assessment",
        "failure",
        "chasing_progress",
        1.5,
        "chasing assessment for {who}, referred {weeks} weeks ago",
        "been told {who} is on waiting list, how long",
        "nobody has rung about the care for {who}",
        "social worker was meant to call back {when}",
        "still waiting for OT visit",
    ),
    _t(
        "Adult social care",
        "care visit missed or wrong",
        "failure",
        "not_done",
        1.2,
        "carer didnt turn up for {who} this morning",
        "care call missed, {who} had no lunch",
        "carers came late again, {who} missed meds",
        "equipment delivered but wrong size",
    ),
    _t(
        "Adult social care",
        "care sent elsewhere",
        "failure",
        "sent_elsewhere",
        0.8,
        "GP said to ring social services, we said go back to GP",
        "hospital discharge team told her to call us, not our team",
        "bounced between health and social care about {who}",
        "told to call the contact centre which told her to call the team",
    ),
    _t(
        "Adult social care",
        "care charge not understood",
        "failure",
        "not_understood",
        0.6,
        "doesnt understand the invoice for {who} care",
        "financial assessment letter, what does it mean",
        "why is {who} paying for care now",
    ),
    # ---------------- GP appointments
    _t(
        "GP appointments",
        "book an appointment",
        "value",
        "",
        3.0,
        "wants appt for chest infection",
        "needs to see gp about knee pain",
        "booking {test}",
        "asking for medication review",
        "wants appt for child with rash",
        "repeat prescription request",
        "asking for sick note",
        "wants to see the nurse for jabs",
        "new patient wants to register",
        "called at 8 for an on the day appt, booked",
    ),
    _t(
        "GP appointments",
        "could not get an appointment",
        "failure",
        "not_done",
        1.6,
        "rang at 8am all appts gone, third day trying",
        "no appts, told to ring tomorrow again",
        "was on hold 40 mins then line cut off",
        "online booking says nothing available for {weeks} weeks",
    ),
    _t(
        "GP appointments",
        "results chasing",
        "failure",
        "chasing_progress",
        1.2,
        "chasing {test} results from {when}",
        "was told gp would ring with results, nobody rang",
        "prescription not ready, requested {days} days ago",
        "referral letter not sent yet, said it would be done {when}",
        "asking if {clinic} referral has gone",
    ),
    _t(
        "GP appointments",
        "prescription wrong",
        "failure",
        "not_done_right",
        0.8,
        "wrong dose on prescription",
        "prescription sent to wrong pharmacy",
        "item missing off repeat prescription again",
        "sick note has wrong dates, needs redoing",
    ),
    _t(
        "GP appointments",
        "sent elsewhere by GP",
        "failure",
        "sent_elsewhere",
        0.6,
        "hospital told her gp has to chase, gp says hospital",
        "pharmacy told him to ring surgery, surgery said ring 111",
        "111 told her to ring gp",
    ),
    # ---------------- hospital appointments
    _t(
        "Hospital appointments",
        "book or change appointment",
        "value",
        "",
        2.0,
        "wants to rebook {clinic} appt, on holiday that week",
        "confirming {clinic} appt",
        "asking directions to {clinic}, first visit",
        "wants to cancel {clinic} appt, feeling better",
        "needs transport booked for {clinic}",
        "asks about parking for {test}",
    ),
    _t(
        "Hospital appointments",
        "chasing an appointment",
        "failure",
        "chasing_progress",
        1.8,
        "chasing {clinic} appointment, referred {weeks} weeks ago",
        "where is my appointment letter for {test}",
        "told would hear in 6 weeks, been {weeks} months",
        "gp referred {when}, nothing from {clinic}",
        "still waiting for {test} date, pain getting worse",
    ),
    _t(
        "Hospital appointments",
        "appointment cancelled by hospital",
        "failure",
        "not_done",
        1.2,
        "{clinic} appt cancelled by hospital again",
        "turned up for {test} and told clinic not running",
        "appt cancelled with a days notice, third time",
        "came in for {clinic} but no record of the booking",
    ),
    _t(
        "Hospital appointments",
        "letter wrong or not understood",
        "failure",
        "not_understood",
        1.0,
        "letter says {clinic} but she was referred to {clinic}, confused",
        "doesnt understand the prep instructions for {test}",
        "two letters with different dates for {clinic}",
        "letter went to old address",
    ),
)

SERVICE_SHARE = {
    "Housing repairs": 0.2,
    "Benefits": 0.16,
    "Council tax": 0.14,
    "Waste": 0.12,
    "Adult social care": 0.1,
    "GP appointments": 0.16,
    "Hospital appointments": 0.12,
}

OPENERS = (
    "",
    "",
    "",
    "cust called",
    "caller",
    "tenant rang",
    "tenant called re",
    "mr called,",
    "mrs called",
    "lady rang",
    "gent on phone",
    "resident emailed:",
    "customer says",
    "cust states",
    "{who} rang on behalf,",
    "caller advises",
    "spoke to cust,",
    "patient rang",
    "pt called",
    "walk in -",
    "rc from",
    "email:",
    "web form:",
    "c/o",
    "ringing for {who},",
    "customer very upset,",
    "customer polite,",
    "caller angry -",
)
CONTEXT = (
    "",
    "",
    "",
    "",
    "",
    "",
    "has 3 kids",
    "works nights",
    "disabled",
    "elderly",
    "english not first language",
    "vulnerable",
    "on the phone a long time",
    "has asthma",
    "pregnant",
    "lives alone",
    "hard of hearing, spoke slowly",
    "said it is affecting her mental health",
    "said this has happened before",
    "rang earlier today about something else",
    "first time calling",
    "previous contact noted on system",
    "been a tenant 20 yrs",
    "sorry to bother you",
)
CLOSERS_VALUE = (
    "",
    "",
    "",
    "logged",
    "job raised",
    "booked",
    "booked for {next}",
    "advised",
    "sent form",
    "gave info",
    "done on call",
    "passed to team",
    "ref given",
    "sent link",
    "advised to check website",
    "transferred",
    "will call back",
    "apologised for wait on phone",
    "explained process",
    "cust happy",
    "emailed confirmation",
    "referred on",
    "call back requested",
    "need more info, will ring",
)
CLOSERS_FAILURE = (
    "",
    "",
    "",
    "apologised",
    "escalated",
    "chased team",
    "sent email to team",
    "advised will chase",
    "complaint logged",
    "passed to team",
    "logged",
    "gave ref",
    "explained",
    "advised",
    "will call back",
    "rebooked",
    "transferred",
    "cust happy",
    "job raised",
    "booked for {next}",
    "sent form",
    "done on call",
    "told to wait",
    "ref given",
    "apologised and rebooked",
)

MISSPELL = {
    "received": "recieved",
    "appointment": "appointmnet",
    "because": "becuase",
    "definitely": "definately",
    "separate": "seperate",
    "tomorrow": "tommorow",
    "which": "wich",
    "their": "there",
    "address": "adress",
    "waiting": "wating",
    "letter": "leter",
    "nobody": "no body",
    "someone": "some one",
    "still": "stil",
    "again": "agian",
    "called": "caled",
    "doesnt": "dosent",
    "repair": "repiar",
    "assessment": "assesment",
    "prescription": "perscription",
    "collection": "colection",
    "council": "counsil",
    "hospital": "hosptial",
    "weeks": "wks",
    "appt": "apt",
    "about": "abt",
    "with": "w/",
    "please": "pls",
    "and": "&",
    "told": "tld",
    "because of": "cos of",
    "customer": "cust",
    "someone would": "someone wud",
}

SHORTHAND = {
    "appointment": "appt",
    "regarding": "re",
    "telephone": "tel",
    "without": "w/o",
    "information": "info",
    "customer": "cust",
    "previous": "prev",
    "approximately": "approx",
}


def _fill(text: str, rng: random.Random) -> str:
    def sub(match: re.Match[str]) -> str:
        return rng.choice(SLOTS[match.group(1)])

    return re.sub(r"\{(\w+)\}", sub, text)


def _typos(text: str, rng: random.Random, rate: float) -> str:
    words = text.split(" ")
    out = []
    for w in words:
        low = w.lower()
        if low in MISSPELL and rng.random() < 0.35:
            w = MISSPELL[low]
        elif len(w) > 3 and rng.random() < rate:
            i = rng.randrange(1, len(w) - 1)
            kind = rng.random()
            if kind < 0.4:
                w = w[:i] + w[i + 1] + w[i] + w[i + 2 :]  # swap
            elif kind < 0.7:
                w = w[:i] + w[i + 1 :]  # drop
            else:
                w = w[:i] + w[i] + w[i:]  # double
        out.append(w)
    return " ".join(out)


def _join(parts: list[str], rng: random.Random) -> str:
    parts = [p for p in parts if p]
    glue = rng.choice((" ", " - ", ". ", ", ", " / ", "  ", " .. "))
    return glue.join(parts)


def _style(text: str, rng: random.Random) -> str:
    r = rng.random()
    if r < 0.45:
        text = text.lower()
    elif r < 0.52:
        text = text.upper()
    if rng.random() < 0.5:
        text = text.replace(",", "").replace(".", "")
    if rng.random() < 0.3:
        for long, short in SHORTHAND.items():
            text = text.replace(long, short)
    return _typos(text, rng, rate=rng.choice((0.0, 0.02, 0.05, 0.08)))


def compose(t: DemandType, rng: random.Random) -> str:
    """One contact note for demand type ``t``."""
    core = _fill(rng.choice(t.phrasings), rng)
    # a second phrasing of the same demand sometimes follows (people repeat themselves)
    if rng.random() < 0.18:
        core = (
            core
            + " "
            + rng.choice(("and", "also", "says", "-", "..."))
            + " "
            + _fill(rng.choice(t.phrasings), rng)
        )
    closers = CLOSERS_FAILURE if t.demand_class == "failure" else CLOSERS_VALUE
    # staff write the same closers whichever the class, only in different proportions
    if rng.random() < 0.35:
        closers = CLOSERS_VALUE if closers is CLOSERS_FAILURE else CLOSERS_FAILURE
    parts = [
        _fill(rng.choice(OPENERS), rng),
        core,
        _fill(rng.choice(CONTEXT), rng),
        _fill(rng.choice(closers), rng),
    ]
    return _style(_join(parts, rng), rng)


def generate(
    n: int = 3000, seed: int = 18, held_out: float = 1 / 3, label_noise: float = 0.04
) -> list[dict[str, str]]:
    """``n`` contacts as rows (dicts) with text, labels and the part each belongs to."""
    rng = random.Random(seed)
    services = list(SERVICE_SHARE)
    start = dt.date(2026, 3, 2)
    rows = []
    for i in range(n):
        service = rng.choices(services, [SERVICE_SHARE[s] for s in services])[0]
        types = [t for t in TYPES if t.service == service]
        t = rng.choices(types, [x.weight for x in types])[0]
        text = compose(t, rng)
        cls, failed, dtype = t.demand_class, t.what_failed, t.name
        if rng.random() < label_noise:
            # a reviewer reads it the other way: the label, not the words, changes
            if cls == "value":
                cls, failed = "failure", rng.choice(WHAT_FAILED)
            else:
                cls, failed = "value", ""
        channel = rng.choices([c for c, _ in CHANNELS], [w for _, w in CHANNELS])[0]
        rows.append(
            {
                "contact_id": f"D{i + 1:05d}",
                "received": (start + dt.timedelta(days=rng.randrange(0, 56))).isoformat(),
                "channel": channel,
                "service": service,
                "locality": rng.choice(LOCALITIES),
                "text": text,
                "demand_class": cls,
                "demand_type": dtype,
                "what_failed": failed,
                "resolved_first_contact": rng.choices(
                    ["yes", "no"], [0.7, 0.3] if cls == "value" else [0.35, 0.65]
                )[0],
                "part": "held_out" if rng.random() < held_out else "tune",
            }
        )
    return rows


def main(path: Path | None = None) -> Path:
    """Write the corpus CSV (default: ``contacts.csv`` beside this module)."""
    path = path or Path(__file__).with_name("contacts.csv")
    rows = generate()
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return path


if __name__ == "__main__":
    print(main())
