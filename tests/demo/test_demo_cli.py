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
