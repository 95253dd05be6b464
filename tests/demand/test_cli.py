"""``systemic demand estimate`` and ``suggest`` end to end, and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from systemic.demand.inputs import DemandInputError, read_contacts, read_labels
from tests.demand.conftest import RunDemand


def test_estimate_writes_what_the_issue_names(
    files: tuple[Path, Path, pl.DataFrame], run_demand: RunDemand, tmp_path: Path
) -> None:
    corpus = files[2]
    out = tmp_path / "out"
    r = run_demand("estimate", "--out", str(out), "--features", "tfidf", "--no-charts")
    assert r.exit_code == 0, r.output
    est = json.loads((out / "estimate.json").read_text())
    for key in ("failure_demand_share", "interval_95", "labelled", "contacts", "method"):
        assert key in est
    # 200 good labels; the repeated id labelled 'maybe' is rejected (its first, good label
    # stays), and so is the label whose id is unknown
    assert est["labelled"] == 200
    assert est["contacts"] == 600
    assert est["rejected_labels"] == 2
    assert 0 < est["classifier"]["cross_validated_accuracy"] <= 1
    lo, hi = est["interval_95"]
    assert lo <= est["failure_demand_share"] <= hi
    rows = pl.read_csv(out / "contacts.csv")
    assert rows.columns[:4] == ["id", "demand_class", "p_failure", "source"]
    assert rows.height == 600
    assert rows.filter(pl.col("source") == "labelled").height == 200
    assert "note" not in rows.columns and "text" not in rows.columns
    rejected = pl.read_csv(out / "rejected_labels.csv")
    assert sorted(rejected["reason"].to_list()) == [
        "field 'demand_class' must be value or failure",
        "no contact has this id",
    ]
    # the labelled contacts keep their own class
    truth = dict(corpus.select("contact_id", "demand_class").iter_rows())
    labelled = rows.filter(pl.col("source") == "labelled")
    assert all(truth[i] == c for i, c in labelled.select("id", "demand_class").iter_rows())


def test_suggest_lists_uncertain_contacts(run_demand: RunDemand, tmp_path: Path) -> None:
    out = tmp_path / "next.csv"
    r = run_demand("suggest", "-n", "5", "--out", str(out), "--features", "tfidf")
    assert r.exit_code == 0, r.output
    s = pl.read_csv(out)
    assert s.height == 5
    gaps = (s["p_failure"] - 0.5).abs().to_list()
    assert gaps == sorted(gaps)


def test_missing_column_is_a_clear_error(run_demand: RunDemand, tmp_path: Path) -> None:
    r = run_demand("estimate", "--out", str(tmp_path / "o"), text="words")
    assert r.exit_code == 2
    assert "no column 'words' (the --text option)" in " ".join(r.output.split())


def test_bad_inputs_name_file_and_line(tmp_path) -> None:  # type: ignore[no-untyped-def]
    p = tmp_path / "c.csv"
    p.write_text("id,text\na,hello\n,no id here\n")
    with pytest.raises(DemandInputError, match=r"c.csv, line 3: field 'id' is empty"):
        read_contacts(p)
    p.write_text("id,text\na,hello\na,again\n")
    with pytest.raises(DemandInputError, match="appear more than once"):
        read_contacts(p)
    lab = tmp_path / "l.csv"
    lab.write_text("id,class\na,value\n")
    with pytest.raises(DemandInputError, match="no column 'demand_class'"):
        read_labels(lab)
    lab.write_text(
        "id,demand_class,what_failed\na,Failure,chasing progress\nb,value,\n"
        "a,value,\nc,failure,lost\n"
    )
    read = read_labels(lab)
    assert read.frame["id"].to_list() == ["b"]
    assert read.frame.height + read.rejected.height == 4
    assert read.rejected.filter(pl.col("id") == "c")["reason"][0].startswith("field 'what_failed'")


def test_estimate_csvs_defuse_spreadsheet_formulas(
    files: tuple[Path, Path, pl.DataFrame], tmp_path: Path
) -> None:
    # Services, localities, demand types and what people said come from the user's
    # files; every CSV the study writes is opened in a spreadsheet (issue 16, recheck).
    from typer.testing import CliRunner

    from systemic.cli import app

    contacts, labels, _ = files
    frame = pl.read_csv(contacts, infer_schema=False)
    frame = frame.with_columns(
        pl.when(pl.int_range(pl.len()) % 3 == 0)
        .then(pl.lit('=HYPERLINK("http://x","y")'))
        .otherwise(pl.col("service"))
        .alias("service"),
        pl.when(pl.int_range(pl.len()) % 5 == 0)
        .then(pl.lit("@SUM(1+1)*cmd|' /C calc'!A0 ") + pl.col("note"))
        .otherwise(pl.col("note"))
        .alias("note"),
        pl.lit("+locality").alias("locality"),
    )
    hostile = tmp_path / "contacts.csv"
    frame.write_csv(hostile)
    marked = pl.read_csv(labels, infer_schema=False).with_columns(
        (pl.lit("-") + pl.col("demand_type")).alias("demand_type")
    )
    marked.write_csv(tmp_path / "labels.csv")
    out = tmp_path / "out"
    args = ["demand", "estimate", str(hostile), "--text", "note", "--id", "ref"]
    args += ["--labels", str(tmp_path / "labels.csv"), "--out", str(out)]
    r = CliRunner().invoke(app, [*args, "--features", "tfidf", "--no-charts"])
    assert r.exit_code == 0, r.output
    suggest = tmp_path / "suggest.csv"
    r = CliRunner().invoke(
        app,
        [
            "demand",
            "suggest",
            str(hostile),
            "--text",
            "note",
            "--id",
            "ref",
            "--labels",
            str(tmp_path / "labels.csv"),
            "-n",
            "50",
            "--out",
            str(suggest),
            "--features",
            "tfidf",
        ],
    )
    assert r.exit_code == 0, r.output
    written = [*sorted(out.glob("*.csv")), suggest]
    assert len(written) >= 5
    for path in written:
        cells = [c for row in pl.read_csv(path, infer_schema=False).rows() for c in row]
        formulas = [c for c in cells if c and c[0] in "=+@\t\r"]
        formulas += [c for c in cells if c and c[0] == "-" and not c[1:].replace(".", "").isdigit()]
        assert not formulas, (path.name, formulas[:3])
