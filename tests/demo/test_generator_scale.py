"""The generator at any size: unique valid identifiers and names, the same proportions in chunks
and with a grown registry, and the default demo's size kept."""

import random
from datetime import date
from pathlib import Path

import pytest
from sqlmodel import Session, func, select

import models
from demo.generator import generate_center
from demo.generator.codes import UsccIssuer
from demo.generator.context import GenContext
from demo.generator.institutions import generate_institutions
from demo.generator.names import CompanyNamer
from demo.generator.vocab import HOME_DISTRICT_WEIGHTS, INDUSTRIES
from ingestion.normalize import normalize_company_name
from ingestion.uscc import is_valid_uscc
from models import Enterprise, Institution
from models.db import make_engine

TODAY = date(2026, 6, 30)


def _names(seed: int, count: int) -> list[tuple[str, str, str]]:
    rng, namer = random.Random(seed), CompanyNamer(random.Random(seed))
    weights = [p.weight for p in INDUSTRIES]
    out = []
    for _ in range(count):
        industry = rng.choices(INDUSTRIES, weights=weights)[0]
        city = rng.choice(("深圳", "广州", "北京", "上海", "杭州"))
        name = namer.draw(city, industry.name_words)
        out.append((name.legal_name, name.short_name, name.normalized_name))
    return out


def test_300k_company_names_are_unique_and_normalise_to_their_core() -> None:
    names = _names(1, 300_000)
    assert len({legal for legal, _, _ in names}) == len(names)
    assert len({core for _, _, core in names}) == len(names)  # so de-duplication keeps them apart
    for legal, short, core in names[::997]:
        assert normalize_company_name(legal) == core and core.startswith(short)
        assert len(short) == 2 and legal.endswith("公司")


@pytest.mark.parametrize("seed", [2, 3, 4])
def test_names_are_unique_and_follow_the_seed(seed: int) -> None:
    names = _names(seed, 20_000)
    assert len({core for _, _, core in names}) == len(names)
    assert _names(seed, 50) == names[:50]
    assert _names(seed + 100, 50) != names[:50]


def test_300k_usccs_are_valid_unique_and_follow_the_seed() -> None:
    issuer, rng = UsccIssuer(random.Random(5)), random.Random(6)
    districts = list(HOME_DISTRICT_WEIGHTS)
    codes = [issuer.issue(rng.choice(districts)) for _ in range(300_000)]
    assert len(set(codes)) == len(codes)
    assert all(is_valid_uscc(c) for c in codes)
    assert {c[8:10] == "MA" for c in codes} == {True, False}  # both 主体标识码 styles


def test_usccs_follow_the_seed() -> None:
    def first(seed: int) -> list[str]:
        issuer = UsccIssuer(random.Random(seed))
        return [issuer.issue("440305") for _ in range(20)]

    assert first(5) == first(5)
    assert first(5) != first(6)


def _center(path: Path, enterprises: int, chunk: int) -> tuple[Session, dict[str, int]]:
    engine = make_engine(f"sqlite:///{path}")
    models.metadata.create_all(engine)
    session = Session(engine)
    counts = generate_center(session, seed=11, enterprises=enterprises, today=TODAY, chunk=chunk)
    session.commit()
    return session, counts


def _ratios(counts: dict[str, int]) -> dict[str, float]:
    n, demands, matches = counts["enterprise"], counts["financing_demand"], counts["match"]
    return {
        "contacts per enterprise": counts["contact_person"] / n,
        "demands per enterprise": demands / n,
        "matches per demand": matches / demands,
        "transitions per match": counts["match_transition"] / matches,
        "deals per demand": counts["deal"] / demands,
        "consents per match": counts["consent"] / matches,
        "listing records per enterprise": counts["listing_record"] / n,
    }


@pytest.fixture(scope="module")
def default_center(tmp_path_factory: pytest.TempPathFactory) -> tuple[Session, dict[str, int]]:
    return _center(tmp_path_factory.mktemp("default") / "c.sqlite", 2000, 5000)


def test_the_default_demo_keeps_its_size(default_center: tuple[Session, dict[str, int]]) -> None:
    _, counts = default_center
    assert counts["enterprise"] == 2000
    assert 55 <= counts["institution"] <= 70
    assert 80 <= counts["loan_product"] + counts["investment_mandate"] <= 110
    assert 1150 <= counts["financing_demand"] <= 1400
    assert counts["subscription"] == 30 and counts["event"] == 55


def test_chunks_keep_identifiers_unique_and_proportions(
    default_center: tuple[Session, dict[str, int]], tmp_path: Path
) -> None:
    session, counts = _center(tmp_path / "chunked.sqlite", 2000, 700)  # chunks 700, 700, 600
    assert counts["institution"] == default_center[1]["institution"]
    rows = session.exec(select(Enterprise.uscc, Enterprise.legal_name, Enterprise.normalized_name))
    codes, legal, core = zip(*rows, strict=True)
    assert len(set(codes)) == len(set(legal)) == len(set(core)) == 2000
    assert all(c is not None and is_valid_uscc(c) for c in codes)
    for table, n in counts.items():  # every count is what the database holds
        held = session.exec(select(func.count()).select_from(models.metadata.tables[table]))
        assert held.one() == n, table
    expected = _ratios(default_center[1])
    for name, value in _ratios(counts).items():
        assert value == pytest.approx(expected[name], rel=0.15), name


@pytest.mark.slow
def test_a_bigger_center_grows_its_registry_not_its_proportions(
    default_center: tuple[Session, dict[str, int]], tmp_path: Path
) -> None:
    session, counts = _center(tmp_path / "bigger.sqlite", 12_000, 5000)
    assert 110 <= counts["institution"] <= 130  # 60 × 6 ** 0.37
    assert counts["loan_product"] + counts["investment_mandate"] >= 160
    expected = _ratios(default_center[1])
    for name, value in _ratios(counts).items():
        assert value == pytest.approx(expected[name], rel=0.15), name
    names = session.exec(select(Institution.name)).all()
    assert len(set(names)) == len(names)


def test_a_million_enterprise_registry(tmp_path: Path) -> None:
    """About 600 institutions and 2,000 products and mandates at 1,000,000 enterprises."""
    engine = make_engine(f"sqlite:///{tmp_path / 'registry.sqlite'}")
    models.metadata.create_all(engine)
    with Session(engine) as session:
        ctx = GenContext(session=session, rng=random.Random(3), today=TODAY, scale=500.0)
        registry = generate_institutions(ctx)
        offers = sum(map(len, registry.products.values())) + sum(
            map(len, registry.mandates.values())
        )
        assert 570 <= len(registry.institutions) <= 630
        assert 1800 <= offers <= 2200
        names = [i.name for i in registry.institutions]
        assert len(set(names)) == len(names)
        assert len(registry.shortlist(ctx.rng).institutions) == 60
