"""People's own words: which kinds hold them, and how copies of them are withheld.

A kind marked ``personal`` in :data:`systemic.framework.kinds.KINDS` (stories,
conversations) holds text that people told in confidence. Its free text is
copied nowhere it does not need to be:

- the audit trail never holds it (:func:`withhold_value` on every value);
- viewers never see it in history (``history(..., personal_text=False)``);
- deleting the object removes its history, keeping one entry that says it was
  deleted, when and by whom (see :func:`systemic.store.repository.delete_object`).

Only fields that are not free text (ids, dates, consent flags) pass through.

>>> withhold_value("story", "title", "Mrs K's week")
'(personal text withheld)'
>>> withhold_value("story", "consent", True), withhold_value("locality", "name", "Eastfield")
(True, 'Eastfield')
>>> withhold_changes("story", {"changes": {"text": ["old", "new"], "consent": [False, True]}})
{'changes': {'text': ['(personal text withheld)', '(personal text withheld)'], \
'consent': [False, True]}}
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from systemic.framework.kinds import KINDS
from systemic.store.db import forget_deleted_pages

#: Kinds (table names) whose free text is people's own words.
PERSONAL_KINDS: frozenset[str] = frozenset(k.name for k in KINDS.values() if k.personal)
#: Fields of personal kinds that are not free text and may be copied.
SAFE_FIELDS: frozenset[str] = frozenset(
    {
        "id",
        "workspace_id",
        "locality_id",
        "consent",
        "told_on",
        "held_on",
        "person_holds_record",
        "created_at",
        "updated_at",
        "retain_until",
        # a captured demand's classification (choices, a time, yes/no), not its words
        "received_at",
        "channel",
        "demand_class",
        "what_failed",
        "resolved_first_contact",
    }
) | frozenset(f for k in KINDS.values() if k.personal for f in k.relation_fields)
#: What stands in for withheld text.
WITHHELD = "(personal text withheld)"
#: The changes of the one history entry left when a personal object is deleted.
DELETED = {"personal_text": "removed when it was deleted"}

#: Set in ``session.info`` when a session deletes personal text (see :func:`forget_deleted_text`).
DELETED_PERSONAL_TEXT = "systemic_deleted_personal_text"
_FORGETS = "_systemic_forgets_deleted_text"


def forget_deleted_text(sessions: sessionmaker[Session]) -> None:
    """After a commit that deleted personal text, clear SQLite's write-ahead log.

    The deleted story's words would otherwise stay readable in ``NAME.db-wal``
    until the next checkpoint (:func:`systemic.store.db.forget_deleted_pages`).
    Idempotent: the mark is kept on the sessionmaker, as the audit trail's is.
    """
    if getattr(sessions, _FORGETS, False):
        return

    def after_commit(session: Session) -> None:
        if session.info.pop(DELETED_PERSONAL_TEXT, False):
            forget_deleted_pages(session.get_bind())  # type: ignore[arg-type]

    def after_rollback(session: Session) -> None:
        session.info.pop(DELETED_PERSONAL_TEXT, None)

    event.listen(sessions, "after_commit", after_commit)
    event.listen(sessions, "after_rollback", after_rollback)
    setattr(sessions, _FORGETS, True)


def is_personal(kind: str) -> bool:
    """Whether objects of ``kind`` hold people's own words."""
    return kind in PERSONAL_KINDS


def withhold_value(kind: str, field: str, value: Any) -> Any:
    """``value``, or :data:`WITHHELD` when it is free text of a personal kind."""
    if kind in PERSONAL_KINDS and field not in SAFE_FIELDS and value not in (None, "", []):
        return WITHHELD
    return value


def _withhold_fields(kind: str, values: Any) -> Any:
    if not isinstance(values, dict):
        return values
    return {f: withhold_value(kind, f, v) for f, v in values.items()}


def withhold_changes(kind: str, changes: dict[str, Any]) -> dict[str, Any]:
    """A history entry's ``changes`` with the free text of a personal kind withheld.

    ``after``/``before`` hold field values; ``changes`` holds ``[old, new]`` pairs;
    link entries hold only ids.
    """
    if kind not in PERSONAL_KINDS:
        return changes
    out: dict[str, Any] = {}
    for key, value in changes.items():
        if key in ("after", "before"):
            out[key] = _withhold_fields(kind, value)
        elif key == "changes" and isinstance(value, dict):
            out[key] = {
                f: [withhold_value(kind, f, v) for v in pair] if isinstance(pair, list) else pair
                for f, pair in value.items()
            }
        else:
            out[key] = value
    return out


def peoples_words(kind: str) -> tuple[str, ...]:
    """The fields of ``kind`` marked as a person's own words (``PEOPLES_WORDS``).

    >>> peoples_words("demand"), peoples_words("locality")
    (('verbatim', 'what_matters'), ())
    """
    fields = KINDS[kind].fields.model_fields
    return tuple(
        name
        for name, info in fields.items()
        if isinstance(info.json_schema_extra, dict) and info.json_schema_extra.get("peoples_words")
    )


def words_withheld(kind: str, record: Any) -> Any:
    """``record`` (a stored object) with a person's own words withheld, for viewers.

    Fields marked ``PEOPLES_WORDS`` (what a person said when their demand was
    captured) read :data:`WITHHELD`; the record is returned unchanged when its
    kind has none.
    """
    marked = peoples_words(kind)
    if not marked:
        return record
    return record.model_copy(
        update={f: WITHHELD for f in marked if getattr(record, f, None) not in (None, "")}
    )
