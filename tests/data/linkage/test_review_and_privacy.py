"""The output folder holds no clear identifier, and a clerical review re-forms people."""

from __future__ import annotations

import csv
import io

import polars as pl
import pytest
from typer.testing import CliRunner

from systemic.cli import app

from .conftest import FEBRL_SETTINGS, linked_pairs, precision_recall


def _clear_values(*paths) -> set[str]:
    """Distinctive clear values of the inputs: names, streets, suburbs, dates of birth."""
    values: set[str] = set()
    for p in paths:
        df = pl.read_csv(p, infer_schema=False)
        for col in ("given_name", "surname", "address_1", "address_2", "suburb"):
            values |= {v for v in df[col].drop_nulls().to_list() if len(v) >= 6}
        for dob in df["date_of_birth"].drop_nulls().to_list():
            if len(dob) == 8:
                values.add(f"{dob[:4]}-{dob[4:6]}-{dob[6:]}")
    return values


def _all_text(folder) -> list[tuple[str, str]]:
    out = []
    for f in sorted(p for p in folder.rglob("*") if p.is_file()):
        out.append((f.name, f.read_bytes().decode("latin-1").lower()))
        if f.suffix == ".parquet":
            buf = io.StringIO()
            pl.read_parquet(f).select(pl.all().cast(pl.String)).write_csv(buf)
            out.append((f.name, buf.getvalue().lower()))
    return out


def test_small_run_links_well(small_link):
    _, _, true, result = small_link
    precision, recall = precision_recall(linked_pairs(result.links), true)
    assert precision >= 0.98 and recall >= 0.98, (precision, recall)


def test_no_clear_identifier_in_any_output_file(small_link):
    pa, pb, _, result = small_link
    clear = _clear_values(pa, pb)
    assert len(clear) > 1000
    texts = _all_text(result.out)
    names = {n for n, _ in texts}
    assert {"links.csv", "quality.json", "review.csv", "pairs.parquet"} <= names
    for name, text in texts:
        leaked = sorted(v for v in clear if v.lower() in text)
        assert not leaked, f"{name} holds clear values such as {leaked[:3]}"
    # positive control: the scan finds a clear value when one is there
    planted = result.out.parent / "control"
    planted.mkdir(exist_ok=True)
    (planted / "x.csv").write_text(next(iter(clear)))
    assert any(v.lower() in t for _, t in _all_text(planted) for v in clear)


def test_cli_output_holds_no_clear_identifier(small_link, tmp_path):
    pa, pb, _, _ = small_link
    run = CliRunner().invoke(
        app,
        ["link", str(pa), str(pb), "--settings", str(FEBRL_SETTINGS), "--out", str(tmp_path)],
    )
    assert run.exit_code == 0, run.output
    assert "records linked to" in run.output
    text = run.output.lower()
    assert not [v for v in _clear_values(pa, pb) if v.lower() in text]


def _review_rows(out) -> tuple[list[str], list[dict[str, str]]]:
    with (out / "review.csv").open(newline="") as fh:
        reader = csv.DictReader(fh)
        return list(reader.fieldnames or []), list(reader)


def test_review_confirm_and_reject_reform_people(small_link, tmp_path):
    _, _, _, first = small_link
    out = tmp_path / "out"
    out.mkdir()
    for name in ("quality.json", "pairs.parquet", "records.parquet", "links.csv"):
        (out / name).write_bytes((first.out / name).read_bytes())
    links = first.links
    pairs_of_two = (
        links.group_by("person_key")
        .agg("source", "record_id")
        .filter(pl.col("source").list.len() == 2)
    )
    (sa, sb), (ra, rb) = pairs_of_two.row(0)[1], pairs_of_two.row(0)[2]
    # two records from different people, linked by hand
    other = links.filter(pl.col("person_key") != links["person_key"][0]).row(0, named=True)
    one = links.row(0, named=True)
    header, _ = _review_rows(first.out)
    review = tmp_path / "reviewed.csv"
    with review.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=header, extrasaction="ignore")
        w.writeheader()
        # reject a linked pair, written right to left (order must not matter)
        w.writerow(
            {
                "source_l": sb,
                "record_id_l": rb,
                "source_r": sa,
                "record_id_r": ra,
                "decision": "Reject",
            }
        )
        w.writerow(
            {
                "source_l": one["source"],
                "record_id_l": one["record_id"],
                "source_r": other["source"],
                "record_id_r": other["record_id"],
                "decision": "confirm",
            }
        )
    run = CliRunner().invoke(app, ["link", "--review", str(review), "--out", str(out)])
    assert run.exit_code == 0, run.output
    after = pl.read_csv(out / "links.csv", infer_schema=False)
    key = dict(zip(after["source"] + "/" + after["record_id"], after["person_key"], strict=True))
    assert key[f"{sa}/{ra}"] != key[f"{sb}/{rb}"]
    assert (
        key[f"{one['source']}/{one['record_id']}"] == key[f"{other['source']}/{other['record_id']}"]
    )
    confirmed = after.filter(pl.col("record_id") == one["record_id"])["match_probability"]
    assert float(confirmed[0]) == 1.0
    import json

    q = json.loads((out / "quality.json").read_text())
    assert q["review"]["decisions_applied"] == {"confirm": 1, "reject": 1}
    assert q["people"]["people"] == first.quality["people"]["people"]  # one split, one join


@pytest.mark.parametrize(
    ("row", "words"),
    [
        ({"decision": "maybe"}, "line 2, field 'decision': decision 'maybe'"),
        ({"decision": "confirm", "record_id_r": "nobody"}, "not in this linkage"),
    ],
)
def test_review_errors_name_line_and_field(small_link, tmp_path, row, words):
    _, _, _, first = small_link
    header, _ = _review_rows(first.out)
    a, b = first.links.row(0, named=True), first.links.row(1, named=True)
    review = tmp_path / "bad.csv"
    with review.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=header, extrasaction="ignore")
        w.writeheader()
        w.writerow(
            {
                "source_l": a["source"],
                "record_id_l": a["record_id"],
                "source_r": b["source"],
                "record_id_r": b["record_id"],
                **row,
            }
        )
    run = CliRunner().invoke(app, ["link", "--review", str(review), "--out", str(first.out)])
    assert run.exit_code == 2 and words in " ".join(run.output.split()), run.output


def test_cli_errors_are_clear(tmp_path, small_link):
    pa, _, _, _ = small_link
    runner = CliRunner()
    run = runner.invoke(app, ["link", str(pa), "--out", str(tmp_path)])
    assert run.exit_code == 2 and "give --settings" in run.output
    bad = tmp_path / "s.toml"
    bad.write_text('[sources.default]\nrecord_id = "nope"\ncolumns = { surname = "surname" }\n')
    run = runner.invoke(app, ["link", str(pa), "--settings", str(bad), "--out", str(tmp_path)])
    assert run.exit_code == 2
    assert (
        "column 'nope' (settings key sources.default.record_id) is not in the file"
        in (run.output.replace("\n", " "))
        or "nope" in run.output
    )
