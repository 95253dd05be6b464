"""The parameters of learning: how journeys are cut and what counts as a repeat.

>>> from systemic.learn.config import LearnConfig
>>> LearnConfig().episode_gap.days, LearnConfig(episode_gap_days=30).episode_gap.days
(90, 30)
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from systemic.data.disclosure import DEFAULT_THRESHOLD


@dataclass(frozen=True)
class LearnConfig:
    """How journeys are cut into episodes and which contacts signal failure demand.

    - ``episode_gap_days``: a gap longer than this between a person's
      consecutive events starts a new episode of need (default 90).
    - ``repeat_window_days``: a contact with the same demand type within this
      many days of an earlier contact by the same person is a repeat contact.
    - ``recontact_window_days``: a contact within this many days after a
      closure (any service) is a re-contact.
    - ``suppression_threshold``: counts below it are hidden in published
      tables (default 5, so 1-4 show as ``<5``).
    """

    episode_gap_days: float = 90
    repeat_window_days: float = 30
    recontact_window_days: float = 30
    suppression_threshold: int = DEFAULT_THRESHOLD

    def __post_init__(self) -> None:
        for name in ("episode_gap_days", "repeat_window_days", "recontact_window_days"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be zero or more days, got {getattr(self, name)}")
        if self.suppression_threshold < 1:
            raise ValueError("suppression_threshold must be at least 1")

    @property
    def episode_gap(self) -> dt.timedelta:
        return dt.timedelta(days=self.episode_gap_days)

    @property
    def repeat_window(self) -> dt.timedelta:
        return dt.timedelta(days=self.repeat_window_days)

    @property
    def recontact_window(self) -> dt.timedelta:
        return dt.timedelta(days=self.recontact_window_days)
