"""Validation rules of the domain model."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from systemic.framework import KINDS, object_path
from systemic.framework import model as m


def test_text_is_trimmed_and_required() -> None:
    assert m.PrincipleFields(name="  Pull  ").name == "Pull"
    with pytest.raises(ValidationError, match="must not be empty"):
        m.PurposeStatementFields(text="   ")


def test_unknown_fields_are_refused() -> None:
    with pytest.raises(ValidationError, match="colour"):
        m.LocalityFields(name="North", colour="red")


def test_experiment_dates_must_be_in_order() -> None:
    with pytest.raises(ValidationError, match="end_date must not be before start_date"):
        m.ExperimentFields(title="t", start_date="2026-02-01", end_date="2026-01-01")
    ok = m.ExperimentFields(title="t", start_date="2026-01-01", end_date="2026-01-01")
    assert ok.end_date == ok.start_date


def test_relationship_observations_sorted_and_bounded() -> None:
    rel = m.RelationshipFields(
        party_a="Council",
        party_b="Residents",
        observations=[
            {"observed_on": "2026-05-01", "trust": 4, "power": "with"},
            {"observed_on": "2025-05-01", "trust": 1, "power": "over"},
        ],
    )
    assert [o.trust for o in rel.observations] == [1, 4]
    with pytest.raises(ValidationError, match="less than or equal to 5"):
        m.RelationshipObservation(observed_on="2026-01-01", trust=6)


def test_population_not_negative() -> None:
    with pytest.raises(ValidationError, match="greater than or equal to 0"):
        m.LocalityFields(name="x", population=-5)


def test_registry_is_consistent() -> None:
    for spec in KINDS.values():
        assert spec.title_field in spec.fields.model_fields
        for field, target in {**spec.references, **spec.relation_fields}.items():
            assert field in spec.fields.model_fields, (spec.name, field)
            assert target in KINDS
        record = spec.record.model_fields
        assert {"id", "workspace_id", "created_at", "updated_at"} <= set(record)
    assert object_path("purpose_statement", "x1") == "/purpose_statements/x1"


def test_kinds_referenced_come_earlier_for_import_order() -> None:
    order = list(KINDS)
    for spec in KINDS.values():
        for target in spec.references.values():
            if target != spec.name:
                assert order.index(target) < order.index(spec.name), (spec.name, target)
