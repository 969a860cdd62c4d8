"""Nightly jobs: re-rank open demands in batch with the served model, retrain the ranker when
enough outcomes arrived (at least `retrain_min_new_outcomes` since the newest published model)."""

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlmodel import Session

from services.recommendations import repository as repo
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
        f"已用模型 {result.model_version} 完成 {int(result.demand_ids.size)} 项对接中需求的批量重排"
        f"（{ranked} 项有合格机构）"
    )
    details = {"demands": int(result.demand_ids.size), "with_candidates": ranked,
               "model_version": result.model_version}  # fmt: skip
    return NightlyReport("rerank", "ran", message, details)


def _trained_outcomes(session: Session) -> int:
    newest = repo.published_models(session)
    return newest[0].n_outcomes if newest else 0


def retrain_if_due(
    session: Session, model_dir: Path, now: datetime, min_new: int, min_outcomes: int
) -> NightlyReport:
    """Retrain (and publish) the ranker when `min_new` deals were confirmed since the newest
    published model was fitted."""
    today = now.astimezone(UTC).date()
    new = matching_service.confirmed_deals(session, today) - _trained_outcomes(session)
    if new < min_new:
        message = f"新增确认成交 {new} 笔，少于 {min_new} 笔，暂不重新训练"
        return NightlyReport("retrain", "skipped", message, {"new_outcomes": new})
    report = matching_service.train_reranker(
        session, model_dir, today=today, min_outcomes=min_outcomes
    )
    details = report.to_dict()
    if report.fallback_reason:
        return NightlyReport(
            "retrain", "skipped", f"未保存新模型：{report.fallback_reason}", details
        )
    return NightlyReport(
        "retrain", "trained", f"已用 {report.n_outcomes} 笔确认成交重新训练", details
    )
