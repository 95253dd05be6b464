"""Shared fixtures: a pseudonymisation key per test run, real logs, scratch folders."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: The real, published event logs (see their README for citations).
REAL_DATA = ROOT.parent / "shared" / "data" / "real"

#: Arguments for Debian's Chromium under Playwright: headless, and no host but
#: loopback may be contacted (see ../shared/NOTES.md).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
]


@pytest.fixture(autouse=True)
def _pseudonym_key(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory):
    """Every test uses a throwaway key, never the user's key file."""
    monkeypatch.setenv("SYSTEMIC_KEY", "test-key-0123456789abcdef-not-secret")
    monkeypatch.setenv("SYSTEMIC_KEY_FILE", str(tmp_path_factory.mktemp("key") / "key"))
    yield


@pytest.fixture(scope="session")
def real_data() -> Path:
    """Folder of the real logs; tests that need them skip only if it is absent."""
    if not REAL_DATA.exists():
        pytest.skip(f"real logs not found at {REAL_DATA}")
    return REAL_DATA


def pg_url() -> str | None:
    """The PostgreSQL URL for tests (set by .ci/run), or None."""
    return os.environ.get("SYSTEMIC_TEST_PG_URL")
