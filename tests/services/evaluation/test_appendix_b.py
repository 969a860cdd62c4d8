"""表B.1: scores with weights and evidence, the configurable scheme, and 满意度 from surveys."""

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlmodel import Session, select

from models import AuditLog
from models.errors import DomainError
from models.reference import APPENDIX_B, ComplaintKind
from services.evaluation import (
    Period,
    ScoringScheme,
    appendix_b,
    create_period,
    score_item,
    survey_satisfaction,
)
from tests import factories as ef

YEAR = Period.year(2025)
# 整体运行管理 mean 80; 服务能力建设 (60 + 2×90 + 60) / 4 = 75; 整体服务成效 mean 80.
SCORES = [90, 80, 70, 60, 100, 60, 90, 60, 90, 70]
WEIGHTS = [1, 1, 1, 1, 1, 1, 2, 1, 1, 1]


def _score_all(session: Session, period_id: int, scheme: ScoringScheme | None = None) -> None:
    for item, s, w in zip(APPENDIX_B, SCORES, WEIGHTS, strict=True):
        kwargs = {"scheme": scheme} if scheme else {}
        score_item(
            session,
            period_id,
            item.code,
            s / (10 if scheme else 1),
            "评审专家甲",
            weight=w,
            evidence=f"{item.name}：查阅台账",
            attachments=[f"佐证/{item.code}.pdf"],
            **kwargs,
        )


def test_weighted_total_under_the_default_scheme(session: Session) -> None:
    ep = create_period(session, "2025年度", date(2025, 1, 1), date(2025, 12, 31), "市科技局")
    _score_all(session, int(ep.id or 0))
    b = appendix_b(session, ep, YEAR)
    assert [g.score for g in b.groups] == [80.0, 75.0, 80.0]
    assert [g.weight for g in b.groups] == [40.0, 30.0, 30.0]
    assert b.complete and b.total == 78.5  # 0.4×80 + 0.3×75 + 0.3×80
    first = b.items[0]
    assert first.evidence == "总体定位和服务方向：查阅台账"
    assert first.attachments == ("佐证/b1_positioning.pdf",)
    payload = json.loads(json.dumps(b.as_payload(), ensure_ascii=False))
    assert payload["total"] == 78.5 and payload["items"][0]["code"] == "b1_positioning"
    assert payload["groups"][1] == {
        "group": "服务能力建设",
        "weight": 30.0,
        "score": 75.0,
        "scored_items": 3,
        "total_items": 3,
    }


def test_a_configured_scale_and_weights(session: Session, tmp_path: Path) -> None:
    path = tmp_path / "scheme.json"
    weights = {"整体运行管理": 1, "服务能力建设": 1, "整体服务成效": 2}
    path.write_text(json.dumps({"scale_max": 10, "group_weights": weights}, ensure_ascii=False))
    scheme = ScoringScheme.from_file(path)
    ep = create_period(session, "2025年度", date(2025, 1, 1), date(2025, 12, 31))
    _score_all(session, int(ep.id or 0), scheme)
    b = appendix_b(session, ep, YEAR, scheme)
    assert [g.score for g in b.groups] == [8.0, 7.5, 8.0]
    assert b.total == 7.88  # (8 + 7.5 + 2×8) / 4 = 7.875
    with pytest.raises(DomainError, match="0–10"):
        score_item(session, int(ep.id or 0), "b1_team", 11, "甲", scheme=scheme)


def test_rescoring_replaces_and_is_audited(session: Session) -> None:
    ep = create_period(session, "2025年度", date(2025, 1, 1), date(2025, 12, 31))
    score_item(session, int(ep.id or 0), "b1_team", 70, "甲")
    score_item(session, int(ep.id or 0), "b1_team", 85, "乙", evidence="复核")
    b = appendix_b(session, ep, YEAR)
    team = next(i for i in b.items if i.item.code == "b1_team")
    assert (team.score, team.scored_by, team.evidence) == (85, "乙", "复核")
    assert not b.complete and b.total is None
    assert b.groups[0].scored_items == 1 and b.groups[0].score == 85
    audit = session.exec(select(AuditLog).where(AuditLog.entity == "appendix_b_score")).all()
    assert [a.detail["previous"] for a in audit] == [None, 70]


@pytest.mark.parametrize(
    ("code", "score", "message"),
    [
        ("b9_unknown", 50, "未知的表B.1指标代码"),
        ("b1_team", -1, "0–100"),
        ("b1_team", 101, "0–100"),
    ],
)
def test_invalid_scores_are_refused(
    session: Session, code: str, score: float, message: str
) -> None:
    ep = create_period(session, "2025年度", date(2025, 1, 1), date(2025, 12, 31))
    with pytest.raises(DomainError, match=message):
        score_item(session, int(ep.id or 0), code, score, "甲")


def test_invalid_scheme_is_refused() -> None:
    with pytest.raises(DomainError):
        ScoringScheme(group_weights={"不存在的指标": 1})
    with pytest.raises(DomainError):
        ScoringScheme(scale_max=0)


def test_satisfaction_is_computed_from_surveys_in_the_period(session: Session) -> None:
    for rating in (5, 4, 3, 5):
        ef.complaint(session, ComplaintKind.survey, satisfaction=rating)
    ef.complaint(
        session,
        ComplaintKind.survey,
        satisfaction=1,
        received_at=datetime(2024, 12, 31, 16, 0, tzinfo=UTC),
    )
    ef.complaint(
        session,
        ComplaintKind.survey,
        satisfaction=1,
        received_at=datetime(2024, 12, 31, 15, 59, tzinfo=UTC),
    )
    ef.complaint(session, ComplaintKind.complaint, satisfaction=1)  # not a survey
    s = survey_satisfaction(session, YEAR)
    # The 16:00Z survey is 2025-01-01 in Beijing and counts; 15:59Z is still 2024.
    assert (s.responses, s.mean_rating, s.satisfied_share, s.score) == (5, 3.6, 0.6, 72.0)
    b = appendix_b(session, None, YEAR)
    assert b.satisfaction == s and b.period is None
    assert all(i.score is None for i in b.items)


def test_no_surveys_gives_no_satisfaction_figure(session: Session) -> None:
    s = survey_satisfaction(session, YEAR)
    assert (s.responses, s.mean_rating, s.score) == (0, None, None)
