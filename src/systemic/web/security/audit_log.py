"""The audit trail: installed by the store for every writer (:mod:`systemic.store.audit_trail`).

Kept so that the web app (and older imports) can name the installer here.
"""

from __future__ import annotations

from systemic.store.audit_trail import SECRET_COLUMNS, record_event, watch_sessions

__all__ = ["SECRET_COLUMNS", "record_event", "watch_sessions"]
