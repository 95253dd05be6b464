"""Helpers for the data tests: write small sources, import them, read results."""

from __future__ import annotations

from pathlib import Path

import pytest

from systemic.data import parse_mapping

BASE_MAPPING = {
    "fields": {"person_id": "who", "activity": "what", "timestamp": "when"},
    "constants": {"service": "Housing"},
    "timestamp": {"formats": ["iso", "dd/mm/yyyy HH:MM"], "zone": "Europe/London"},
}


def mapping(**sections):
    """BASE_MAPPING with sections merged in (tables merge, lists replace)."""
    data = {k: dict(v) for k, v in BASE_MAPPING.items()}
    for k, v in sections.items():
        data[k] = {**data.get(k, {}), **v} if isinstance(v, dict) else v
    return parse_mapping(data)


@pytest.fixture
def write(tmp_path: Path):
    """write(name, text or bytes) -> path of a new file in tmp_path."""

    def _write(name: str, content: str | bytes) -> Path:
        p = tmp_path / name
        if isinstance(content, str):
            p.write_text(content, encoding="utf-8")
        else:
            p.write_bytes(content)
        return p

    return _write
