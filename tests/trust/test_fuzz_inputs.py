"""Fuzzing every importer and TOML loader with arbitrary and mutated input.

Contract checked (from the data and loader docs): bad input raises only the
documented error classes, and an import that succeeds loses no row:
``read == accepted + rejected``, with exactly ``accepted`` event rows and
``rejected`` reject rows in the dataset. A failed import leaves the dataset's
manifest as it was. Examples are bounded so the file runs in well under a minute.
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import io
import tomllib
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from systemic.data import SystemicDataError, create_dataset, import_file, load_mapping, open_dataset
from systemic.data.mapping import parse_mapping

ROOT = Path(__file__).resolve().parents[2]
MAPPINGS = ROOT / "examples" / "mappings"
FUZZ = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,  # the same examples on every run: a failure is reproducible
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

CSV_MAPPING = parse_mapping(
    {
        "source": {"format": "csv"},
        "fields": {"person_id": "who", "activity": "what", "timestamp": "when"},
        "constants": {"service": "Housing"},
        "timestamp": {"zone": "UTC"},
    }
)


# ------------------------------------------------------------------ mutations


@st.composite
def mutated(draw: st.DrawFn, base: bytes) -> bytes:
    """``base`` with a few random flips, insertions, deletions, duplications or a cut."""
    data = bytearray(base)
    for _ in range(draw(st.integers(1, 6))):
        if not data:
            break
        op = draw(st.sampled_from(["flip", "insert", "delete", "duplicate", "truncate"]))
        at = draw(st.integers(0, len(data) - 1))
        if op == "flip":
            data[at] = draw(st.integers(0, 255))
        elif op == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif op == "delete":
            del data[at : at + draw(st.integers(1, 40))]
        elif op == "duplicate":
            end = min(len(data), at + draw(st.integers(1, 200)))
            data[at:at] = data[at:end]
        else:
            del data[at:]
    return bytes(data)


def _import_checked(path: Path, mapping, tmp: Path) -> None:  # type: ignore[no-untyped-def]
    """Import; on success check no row is lost, on failure that only a data error escaped."""
    dataset = create_dataset(tmp / "ds")
    before = len(open_dataset(dataset.path).manifest.sources)
    try:
        entry = import_file(path, mapping, dataset)
    except SystemicDataError:
        assert len(open_dataset(dataset.path).manifest.sources) == before
        return
    assert entry.read == entry.accepted + entry.rejected
    reopened = open_dataset(dataset.path)
    assert reopened.events().collect().height == reopened.manifest.accepted == entry.accepted
    assert reopened.rejects().collect().height == entry.rejected


@pytest.fixture(scope="module")
def sepsis_head(real_data: Path) -> bytes:
    with gzip.open(real_data / "sepsis.csv.gz", "rb") as handle:
        return b"".join(handle.readline() for _ in range(60))


@pytest.fixture(scope="module")
def receipt_head(real_data: Path) -> bytes:
    """The start of the receipt log, closed into a valid small XES document."""
    with gzip.open(real_data / "receipt_wabo.xes.gz", "rb") as handle:
        text = handle.read(400_000).decode("utf-8")
    cut = text.find("</trace>", text.find("</trace>") + 1)
    cut = text.find("</trace>", cut + 1) + len("</trace>")
    return (text[:cut] + "\n</log>\n").encode("utf-8")


# ------------------------------------------------------------------ importers


@FUZZ
@given(payload=st.binary(max_size=600))
def test_arbitrary_bytes_as_csv(payload: bytes, tmp_path_factory: pytest.TempPathFactory) -> None:
    tmp = tmp_path_factory.mktemp("csv")
    path = tmp / "input.csv"
    path.write_bytes(b"who,what,when\n" + payload)
    _import_checked(path, CSV_MAPPING, tmp)


cell = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12
)


@FUZZ
@given(rows=st.lists(st.tuples(cell, cell, cell), min_size=1, max_size=25))
def test_any_csv_records_are_all_counted(rows, tmp_path_factory) -> None:  # type: ignore[no-untyped-def]
    """Properly quoted CSV (Python's csv module as the reference): every record is read."""
    tmp = tmp_path_factory.mktemp("csvrows")
    buffer = io.StringIO(newline="")
    # "\r\n" as terminator makes the writer quote any field holding \r or \n.
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["who", "what", "when"])
    writer.writerows(rows)
    path = tmp / "input.csv"
    path.write_bytes(buffer.getvalue().encode("utf-8"))
    records = list(csv.reader(io.StringIO(buffer.getvalue(), newline="")))[1:]
    expected = sum(1 for r in records if r != [] and r != [""])
    dataset = create_dataset(tmp / "ds")
    entry = import_file(path, CSV_MAPPING, dataset)
    assert entry.read == entry.accepted + entry.rejected
    assert entry.read == expected


@FUZZ
@given(data=st.data())
def test_mutated_real_csv(data, sepsis_head: bytes, tmp_path_factory) -> None:  # type: ignore[no-untyped-def]
    tmp = tmp_path_factory.mktemp("sepsis")
    path = tmp / "sepsis.csv"
    path.write_bytes(data.draw(mutated(sepsis_head)))
    _import_checked(path, load_mapping(MAPPINGS / "sepsis.toml"), tmp)


@FUZZ
@given(data=st.data())
def test_mutated_real_xes(data, receipt_head: bytes, tmp_path_factory) -> None:  # type: ignore[no-untyped-def]
    tmp = tmp_path_factory.mktemp("xes")
    path = tmp / "receipt.xes"
    path.write_bytes(data.draw(mutated(receipt_head)))
    _import_checked(path, load_mapping(MAPPINGS / "receipt_wabo.toml"), tmp)


@FUZZ
@given(payload=st.binary(max_size=400))
def test_arbitrary_bytes_as_xes(payload: bytes, tmp_path_factory) -> None:  # type: ignore[no-untyped-def]
    tmp = tmp_path_factory.mktemp("xesb")
    path = tmp / "input.xes"
    path.write_bytes(payload)
    _import_checked(path, load_mapping(MAPPINGS / "receipt_wabo.toml"), tmp)


@pytest.fixture(scope="module")
def sepsis_parquet(sepsis_head: bytes, tmp_path_factory: pytest.TempPathFactory) -> bytes:
    frame = pl.read_csv(io.BytesIO(sepsis_head), infer_schema_length=0)
    path = tmp_path_factory.mktemp("pq") / "sepsis.parquet"
    frame.write_parquet(path)
    return path.read_bytes()


def _parquet_mapping():  # type: ignore[no-untyped-def]
    raw = tomllib.loads((MAPPINGS / "sepsis.toml").read_text(encoding="utf-8"))
    raw["source"]["format"] = "parquet"
    return parse_mapping(raw)


@FUZZ
@given(data=st.data())
def test_mutated_parquet(data, sepsis_parquet: bytes, tmp_path_factory) -> None:  # type: ignore[no-untyped-def]
    tmp = tmp_path_factory.mktemp("pqm")
    path = tmp / "sepsis.parquet"
    path.write_bytes(data.draw(mutated(sepsis_parquet)))
    _import_checked(path, _parquet_mapping(), tmp)


@FUZZ
@given(payload=st.binary(max_size=400))
def test_arbitrary_bytes_as_parquet(payload: bytes, tmp_path_factory) -> None:  # type: ignore[no-untyped-def]
    tmp = tmp_path_factory.mktemp("pqb")
    path = tmp / "input.parquet"
    path.write_bytes(payload)
    _import_checked(path, _parquet_mapping(), tmp)


# ------------------------------------------------------------------ TOML loaders


def _loaders():  # type: ignore[no-untyped-def]
    from systemic.data import MappingError
    from systemic.framework.audit import AuditRulesError, load_rules
    from systemic.learn.costs import UnitCostError, load_unit_costs
    from systemic.simulate.errors import ScenarioError
    from systemic.simulate.scenario import load_scenario

    return {
        "mapping": (load_mapping, (MappingError,), MAPPINGS / "sepsis.toml"),
        "scenario": (
            load_scenario,
            (ScenarioError, UnitCostError),
            ROOT / "examples" / "scenarios" / "silo.toml",
        ),
        "unit_costs": (
            load_unit_costs,
            (UnitCostError,),
            ROOT / "examples" / "unit_costs" / "uk_health_social_care.toml",
        ),
        "audit_rules": (
            load_rules,
            (AuditRulesError,),
            ROOT / "src" / "systemic" / "framework" / "audit_rules.toml",
        ),
    }


def _load_checked(kind: str, payload: bytes, tmp: Path) -> None:
    load, errors, _ = _loaders()[kind]
    path = tmp / f"{kind}.toml"
    path.write_bytes(payload)
    with contextlib.suppress(*errors):
        load(path)


toml_text = st.one_of(
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=300).map(str.encode),
    # Valid TOML of the wrong shape: keys the loaders know, values of any type.
    st.dictionaries(
        st.sampled_from(
            [
                "source",
                "fields",
                "rule",
                "cost",
                "unit_costs",
                "localities",
                "steps",
                "name",
                "seed",
            ]
        ),
        st.one_of(
            st.integers(), st.text(max_size=5), st.lists(st.integers(), max_size=3), st.booleans()
        ),
        max_size=4,
    ).map(lambda d: "\n".join(f"{k} = {_toml_value(v)}" for k, v in d.items()).encode()),
)


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    if isinstance(value, list):
        return "[" + ", ".join(str(v) for v in value) + "]"
    return str(value)


LOADER_KINDS = ["mapping", "scenario", "unit_costs", "audit_rules"]


@pytest.mark.parametrize("kind", LOADER_KINDS)
def test_loaders_with_a_file_that_is_not_utf8(kind: str, tmp_path: Path) -> None:
    _load_checked(kind, b'name = "caf\xe9"\n', tmp_path)


@pytest.mark.parametrize("payload", [b"rule = 3\n", b'rule = "x"\n', b"rule = [1, 2]\n"])
def test_audit_rules_with_rule_not_an_array_of_tables(payload: bytes, tmp_path: Path) -> None:
    from systemic.framework.audit import AuditRulesError, load_rules

    path = tmp_path / "rules.toml"
    path.write_bytes(payload)
    with pytest.raises(AuditRulesError, match=str(path)):
        load_rules(path)


@pytest.mark.parametrize("kind", LOADER_KINDS)
def test_loaders_with_arbitrary_text(kind: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    @FUZZ
    @given(payload=toml_text)
    def run(payload: bytes) -> None:
        _load_checked(kind, payload, tmp_path_factory.mktemp(kind))

    run()


@pytest.mark.parametrize("kind", LOADER_KINDS)
def test_loaders_with_mutated_shipped_files(
    kind: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    base = _loaders()[kind][2].read_bytes()

    @FUZZ
    @given(payload=mutated(base).map(lambda b: b.decode("utf-8", "ignore").encode("utf-8")))
    def run(payload: bytes) -> None:
        _load_checked(kind, payload, tmp_path_factory.mktemp(kind))

    run()
