"""`systemic spc` end to end: CSV in, spc.csv + summary.json + charts out, clear errors."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import polars as pl
from typer.testing import CliRunner

from systemic.cli import app

RUNNER = CliRunner()


def write_csv(path: Path, rows: list[tuple[str, str]]) -> Path:
    path.write_text("week,calls\n" + "".join(f"{d},{v}\n" for d, v in rows))
    return path


def weeks(values: list[str]) -> list[tuple[str, str]]:
    return [(str(date(2024, 1, 1) + timedelta(weeks=i)), v) for i, v in enumerate(values)]


def test_spc_writes_points_summary_and_chart(tmp_path: Path) -> None:
    values = ["5", "7", "6", "8", "4", "20", "22", "21", "23", "19"]
    source = write_csv(tmp_path / "calls.csv", weeks(values))
    out = tmp_path / "out"
    result = RUNNER.invoke(
        app,
        [
            "spc",
            str(source),
            "--date",
            "week",
            "--value",
            "calls",
            "--rebase",
            "2024-02-05",
            "--target",
            "12",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    table = pl.read_csv(out / "spc.csv")
    assert table.columns == ["date", "value", "mean", "lpl", "upl", "point_type"]
    assert table["mean"].to_list() == [6.0] * 5 + [21.0] * 5
    summary = json.loads((out / "summary.json").read_text())
    assert [g["mean"] for g in summary["groups"]] == [6.0, 21.0]
    assert summary["assurance_icon"] == "consistent_pass"
    assert summary["variation_icon"] == "common_cause"
    assert any("fewer than 13" in w for w in summary["warnings"])
    assert (out / "spc.svg").stat().st_size > 1000 and (out / "spc.png").stat().st_size > 1000


def test_spc_p_chart_without_screening(tmp_path: Path) -> None:
    source = tmp_path / "fd.csv"
    source.write_text("week,failure,contacts\n2024-01-01,30,100\n2024-01-08,50,100\n")
    out = tmp_path / "out"
    result = RUNNER.invoke(
        app,
        [
            "spc",
            str(source),
            "--date",
            "week",
            "--value",
            "failure",
            "--denominator",
            "contacts",
            "--chart",
            "p",
            "--improvement",
            "decrease",
            "--no-screen",
            "--rules",
            "mdc-excel-2023",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert pl.read_csv(out / "spc.csv")["value"].to_list() == [0.3, 0.5]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["chart"] == "p" and summary["rules"] == "mdc-excel-2023"


def test_bad_cell_names_file_line_column(tmp_path: Path) -> None:
    source = write_csv(tmp_path / "calls.csv", weeks(["5", "7", "seven", "8"]))
    result = RUNNER.invoke(
        app, ["spc", str(source), "--date", "week", "--value", "calls", "--out", str(tmp_path)]
    )
    assert result.exit_code == 2
    message = " ".join(result.output.split())
    assert "calls.csv, line 4, column 'calls'" in message
    assert "'seven' is not a number" in message and "What to do" in message


def test_missing_column_and_bad_option(tmp_path: Path) -> None:
    source = write_csv(tmp_path / "calls.csv", weeks(["5", "7"]))
    result = RUNNER.invoke(
        app, ["spc", str(source), "--date", "week", "--value", "count", "--out", str(tmp_path)]
    )
    assert result.exit_code == 2 and "no column 'count'" in " ".join(result.output.split())
    result = RUNNER.invoke(
        app,
        [
            "spc",
            str(source),
            "--date",
            "week",
            "--value",
            "calls",
            "--rules",
            "nelson",
            "--out",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 2 and "mdc-excel-2023" in result.output


EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "series"


def test_example_series_chart_as_the_readme_says(tmp_path: Path) -> None:
    runs = {
        "xmr": [
            "failure_demand_weekly.csv",
            "--date",
            "week",
            "--value",
            "failure_demand",
            "--improvement",
            "decrease",
            "--target",
            "100",
        ],
        "p": [
            "failure_share_weekly.csv",
            "--date",
            "week",
            "--value",
            "failure_contacts",
            "--denominator",
            "all_contacts",
            "--chart",
            "p",
            "--improvement",
            "decrease",
        ],
        "t": [
            "days_between_crises.csv",
            "--date",
            "crisis_date",
            "--value",
            "days_since_previous",
            "--chart",
            "t",
        ],
    }
    for name, (csv, *options) in runs.items():
        out = tmp_path / name
        result = RUNNER.invoke(app, ["spc", str(EXAMPLES / csv), *options, "--out", str(out)])
        assert result.exit_code == 0, result.output
        assert (out / "spc.png").stat().st_size > 10_000
    # the falls in failure demand (from week 31) show as special-cause improvement
    xmr = json.loads((tmp_path / "xmr" / "summary.json").read_text())
    p = json.loads((tmp_path / "p" / "summary.json").read_text())
    assert xmr["point_types"]["special_cause_improvement"] >= 7
    assert p["point_types"]["special_cause_improvement"] >= 7
    improved = pl.read_csv(tmp_path / "xmr" / "spc.csv").filter(
        pl.col("point_type") == "special_cause_improvement"
    )
    assert improved["date"].min() >= "2024-07-29"  # none before the change
