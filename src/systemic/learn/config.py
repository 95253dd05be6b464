"""The parameters of learning: how needs are cut and which inference rules run.

>>> from systemic.learn.config import LearnConfig
>>> LearnConfig().episode_gap.days, LearnConfig(episode_gap_days=30).episode_gap.days
(90, 30)
>>> LearnConfig().rules
('repeat_contact', 'recontact_after_closure')
>>> LearnConfig(repeat_contact=False, contact_after_hand_off=True).rules
('recontact_after_closure', 'contact_after_hand_off')
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from systemic.data.disclosure import DEFAULT_THRESHOLD

#: Activities that name work the service booked (English and Dutch words, as
#: in the real logs): a follow-up, a repeat consultation, an appointment.
#: Such a contact is planned work, never inferred to be failure demand.
DEFAULT_PLANNED_PATTERN = (
    r"(?i)follow[- ]?up|appointment|scheduled|planned|booked|review|"
    r"vervolg|herhaal|controle|afspraak"
)


@dataclass(frozen=True)
class LearnConfig:
    """How journeys are cut into needs and which signals infer failure demand.

    - ``episode_gap_days``: a gap longer than this between a person's
      consecutive events starts a new need (episode), unless one of the
      person's cases is still open across the gap (default 90).
    - ``repeat_contact`` (on by default), ``repeat_window_days``: infer
      failure demand for a contact with the same demand type (or activity)
      as an earlier contact by the same person within the window.
    - ``recontact_after_closure`` (on), ``recontact_window_days``: infer
      failure demand for a contact within the window after a closure.
    - ``contact_after_hand_off`` (off by default: a first contact after a
      referral is usually the service doing its job): infer failure demand
      for a contact that is the first event in a new service after a hand-off.
    - ``infer_value_demand`` (off): count the first contact of a need that no
      rule flags as value demand, labelled inferred.
    - ``planned_pattern``: a regular expression on the activity naming
      planned work (a booked appointment or follow-up); ``None`` for none.
      Planned contacts, and pieces of work with a SCHEDULE transition, are
      never inferred to be failure demand.
    - ``suppression_threshold``: counts below it are hidden in published
      tables (default 5, so 1-4 show as ``<5``).
    """

    episode_gap_days: float = 90
    repeat_window_days: float = 30
    recontact_window_days: float = 30
    repeat_contact: bool = True
    recontact_after_closure: bool = True
    contact_after_hand_off: bool = False
    infer_value_demand: bool = False
    planned_pattern: str | None = DEFAULT_PLANNED_PATTERN
    suppression_threshold: int = DEFAULT_THRESHOLD

    def __post_init__(self) -> None:
        for name in ("episode_gap_days", "repeat_window_days", "recontact_window_days"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be zero or more days, got {getattr(self, name)}")
        if self.suppression_threshold < 1:
            raise ValueError("suppression_threshold must be at least 1")
        if self.planned_pattern is not None:
            try:
                re.compile(self.planned_pattern)
            except re.error as exc:
                raise ValueError(
                    f"planned_pattern {self.planned_pattern!r} is not a valid regular "
                    f"expression ({exc}); fix it or give none"
                ) from exc

    @property
    def rules(self) -> tuple[str, ...]:
        """The inference rules switched on, in the order they are tried."""
        on = {
            "repeat_contact": self.repeat_contact,
            "recontact_after_closure": self.recontact_after_closure,
            "contact_after_hand_off": self.contact_after_hand_off,
        }
        return tuple(name for name, enabled in on.items() if enabled)

    @property
    def episode_gap(self) -> dt.timedelta:
        return dt.timedelta(days=self.episode_gap_days)

    @property
    def repeat_window(self) -> dt.timedelta:
        return dt.timedelta(days=self.repeat_window_days)

    @property
    def recontact_window(self) -> dt.timedelta:
        return dt.timedelta(days=self.recontact_window_days)

    def settings(self) -> dict[str, object]:
        """Every parameter, as written beside the summary."""
        return {
            "episode_gap_days": self.episode_gap_days,
            "repeat_contact": self.repeat_contact,
            "repeat_window_days": self.repeat_window_days,
            "recontact_after_closure": self.recontact_after_closure,
            "recontact_window_days": self.recontact_window_days,
            "contact_after_hand_off": self.contact_after_hand_off,
            "infer_value_demand": self.infer_value_demand,
            "planned_pattern": self.planned_pattern,
            "suppression_threshold": self.suppression_threshold,
        }
