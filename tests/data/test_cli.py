"""End to end through the CLI: import, inspect, export, demo."""

from __future__ import annotations

import polars as pl
from typer.testing import CliRunner

from systemic.cli import app
from systemic.data import open_dataset

runner = CliRunner()

MAPPING = """
[fields]
person_id = "who"
activity = "what"
timestamp = "when"

[constants]
service = "Housing"

[timestamp]
formats = ["dd/mm/yyyy HH:MM"]
zone = "Europe/London"
"""


def test_import_inspect_export(tmp_path):
    (tmp_path / "m.toml").write_text(MAPPING)
    (tmp_path / "a.csv").write_text("who,what,when\nA1,call,02/01/2024 09:00\nA2,call,soon\n")
    (tmp_path / "b.csv").write_text("who,what,when\nA1,visit,03/01/2024 09:00\n")
    ds = tmp_path / "ds"
    result = runner.invoke(
        app,
        [
            "import",
            str(tmp_path / "a.csv"),
            str(tmp_path / "b.csv"),
            "--mapping",
            str(tmp_path / "m.toml"),
            "--into",
            str(ds),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "a.csv: read 2, accepted 1, rejected 1" in result.output
    assert "b.csv: read 1, accepted 1, rejected 0" in result.output
    assert len(open_dataset(ds).manifest.sources) == 2

    result = runner.invoke(app, ["inspect", str(ds)])
    assert result.exit_code == 0, result.output
    assert "Housing" in result.output and "timestamp" in result.output
    assert "does not match the format" in result.output

    out = tmp_path / "out.csv"
    result = runner.invoke(app, ["export", str(ds), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert pl.read_csv(out).height == 2


def test_errors_are_clear_and_exit_non_zero(tmp_path):
    (tmp_path / "m.toml").write_text(MAPPING.replace('zone = "Europe/London"', 'zone = "Nowhere"'))
    (tmp_path / "a.csv").write_text("who,what,when\n")
    result = runner.invoke(
        app,
        [
            "import",
            str(tmp_path / "a.csv"),
            "--mapping",
            str(tmp_path / "m.toml"),
            "--into",
            str(tmp_path / "ds"),
        ],
    )
    assert result.exit_code == 2
    assert "timestamp.zone" in result.output
    result = runner.invoke(app, ["inspect", str(tmp_path / "nothing")])
    assert result.exit_code == 2 and "not a dataset" in result.output


def test_demo_imports_the_three_real_logs(real_data, tmp_path):
    result = runner.invoke(
        app,
        ["demo", "--real-logs", "--out", str(tmp_path / "demo"), "--real-data", str(real_data)],
    )
    assert result.exit_code == 0, result.output
    for name, events in (("sepsis", 15190), ("hospital_bpic2011", 150291), ("receipt_wabo", 8577)):
        assert open_dataset(tmp_path / "demo" / name).manifest.accepted == events
    assert "150,291" in result.output and "Mannhardt" in result.output


def test_import_refuses_a_file_already_in_the_dataset(tmp_path):
    (tmp_path / "m.toml").write_text(MAPPING)
    (tmp_path / "a.csv").write_text("who,what,when\nA1,call,02/01/2024 09:00\n")
    args = ["import", str(tmp_path / "a.csv"), "-m", str(tmp_path / "m.toml"), "-i"]
    args.append(str(tmp_path / "ds"))
    assert runner.invoke(app, args).exit_code == 0
    again = runner.invoke(app, args)
    assert again.exit_code == 2
    assert "already in the dataset" in again.output and "--allow-duplicate" in again.output
    assert len(open_dataset(tmp_path / "ds").manifest.sources) == 1
    forced = runner.invoke(app, [*args, "--allow-duplicate"])
    assert forced.exit_code == 0, forced.output
    assert open_dataset(tmp_path / "ds").events().collect().height == 2
