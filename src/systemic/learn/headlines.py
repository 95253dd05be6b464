"""The headline sentences of a learn run, each naming its source and denominator.

Every sentence is written from the published summary (small counts already
shown as ``<5``), so it says no more than ``summary.json`` does. A share
says whether it is *classified* (the service's own classes) or *inferred*
(rules over the records), and what it is a share of.

>>> import datetime as dt, polars as pl
>>> from systemic.learn import learn_events
>>> t = lambda d: dt.datetime(2024, 1, d, tzinfo=dt.UTC)
>>> ev = pl.DataFrame({"person_id": ["a"] * 6, "service": ["S"] * 6,
...     "activity": ["call"] * 6, "kind": ["contact"] * 6,
...     "demand_class": ["failure", "value", "value", "value", "value", "unknown"],
...     "timestamp": [t(d) for d in range(1, 7)]})
>>> first = headline_sentences(learn_events(ev), threshold=1)[0]
>>> first[:73]
'Classified: 20% of the 5 contacts the services classified were failure de'
>>> first[73:]
'mand (1 contact was not classified).'
"""

from __future__ import annotations

from typing import Any

from systemic.learn.publish import published_summary
from systemic.learn.result import LearnResult


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.0f}%"


def _n(value: Any, one: str, many: str | None = None) -> str:
    """A count with its noun: ``1 contact``, ``12 contacts``, ``<5 contacts``."""
    if isinstance(value, int):
        return f"{value:,} {one if value == 1 else (many or one + 's')}"
    return f"{value} {many or one + 's'}"


def _money(x: float | None, currency: str | None) -> str:
    if x is None:
        return "n/a"
    symbol = {"GBP": "£", "EUR": "€", "USD": "$"}.get(currency or "", "")
    if abs(x) >= 1e6:
        return f"{symbol}{x / 1e6:.1f}m"
    if abs(x) >= 1e3:
        return f"{symbol}{x / 1e3:.0f}k"
    return f"{symbol}{x:,.0f}"


def _was(value: Any) -> str:
    return "was" if value == 1 else "were"


def headline_sentences(result: LearnResult, threshold: int | None = None) -> list[str]:
    """The learn run's headline, one sentence per figure, each naming its source and denominator."""
    t = threshold or result.config.suppression_threshold
    s = result.summary()
    p = published_summary(s, t)
    out: list[str] = []
    unclassified = s.contacts - s.classified_contacts
    unclassified_pub: Any = unclassified if (unclassified == 0 or unclassified >= t) else f"<{t}"
    if s.classified_contacts:
        rest = (
            "every contact was classified"
            if unclassified == 0
            else f"{_n(unclassified_pub, 'contact')} {_was(unclassified_pub)} not classified"
        )
        out.append(
            f"Classified: {_pct(s.failure_demand_share)} of the "
            f"{_n(p['classified_contacts'], 'contact')} the services classified were failure "
            f"demand ({rest})."
        )
    elif s.contacts:
        out.append(
            f"No contact was classified as value or failure demand by the services, so no "
            f"failure-demand share is given ({_n(p['contacts'], 'contact')} in all)."
        )
    else:
        out.append("No contacts were recorded, so no failure-demand share is given.")
    if unclassified and result.config.rules:
        signals = dict(result.demand.signals.select("failure_signal", "contacts").rows())
        fired = ", ".join(
            f"{name.replace('_', ' ')} {signals.get(name, 0):,}"
            if signals.get(name, 0) >= t or signals.get(name, 0) == 0
            else f"{name.replace('_', ' ')} <{t}"
            for name in result.config.rules
        )
        out.append(
            f"Inferred, not observed: rules over the records flag "
            f"{_pct(s.inferred_failure_share)} of the "
            f"{_n(unclassified_pub, 'unclassified contact')} as possible failure demand "
            f"({fired}); {_pct(s.unknown_share)} of all "
            f"{_n(p['contacts'], 'contact')} remain unknown."
        )
    if s.failure_work_events:
        out.append(
            f"Classified: {_n(p['failure_work_events'], 'piece')} of work inside the services "
            f"{_was(p['failure_work_events'])} failure work (rework classed failure), "
            f"{_pct(s.failure_work_share)} of the {_n(p['work_pieces'], 'piece')} of work that "
            "were not contacts."
        )
    if s.case_ids_mapped and p["median_case_days"] is not None:
        out.append(
            f"Per case: half of the {_n(p['cases'], 'case')} took more than "
            f"{p['median_case_days']:.1f} days from first to last event (90% within "
            f"{p['p90_case_days']:.0f} days)."
            + (
                f" {_n(p['cases_spanning_people'], 'case')} held events of more than one person."
                if s.cases_spanning_people
                else ""
            )
        )
    elif not s.case_ids_mapped:
        out.append("No case id was mapped, so times are given per need only.")
    e = result.episodes
    if e.height and p["median_need_days"] is not None:
        handed = float((e["hand_offs"] > 0).mean())
        out.append(
            f"Per need: {_pct(handed)} of the {_n(p['needs'], 'need')} (a person's events with "
            f"no gap over {result.config.episode_gap_days:g} days, never cutting a case) "
            f"were passed between services at least once; half took more than "
            f"{p['median_need_days']:.1f} days from first to last event."
        )
    if s.total_cost is not None:
        cur = s.currency
        parts = [
            f"Classified failure demand, with the work after it in the same need, cost "
            f"{_money(s.cost_of_failure_demand, cur)} of {_money(s.total_cost, cur)} in all"
        ]
        if s.failure_work_events:
            parts.append(f"failure work {_money(s.cost_of_failure_work, cur)}")
        if s.cost_of_hand_offs is not None:
            parts.append(f"hand-offs {_money(s.cost_of_hand_offs, cur)}")
        sentence = "; ".join(parts) + "."
        if s.uncosted_events:
            sentence += (
                f" {_n(p['uncosted_events'], 'piece')} of work had no unit cost and are "
                "not counted in any cost."
            )
        out.append(sentence)
    return out
