"""Brands of real registry records (../shared/data/cn_registry, read in place; skipped where
absent) land on the enterprise stored under its legal name: `benchmarks/brands.py`'s sets."""

from pathlib import Path

import pytest
from sqlmodel import Session

from benchmarks.brands import (
    REGISTRY,
    labelled_sets,
    registry_records,
    score_set,
    write_enterprises,
)
from services.imports.service import import_file


def test_registry_brands_of_the_tuning_set_resolve_without_a_wrong_merge(
    session: Session, tmp_path: Path
) -> None:
    if not REGISTRY.exists():
        pytest.skip("registry_sample.csv not present")
    records = registry_records()
    sets = labelled_sets(records)
    assert [len(chosen) for chosen in sets.values()] == [300, 300]
    assert not {r.uscc for r in sets["tuning"]} & {r.uscc for r in sets["independent"]}
    import_file(session, write_enterprises(records, tmp_path / "firms.csv"))
    tuning = score_set(session, sets["tuning"], tmp_path / "tuning.csv")
    absent = score_set(session, sets["tuning"], tmp_path / "absent.csv", absent=True)
    print(
        f"\ntuning: {dict(tuning.counts)}, inside: {dict(tuning.inside)}; absent: {dict(absent.counts)}"
    )
    assert sum(tuning.inside.values()) >= 100  # most brands are inside their legal name
    assert tuning.rate() >= 0.90
    assert tuning.counts["wrong"] == 0 and absent.counts["wrong"] == 0
