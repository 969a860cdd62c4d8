"""Text encodings keep TF-IDF cosines; history profiles, activity and responsiveness."""

from datetime import date

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from matching.history import (
    NEVER_DAY,
    DealHistory,
    PipelineHistory,
    infer_profiles,
    recent_activity,
    relationships,
    responsiveness,
)
from matching.text import TextEncoder

TEXTS = [
    "软件开发、人工智能、大数据服务",
    "集成电路设计、半导体器件",
    "药品生产、生物药品制品制造",
    "软件开发与信息系统集成",
]


def test_encodings_reproduce_the_tfidf_cosine() -> None:
    enc = TextEncoder().fit(TEXTS)
    ref = TfidfVectorizer(analyzer="char", ngram_range=(2, 3), sublinear_tf=True).fit(TEXTS)
    query = ["软件开发、云计算  服务", "完全无关的文字"]
    want = (ref.transform(query) @ ref.transform(TEXTS).T).toarray()
    got = enc.transform(query) @ enc.transform(TEXTS).T
    assert np.allclose(got, want, atol=1e-5)


def test_an_empty_corpus_gives_zero_similarity() -> None:
    enc = TextEncoder().fit(["", ""])
    assert not enc.transform(["软件"]).any()


def _deals() -> DealHistory:
    d = date(2025, 1, 1).toordinal()
    return DealHistory(
        institution_id=np.array([1, 1, 1, 2]), enterprise_id=np.array([10, 11, 12, 10]),
        day=np.array([d, d - 400, d + 400, d]), stage=np.array([2, 2, 0, 4]),
        industry_code=("C39", "C39", "I65", "I65"), region_code=("440305",) * 4,
        amount_wan=np.array([100.0, 1000.0, 5.0, 3000.0]),
    )  # fmt: skip


def test_profiles_are_recency_weighted_and_ignore_the_future() -> None:
    prof = infer_profiles(_deals(), np.array([1, 2, 3]), as_of=date(2025, 6, 1), half_life_days=365)
    assert prof.stage[0].argmax() == 2 and prof.stage[0, 0] == 0  # the 2026 deal does not count
    assert np.isclose(prof.sector[0, prof.sector_index["C39"]], 1.0)
    assert prof.evidence[0] < 2 and prof.evidence[2] == 0
    assert 2 < prof.ticket_mu[0] < 3
    assert prof.row_of(np.array([3, 9])).tolist() == [2, -1]


def _pipeline() -> PipelineHistory:
    d = date(2025, 3, 1).toordinal()
    return PipelineHistory(
        institution_id=np.array([1, 1, 2, 2]), enterprise_id=np.array([10, 11, 10, 12]),
        introduced_day=np.array([d, d, d, d]), progressed_day=np.array([d + 5, d + 10, NEVER_DAY, NEVER_DAY]),
        reached=np.array([2, 3, 1, 1]), won=np.zeros(4, bool),
    )  # fmt: skip


def test_responsiveness_and_activity() -> None:
    today = date(2025, 6, 1)
    resp = responsiveness(_pipeline(), np.array([1, 2, 3]), today)
    assert resp[0] > resp[2] > resp[1]  # unknown institution sits at the center-wide rate
    act = recent_activity(_deals(), _pipeline(), np.array([1, 2, 3]), today)
    assert act[0] > 0 and act[2] == 0 and (act <= 1).all()


def test_relationships_of_an_enterprise() -> None:
    rel = relationships(_deals(), _pipeline(), 10, date(2025, 6, 1))
    assert rel == {1: 1.0, 2: 1.0}
    assert relationships(_deals(), _pipeline(), 12, date(2025, 6, 1)) == {2: 0.3}
