"""Every ```python block in docs/*.md runs, page by page, in a scratch folder.

Blocks of one page share a namespace, in order, so a page reads as a session.
A block fenced as ```python no-run is shown but not run (say why beside it).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs"
BLOCK = re.compile(r"^```python([^\n]*)\n(.*?)^```", re.S | re.M)


def _pages() -> list[Path]:
    return sorted(DOCS.glob("*.md")) if DOCS.exists() else []


@pytest.mark.parametrize("page", _pages(), ids=lambda p: p.name)
def test_doc_examples_run(page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocks = [code for info, code in BLOCK.findall(page.read_text()) if "no-run" not in info]
    if not blocks:
        pytest.skip(f"{page.name} has no runnable examples")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    namespace: dict[str, object] = {"__name__": f"docs_{page.stem}"}
    for i, code in enumerate(blocks, 1):
        try:
            exec(compile(code, f"{page.name}[block {i}]", "exec"), namespace)
        except Exception as exc:  # pragma: no cover - the failure is the report
            raise AssertionError(f"{page.name} block {i} failed: {exc!r}\n{code}") from exc
    assert os.getcwd() == str(tmp_path)
