"""Nightly jobs: re-rank open demands in batch, retrain the re-ranker when enough outcomes arrived
(at least `retrain_min_new_outcomes` since the model on disk was trained)."""

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlmodel import Session

from services.recommendations import service as matching_service


@dataclass(frozen=True)
class NightlyReport:
    """What a nightly job did: `action` is ran, trained or skipped; `message` is for users."""

    job: str
    action: str
    message: str
    details: dict[str, Any] = field(default_factory=dict)


def rerank_open_demands(session: Session, now: datetime) -> NightlyReport:
    """Re-rank every open demand through the matching core (batch, vectorised)."""
    result = matching_service.rerank_open_demands(session, today=now.astimezone(UTC).date())
    ranked = int((result.institution_ids >= 0).any(axis=1).sum()) if result.demand_ids.size else 0
    message = (
        f"已完成 {int(result.demand_ids.size)} 项对接中需求的批量重排（{ranked} 项有合格机构）"
    )
    details = {"demands": int(result.demand_ids.size), "with_candidates": ranked,
               "model_version": result.model_version}  # fmt: skip
    return NightlyReport("rerank", "ran", message, details)


def _trained_outcomes(model_dir: Path) -> int:
    meta = model_dir / matching_service.MODEL_META
    if not meta.exists():
        return 0
    return int(json.loads(meta.read_text(encoding="utf-8")).get("n_outcomes", 0))


def retrain_if_due(
    session: Session, model_dir: Path, now: datetime, min_new: int, min_outcomes: int
) -> NightlyReport:
    """Retrain the re-ranker when `min_new` outcomes arrived since the model on disk was fitted."""
    today = now.astimezone(UTC).date()
    _, y, _ = matching_service.outcome_pairs(session, today)
    new = len(y) - _trained_outcomes(model_dir)
    if new < min_new:
        message = f"新增撮合结果 {new} 条，少于 {min_new} 条，暂不重新训练"
        return NightlyReport("retrain", "skipped", message, {"new_outcomes": new})
    report = matching_service.train_reranker(
        session, model_dir, today=today, min_outcomes=min_outcomes
    )
    details = report.to_dict()
    if report.fallback_reason:
        return NightlyReport(
            "retrain", "skipped", f"未保存新模型：{report.fallback_reason}", details
        )
    return NightlyReport("retrain", "trained", f"已用 {report.n_outcomes} 条结果重新训练", details)
