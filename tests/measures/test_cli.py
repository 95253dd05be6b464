"""`systemic spc` end to end: CSV in, spc.csv + summary.json + charts out, clear errors."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest
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
    message = "".join(result.output.split())  # Rich may wrap anywhere
    assert "calls.csv,line4,column'calls'" in message
    assert "'seven'isnotanumber" in message and "Whattodo" in message


def test_missing_column_and_bad_option(tmp_path: Path) -> None:
    source = write_csv(tmp_path / "calls.csv", weeks(["5", "7"]))
    result = RUNNER.invoke(
        app, ["spc", str(source), "--date", "week", "--value", "count", "--out", str(tmp_path)]
    )
    assert result.exit_code == 2 and "nocolumn'count'" in "".join(result.output.split())
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
    assert result.exit_code == 2 and "mdc-excel-2023" in "".join(result.output.split())


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


def test_experiment_command_on_the_example(tmp_path: Path) -> None:
    out = tmp_path / "exp"
    result = RUNNER.invoke(
        app,
        ["experiment", str(EXAMPLES / "repeat_calls_by_locality.csv"), "--date", "week",
         "--value", "repeat_calls", "--locality", "North", "--start", "2024-07-01",
         "--improvement", "decrease", "--seed", "3", "--out", str(out)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    evidence = json.loads((out / "evidence.json").read_text())
    assert evidence["signal"] == "improvement" and evidence["conclusion"] == "improvement"
    did = evidence["difference_in_differences"]
    assert did["upper"] < 0 and did["seed"] == 3
    assert (out / "baseline.png").stat().st_size > 10_000
    assert (out / "rebased.svg").exists()
    again = RUNNER.invoke(
        app,
        ["experiment", str(EXAMPLES / "repeat_calls_by_locality.csv"), "--date", "week",
         "--value", "repeat_calls", "--locality", "North", "--start", "2024-07-01",
         "--improvement", "decrease", "--seed", "3", "--out", str(tmp_path / "again")],
    )  # fmt: skip
    assert again.exit_code == 0
    assert json.loads((tmp_path / "again" / "evidence.json").read_text()) == evidence


def test_experiment_command_refuses_repeated_rows(tmp_path: Path) -> None:
    source = tmp_path / "dup.csv"
    source.write_text("week,locality,calls\n2024-01-01,North,5\n2024-01-01,North,6\n")
    result = RUNNER.invoke(
        app,
        ["experiment", str(source), "--date", "week", "--value", "calls", "--locality",
         "North", "--start", "2024-01-01", "--out", str(tmp_path)],
    )  # fmt: skip
    message = "".join(result.output.split())
    assert result.exit_code == 2 and "dup.csv,line2" in message and "morethanonce" in message


def test_funnel_command_on_the_example(tmp_path: Path) -> None:
    out = tmp_path / "funnel"
    result = RUNNER.invoke(
        app,
        ["funnel", str(EXAMPLES / "failure_by_locality.csv"), "--numerator",
         "failure_contacts", "--denominator", "all_contacts", "--overdispersion", "additive",
         "--out", str(out)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    table = pl.read_csv(out / "funnel.csv")
    source = pl.read_csv(EXAMPLES / "failure_by_locality.csv")
    pooled = source["failure_contacts"].sum() / source["all_contacts"].sum()
    assert json.loads((out / "funnel.json").read_text())["target"] == pytest.approx(pooled)
    assert table.height == source.height
    assert (out / "funnel.png").stat().st_size > 10_000


def test_rebase_dates_can_be_comma_separated(tmp_path: Path) -> None:
    source = write_csv(tmp_path / "calls.csv", weeks([str(v) for v in range(1, 13)]))
    out = tmp_path / "out"
    result = RUNNER.invoke(
        app,
        ["spc", str(source), "--date", "week", "--value", "calls",
         "--rebase", "2024-02-05,2024-03-11", "--out", str(out)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert len(json.loads((out / "summary.json").read_text())["groups"]) == 3


def test_funnel_csv_defuses_spreadsheet_formulas(tmp_path: Path) -> None:
    # Locality names come from the user's file; funnel.csv is opened in a spreadsheet.
    source = tmp_path / "localities.csv"
    source.write_text(
        'locality,failure,contacts\n"=HYPERLINK(""http://x"",""y"")",30,100\n'
        "@SUM(1+1),40,120\nNorth,25,90\n"
    )
    out = tmp_path / "funnel"
    result = RUNNER.invoke(
        app,
        ["funnel", str(source), "--numerator", "failure", "--denominator", "contacts",
         "--out", str(out)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    names = pl.read_csv(out / "funnel.csv", infer_schema=False)["locality"].to_list()
    assert sorted(names) == sorted(['\'=HYPERLINK("http://x","y")', "'@SUM(1+1)", "North"])
