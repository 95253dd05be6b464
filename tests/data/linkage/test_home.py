"""The home comparison: the address's parts, with the surname, compared as one."""

from __future__ import annotations

import polars as pl
import pytest

from systemic.data.linkage import link_files, parse_link_settings
from systemic.data.linkage.model import comparison_names, part_agreement
from systemic.data.linkage.records import RECORD_ID, SOURCE

from .conftest import FEBRL_SETTINGS, write_febrl4


def _settings(columns: dict, **linkage):
    return parse_link_settings(
        {
            "linkage": linkage,
            "fields": {"town": {"kind": "text"}} if "town" in columns else {},
            "sources": {"default": {"record_id": "id", "columns": columns}},
        }
    )


def test_the_address_parts_and_the_surname_make_one_comparison():
    cols = {"forename": "f", "surname": "s", "address": "a", "town": "t", "postcode": "p"}

    def names(settings):
        return sorted(comparison_names(settings))

    assert names(_settings(cols)) == ["forename", "surname_and_address", "town"]
    listed = _settings(cols, address_fields=["address", "town", "postcode"])
    assert names(listed) == ["forename", "surname_and_address"]
    no_surname = {k: v for k, v in cols.items() if k != "surname"}
    assert names(_settings(no_surname)) == ["forename", "town", "whole_address"]
    assert names(_settings(cols, address_fields=[])) == sorted(cols)


def test_a_parts_agreement_counts_pairs_by_probability_and_only_from_other_rules():
    table = pl.DataFrame(
        {
            SOURCE: ["a", "a", "b", "b"],
            RECORD_ID: ["1", "2", "1", "2"],
            "postcode": ["X1", "Y2", "X1", None],
        }
    )
    pairs = pl.DataFrame(
        {
            "source_l": ["a", "a", "a"],
            "record_id_l": ["1", "2", "1"],
            "source_r": ["b", "b", "b"],
            "record_id_r": ["1", "1", "2"],
            "match_probability": [0.9, 0.3, 0.8],
            # rule 0 blocks on the postcode: its pairs agree on it whatever the truth
            "match_key": ["1", "1", "0"],
        }
    )
    rules = [["postcode"], ["surname"]]
    # From rule 1 only: a1-b1 agree (0.9), a2-b1 differ (0.3); 0.9 / 1.2 by hand.
    assert part_agreement([table], pairs, "postcode", rules) == pytest.approx(0.75)
    # No pair from a rule without the field: nothing to estimate from.
    assert (
        part_agreement([table], pairs.filter(pl.col("match_key") == "0"), "postcode", rules) is None
    )


def test_a_training_session_that_underflows_is_dropped_and_said(tmp_path, monkeypatch):
    """Splink 5 refuses an m probability below 1e-300, which EM can reach (it did on a
    synthetic set, on a town level): the run goes on without that session."""
    from splink.internals.linker_components.training import LinkerTraining

    real = LinkerTraining.estimate_parameters_using_expectation_maximisation

    def underflows_on_birth_dates(self, blocking_rule, *args, **kwargs):
        if "date_of_birth" in str(blocking_rule.get_blocking_rule("duckdb").blocking_rule_sql):
            raise ValueError("m_probability value 3e-323 is below the minimum allowed value")
        return real(self, blocking_rule, *args, **kwargs)

    monkeypatch.setattr(
        LinkerTraining,
        "estimate_parameters_using_expectation_maximisation",
        underflows_on_birth_dates,
    )
    pa, pb, _ = write_febrl4(tmp_path / "in", n=300)
    result = link_files([pa, pb], FEBRL_SETTINGS, tmp_path / "out")
    quality = result.quality
    assert any("date_of_birth" in t and "skipped" in t for t in quality["training"])
    assert any("drove an m probability to zero" in w for w in quality["warnings"])
    assert result.quality["people"]["people"] < 600  # still linked, on the other session
