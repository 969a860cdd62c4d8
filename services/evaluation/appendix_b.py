"""表B.1 (科技金融服务中心评价定性指标): evaluators' scores, weights, evidence, and 满意度 from surveys.

The scale and the weights are configuration, not schema: a `ScoringScheme` (default 0–100, 一级指标
weights 40/30/30) applies to a period's stored scores; within a 一级指标 each item's stored `weight`
(default 1) weighs it.
"""

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any

from sqlmodel import Session

from models import AppendixBScore, EvaluationPeriod
from models.base import utcnow
from models.crud import add, create
from models.errors import DomainError, NotFoundError
from models.reference import APPENDIX_B, APPENDIX_B_BY_CODE, AppendixBItem
from services.audit.repository import append_audit
from services.evaluation import repository as repo
from services.evaluation.indicators import Period

B_GROUPS: tuple[str, ...] = tuple(dict.fromkeys(item.group for item in APPENDIX_B))
SATISFACTION_CODE = "b3_satisfaction"
DEFAULT_GROUP_WEIGHTS: Mapping[str, float] = MappingProxyType(
    {"整体运行管理": 40.0, "服务能力建设": 30.0, "整体服务成效": 30.0}
)


@dataclass(frozen=True)
class ScoringScheme:
    """Scale of every item score ([0, scale_max]) and the weight of each 一级指标."""

    scale_max: float = 100.0
    group_weights: Mapping[str, float] = field(default_factory=lambda: DEFAULT_GROUP_WEIGHTS)

    def __post_init__(self) -> None:
        if self.scale_max <= 0:
            raise DomainError("评分满分必须大于 0", field="scale_max")
        unknown = set(self.group_weights) - set(B_GROUPS)
        if unknown:
            raise DomainError(
                f"未知的一级指标：{'、'.join(sorted(unknown))}", field="group_weights"
            )
        if any(w < 0 for w in self.group_weights.values()) or not any(self.group_weights.values()):
            raise DomainError("一级指标权重不能为负，且不能全为 0", field="group_weights")

    @classmethod
    def from_file(cls, path: Path) -> "ScoringScheme":
        """Read `{"scale_max": 10, "group_weights": {"整体运行管理": 0.5, …}}` from a JSON file."""
        data = json.loads(path.read_text(encoding="utf-8"))
        weights = data.get("group_weights", DEFAULT_GROUP_WEIGHTS)
        return cls(float(data.get("scale_max", 100.0)), MappingProxyType(dict(weights)))

    def weight_of(self, group: str) -> float:
        """The weight of 一级指标 `group` (0 when the scheme leaves it out)."""
        return float(self.group_weights.get(group, 0.0))


DEFAULT_SCHEME = ScoringScheme()


@dataclass(frozen=True)
class SurveySatisfaction:
    """满意度 computed from the satisfaction surveys (1–5) received in a period."""

    responses: int
    mean_rating: float | None  # on the survey's 1–5 scale
    satisfied_share: float | None  # share of ratings 4 or 5 (满意率)
    score: float | None  # mean_rating / 5 × scale_max, beside the evaluator's score


@dataclass(frozen=True)
class ItemScore:
    """One 表B.1 二级指标 with the evaluator's score (None until scored) and its evidence."""

    item: AppendixBItem
    score: float | None
    weight: float
    evidence: str | None
    attachments: tuple[str, ...]
    scored_by: str | None
    scored_at: datetime | None


@dataclass(frozen=True)
class GroupScore:
    """A 一级指标: its weight and the weighted mean of its scored items (None when none is)."""

    group: str
    weight: float
    score: float | None
    scored_items: int
    total_items: int


@dataclass(frozen=True)
class AppendixB:
    """表B.1 for an evaluation period (or unscored, when there is none) under a scheme."""

    period: EvaluationPeriod | None
    scheme: ScoringScheme
    items: tuple[ItemScore, ...]
    groups: tuple[GroupScore, ...]
    total: float | None  # weighted over 一级指标; None until every item is scored
    satisfaction: SurveySatisfaction

    @property
    def complete(self) -> bool:
        """True when every 二级指标 has a score."""
        return all(i.score is not None for i in self.items)

    def as_payload(self) -> dict[str, Any]:
        """A JSON-ready dict for the API."""
        return {
            "period_id": None if self.period is None else self.period.id,
            "scale_max": self.scheme.scale_max,
            "items": [_item_payload(i) for i in self.items],
            "groups": [asdict(g) for g in self.groups],
            "total": self.total,
            "complete": self.complete,
            "satisfaction": asdict(self.satisfaction),
        }


def _item_payload(i: ItemScore) -> dict[str, Any]:
    return {
        "group": i.item.group,
        "code": i.item.code,
        "name": i.item.name,
        "score": i.score,
        "weight": i.weight,
        "evidence": i.evidence,
        "attachments": list(i.attachments),
        "scored_by": i.scored_by,
        "scored_at": None if i.scored_at is None else i.scored_at.isoformat(),
    }


def create_period(
    session: Session, name: str, start: date, end: date, evaluator: str | None = None
) -> EvaluationPeriod:
    """Open an evaluation period (self-evaluation or third party, standard 7.1.1)."""
    if end < start:
        raise DomainError(f"评价期间结束日 {end} 早于开始日 {start}", field="ends_on")
    data = {"name": name, "starts_on": start, "ends_on": end, "evaluator": evaluator}
    return create(session, EvaluationPeriod, data)


def score_item(
    session: Session,
    period_id: int,
    item_code: str,
    score: float,
    scored_by: str,
    *,
    evidence: str | None = None,
    attachments: Sequence[str] = (),
    weight: float = 1.0,
    scheme: ScoringScheme = DEFAULT_SCHEME,
) -> AppendixBScore:
    """Record (or replace) the evaluator's score of one 二级指标, with evidence and attachments."""
    _check_score(item_code, score, weight, scheme)
    if session.get(EvaluationPeriod, period_id) is None:
        raise NotFoundError(f"评价期间 {period_id} 不存在")
    row = repo.score_for_item(session, period_id, item_code)
    previous = None if row is None else row.score
    if row is None:
        row = AppendixBScore(
            period_id=period_id, item_code=item_code, score=score, scored_by=scored_by
        )
    row.score, row.weight, row.scored_by, row.scored_at = score, weight, scored_by, utcnow()
    row.evidence, row.attachments = evidence, list(attachments)
    add(session, row)
    detail = {"item": item_code, "score": score, "previous": previous, "weight": weight}
    append_audit(
        session,
        actor=scored_by,
        action="score",
        entity="appendix_b_score",
        entity_id=row.id,
        detail=detail,
    )
    return row


def _check_score(item_code: str, score: float, weight: float, scheme: ScoringScheme) -> None:
    if item_code not in APPENDIX_B_BY_CODE:
        raise DomainError(f"未知的表B.1指标代码“{item_code}”", field="item_code")
    if not 0 <= score <= scheme.scale_max or math.isnan(score):
        raise DomainError(f"得分应在 0–{scheme.scale_max:g} 之间，实际为 {score}", field="score")
    if weight < 0:
        raise DomainError("指标权重不能为负", field="weight")


def survey_satisfaction(
    session: Session, period: Period, scheme: ScoringScheme = DEFAULT_SCHEME
) -> SurveySatisfaction:
    """满意度 from the satisfaction surveys received in the period (Beijing days)."""
    since, before = period.utc_bounds()
    ratings = [
        int(c.satisfaction or 0) for c in repo.survey_ratings_between(session, since, before)
    ]
    if not ratings:
        return SurveySatisfaction(0, None, None, None)
    mean = math.fsum(ratings) / len(ratings)
    satisfied = sum(1 for r in ratings if r >= 4) / len(ratings)
    return SurveySatisfaction(
        len(ratings), round(mean, 2), round(satisfied, 4), round(mean / 5 * scheme.scale_max, 2)
    )


def appendix_b(
    session: Session,
    period: EvaluationPeriod | None,
    window: Period,
    scheme: ScoringScheme = DEFAULT_SCHEME,
) -> AppendixB:
    """表B.1 for `period` (None: nothing scored yet), with 满意度 computed over `window`."""
    stored = (
        {}
        if period is None
        else {s.item_code: s for s in repo.scores_for_period(session, int(period.id or 0))}
    )
    items = tuple(_item_score(item, stored.get(item.code)) for item in APPENDIX_B)
    groups = tuple(_group_score(group, items, scheme) for group in B_GROUPS)
    total = _total(groups) if all(i.score is not None for i in items) else None
    return AppendixB(
        period, scheme, items, groups, total, survey_satisfaction(session, window, scheme)
    )


def _item_score(item: AppendixBItem, row: AppendixBScore | None) -> ItemScore:
    if row is None:
        return ItemScore(item, None, 1.0, None, (), None, None)
    return ItemScore(
        item,
        row.score,
        row.weight,
        row.evidence,
        tuple(row.attachments),
        row.scored_by,
        row.scored_at,
    )


def _group_score(group: str, items: Sequence[ItemScore], scheme: ScoringScheme) -> GroupScore:
    members = [i for i in items if i.item.group == group]
    scored = [i for i in members if i.score is not None]
    weight_sum = math.fsum(i.weight for i in scored)
    score = None
    if scored and weight_sum > 0:
        score = round(math.fsum(i.weight * float(i.score or 0) for i in scored) / weight_sum, 2)
    return GroupScore(group, scheme.weight_of(group), score, len(scored), len(members))


def _total(groups: Sequence[GroupScore]) -> float | None:
    weighted = [(g.weight, g.score) for g in groups if g.score is not None]
    weight_sum = math.fsum(w for w, _ in weighted)
    if weight_sum <= 0:
        return None
    return round(math.fsum(w * float(s or 0) for w, s in weighted) / weight_sum, 2)
