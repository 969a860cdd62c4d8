"""Each soft fit: its direction, its range and its Chinese sentence."""

from datetime import date

import numpy as np

from matching.history import DealHistory, infer_profiles
from matching.profiles import CandidateRow, DemandProfile, encode_demands
from matching.scorers import SCORERS, fits, weighted_score
from services.recommendations.service import vocabulary
from tests.matching.helpers import cset, demand, mandate, row

VOCAB = vocabulary()
CODE = {s.code: i for i, s in enumerate(SCORERS)}


def fit(code: str, d: DemandProfile, *rows: CandidateRow) -> list[float]:
    cands = cset(*rows)
    return [round(float(x), 3) for x in fits(encode_demands([d], cands), cands)[CODE[code], 0]]


def text(code: str, d: DemandProfile, *rows: CandidateRow, j: int = 0) -> str:
    cands = cset(*rows)
    value = fits(encode_demands([d], cands), cands)[CODE[code], 0, j]
    return SCORERS[CODE[code]].describe(d, cands, j, float(value), VOCAB)


def test_stage_listed_adjacent_and_unlisted() -> None:
    rows = (
        mandate(stages=("growth",)),
        mandate(stages=("expansion",)),
        mandate(stages=("seed",)),
        mandate(stages=()),
    )
    assert fit("stage", demand(), *rows) == [1.0, 0.3, 0.0, 0.5]
    assert text("stage", demand(), *rows) == "成长期在投资阶段（成长期）"
    assert text("stage", demand(), *rows, j=1) == "弱匹配：成长期与投资阶段（扩张期）相差一个阶段"


def test_sector_hierarchy_and_strategic_industry() -> None:
    rows = (mandate(sectors=("I65",)), mandate(sectors=("I",)), mandate(sectors=("I64",)),
            mandate(sectors=("C39",)), mandate(sectors=("C39",), sei_categories=("1",)))  # fmt: skip
    assert fit("sector", demand(), *rows) == [1.0, 0.8, 0.4, 0.0, 0.9]
    assert text("sector", demand(), *rows) == "行业大类一致：软件和信息技术服务业"
    assert text("sector", demand(), *rows, j=4) == "战略性新兴产业一致：新一代信息技术产业"
    assert fit("sector", demand(industry_code=None, sei_category=None), *rows) == [0.5] * 5


def test_text_similarity_prefers_the_matching_focus() -> None:
    rows = (
        mandate(text="人工智能应用软件开发、信息系统集成"),
        mandate(text="药品生产、体外诊断试剂"),
    )
    good, bad = fit("text", demand(), *rows)
    assert 0 < good <= 1 and bad < good


def test_ticket_fit_on_a_log_scale() -> None:
    centred = row(ticket_min_wan=100.0, ticket_max_wan=1500.0)  # log-centre ≈ 387 万元
    rows = (
        centred,
        row(ticket_min_wan=500.0, ticket_max_wan=5000.0),
        row(ticket_min_wan=3000.0, ticket_max_wan=9000.0),
    )
    a, b, c = fit("ticket", demand(), *rows)
    assert a > 0.95 and 0.7 < b < 0.8 and c < 0.05
    assert text("ticket", demand(), *rows).startswith("额度匹配：需求 300–500 万元")


def test_region_fit_prefers_local() -> None:
    rows = (row(institution_regions=("440305",)), row(institution_regions=("4403",)),
            row(institution_regions=("44",)), row(institution_regions=()))  # fmt: skip
    assert fit("region", demand(), *rows) == [1.0, 0.85, 0.7, 0.4]
    assert text("region", demand(), *rows) == "服务区域覆盖南山区"


def test_pipeline_signals_and_relationship() -> None:
    rows = (row(activity=0.9, responsiveness=0.2, institution_id=7), row(institution_id=8))
    d = demand(relationships={7: 1.0})
    assert fit("activity", d, *rows) == [0.9, 0.5]
    assert fit("responsiveness", d, *rows) == [0.2, 0.5]
    assert fit("relationship", d, *rows) == [1.0, 0.0]
    assert text("relationship", d, *rows) == "曾为该企业提供融资"


def test_history_fills_in_where_the_mandate_is_vague() -> None:
    day = date(2025, 1, 1).toordinal()
    deals = DealHistory(
        institution_id=np.array([1, 1, 1, 1, 1, 1]), enterprise_id=np.arange(6),
        day=np.full(6, day), stage=np.full(6, 2), industry_code=("I65",) * 6,
        region_code=("440305",) * 6, amount_wan=np.full(6, 400.0),
    )  # fmt: skip
    profiles = infer_profiles(deals, np.array([1, 2]), as_of=date(2025, 6, 1))
    vague = [mandate(stages=(), sectors=(), institution_regions=(), ticket_min_wan=0.0,
                     ticket_max_wan=100000.0, institution_id=i) for i in (1, 2)]  # fmt: skip
    cands = cset(*vague, profiles=profiles)
    f = fits(encode_demands([demand()], cands), cands)[:, 0]
    for code in ("stage", "sector", "region", "ticket"):
        assert f[CODE[code], 0] > f[CODE[code], 1], code


def test_weighted_score_is_the_sum_of_contributions() -> None:
    cands = cset(row(), mandate(), row(institution_regions=("44",)))
    batch = encode_demands([demand(), demand(financing_type="mixed")], cands)
    total = weighted_score(batch, cands)
    assert total.shape == (2, 3)
    assert np.isfinite(total).all() and (total >= 0).all() and (total <= 1).all()
