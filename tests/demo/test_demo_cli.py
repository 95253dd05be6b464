"""``systemic demo`` end to end through the CLI, at a small size."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from systemic.cli import app


def test_demo_command_writes_report_and_workspace(tmp_path):
    out = tmp_path / "demo"
    result = CliRunner().invoke(app, ["demo", "--out", str(out), "--people", "2000", "--runs", "2"])
    assert result.exit_code == 0, result.output
    assert (out / "report.html").exists()
    assert (out / "workspace.db").exists()
    summary = json.loads((out / "demo_summary.json").read_text())
    assert summary["people"] == 2000
    assert f"{summary['failure_demand_share']:.0%} of classified contacts" in result.output
    assert "systemic serve --db" in result.output
    assert "--role admin" in result.output
    # Step 1 reads the volume of failure demand, or says why it could not (a town this
    # small has its weekly counts suppressed): never silently left out.
    html = (out / "report.html").read_text()
    assert ("Failure-demand contacts a week in Northfield, rebased" in html) != (
        "Failure-demand contacts a week could not be compared" in html
    )
    assert summary["experiment_headline"].startswith("The experiment in Northfield")
    assert "nan" not in summary["experiment_headline"]
    assert " ".join(summary["experiment_headline"].split()) in " ".join(result.output.split())
