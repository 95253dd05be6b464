"""No cell of a CSV written for people to open can run as a spreadsheet formula.

The review's attack: cells such as ``=cmd|' /C calc'!A0``, ``@SUM(...)`` and
``=HYPERLINK(...)`` went out unescaped in ``systemic export``, learn's
``tables/*.csv`` and ``systemic person export``. One function
(:func:`systemic.data.export.neutralise_formulas`) is used by all three.
"""

from __future__ import annotations

import csv
from pathlib import Path

import polars as pl
from typer.testing import CliRunner

from systemic.cli import app
from systemic.data import import_sources, load_key, open_dataset
from systemic.data.export import export_events, export_mapping

from .conftest import mapping

runner = CliRunner()
ATTACKS = ["=cmd|' /C calc'!A0", "@SUM(1+1)*cmd|' /C calc'!A0", '=HYPERLINK("http://x")', "+1+1"]


def _source(tmp_path: Path) -> Path:
    lines = ["who,what,when,ward"]
    for n in range(8):  # enough people that learn's tables are not suppressed
        for day, attack in enumerate(ATTACKS, start=1):
            lines.append(f'P{n},"{attack.replace(chr(34), chr(34) * 2)}",2024-01-0{day} 09:00,-x')
    path = tmp_path / "calls.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def _cells(folder: Path) -> list[str]:
    out: list[str] = []
    for path in sorted(folder.rglob("*.csv")):
        with path.open(newline="", encoding="utf-8") as handle:
            out += [cell for row in csv.reader(handle) for cell in row]
    return out


def _unsafe(cells: list[str]) -> list[str]:
    """Cells a spreadsheet would run: text starting with = + - @ tab or CR (not numbers)."""

    def number(cell: str) -> bool:
        try:
            float(cell)
        except ValueError:
            return False
        return True

    return [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r") and not number(c)]


def test_systemic_export_csv_is_neutralised_and_still_round_trips(tmp_path: Path) -> None:
    import_sources([_source(tmp_path)], mapping(), tmp_path / "ds")
    out = tmp_path / "out" / "events.csv"
    out.parent.mkdir()
    result = runner.invoke(app, ["export", str(tmp_path / "ds"), "-o", str(out)])
    assert result.exit_code == 0, result.output
    cells = _cells(out.parent)
    assert "'=cmd|' /C calc'!A0" in cells and "'-x" in cells
    assert _unsafe(cells) == []
    columns = pl.read_csv(out).columns
    import_sources([out], export_mapping(columns), tmp_path / "again")
    first = open_dataset(tmp_path / "ds").events().collect()
    again = open_dataset(tmp_path / "again").events().collect()
    assert sorted(again["activity"].to_list()) == sorted(first["activity"].to_list())
    assert set(again["attr_ward"].to_list()) == {"-x"}


def test_learn_tables_are_neutralised(tmp_path: Path) -> None:
    import_sources([_source(tmp_path)], mapping(), tmp_path / "ds")
    result = runner.invoke(
        app, ["learn", str(tmp_path / "ds"), "-o", str(tmp_path / "learn"), "--no-charts"]
    )
    assert result.exit_code == 0, result.output
    cells = _cells(tmp_path / "learn" / "tables")
    assert any(c.startswith("'=HYPERLINK") for c in cells)  # the attack is there, escaped
    assert _unsafe(cells) == []
    # The team's own row-level CSVs are opened in a spreadsheet too (issue 16 recheck:
    # row_level/activity_*.csv still held the formulas).
    team = _cells(tmp_path / "learn" / "row_level")
    assert any(c.startswith("'=HYPERLINK") for c in team)
    assert _unsafe(team) == []


def test_person_export_is_neutralised(tmp_path: Path) -> None:
    import_sources([_source(tmp_path)], mapping(), tmp_path / "ds")
    pseudonym = load_key().pseudonym("P1")
    out = tmp_path / "person"
    result = runner.invoke(
        app, ["person", "export", pseudonym, "--dataset", str(tmp_path / "ds"), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    cells = _cells(out)
    assert "'@SUM(1+1)*cmd|' /C calc'!A0" in cells
    assert _unsafe(cells) == []


def test_export_events_leaves_parquet_as_it_is(tmp_path: Path) -> None:
    import_sources([_source(tmp_path)], mapping(), tmp_path / "ds")
    out = tmp_path / "events.parquet"
    export_events(open_dataset(tmp_path / "ds"), out)
    assert set(pl.read_parquet(out)["activity"].to_list()) == set(ATTACKS)
