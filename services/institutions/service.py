"""Resident institutions (standard 6.2.1.2): signed commitments against what the ledger shows
for an agreement year, the yearly evaluation (scores and a keep / warn / exit decision), and
agreement renewal with the earlier periods kept. None of these functions commits.

An agreement year Y is calendar year Y clipped to the agreement periods (current and earlier)
that cover it; a commitment's target is pro-rated to the days covered. Actuals come only from
the ledger: confirmed deals linked to the center's introduction (`is_brokered`), and roadshows
someone of the institution attended. A commitment the ledger cannot measure (审批时限, 费率,
咨询小时 …) is shown with no actual, to be checked by hand, and is not scored.
"""

import math
from dataclasses import asdict, dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from sqlmodel import Session

from models import AgreementPeriod, Institution, InstitutionEvaluation, ServiceCommitment
from models.crud import create
from models.errors import ConflictError, DomainError, NotFoundError
from models.reference import DealType
from services.audit.repository import append_audit
from services.evaluation import Period, is_brokered
from services.institutions import repository as repo


class Measure(StrEnum):
    """What of the ledger a commitment is measured against."""

    loan_amount = "loan_amount"
    investment_count = "investment_count"
    investment_amount = "investment_amount"
    roadshows = "roadshows"
    manual = "manual"


MEASURE_LABELS = {
    Measure.loan_amount: "中心推荐企业的撮合贷款金额（万元）",
    Measure.investment_count: "投资中心推荐项目数（项）",
    Measure.investment_amount: "投资中心推荐项目金额（万元）",
    Measure.roadshows: "参加中心路演场次（场）",
    Measure.manual: "台账无法计算，需人工核实",
}
DECISIONS = {"keep": "保留", "warn": "警示", "exit": "退出"}


def measure_of(description: str, unit: str | None) -> Measure:
    """Which ledger figure a signed commitment's wording and unit refer to."""
    unit = (unit or "").strip()
    if unit == "场" and ("路演" in description or "对接活动" in description):
        return Measure.roadshows
    if "投资" in description and unit in ("项", "家", "个"):
        return Measure.investment_count
    if "投资" in description and unit == "万元":
        return Measure.investment_amount
    if "贷款" in description and unit == "万元":
        return Measure.loan_amount
    return Measure.manual


@dataclass(frozen=True)
class CommitmentLine:
    """One commitment with its target for the covered days and the ledger's actual."""

    commitment_id: int
    description: str
    unit: str | None
    target: float | None
    due: float | None
    measure: Measure
    actual: float | None
    rate: float | None  # actual / due, as a percentage (None when not measurable)


@dataclass(frozen=True)
class CommitmentYear:
    """An institution's commitments against actuals for one agreement year."""

    institution: Institution
    year: int
    start: date
    end: date
    lines: tuple[CommitmentLine, ...]

    @property
    def overall(self) -> float | None:
        """Mean of the measurable lines' rates, each capped at 100."""
        rates = [min(line.rate, 100.0) for line in self.lines if line.rate is not None]
        return round(math.fsum(rates) / len(rates), 1) if rates else None

    def as_json(self) -> dict[str, Any]:
        """The `commitments --json` document."""
        return {
            "institution_id": self.institution.id, "institution": self.institution.name,
            "year": self.year, "start": self.start.isoformat(), "end": self.end.isoformat(),
            "overall": self.overall,
            "commitments": [asdict(line) | {"measure_label": MEASURE_LABELS[line.measure]}
                            for line in self.lines],
        }  # fmt: skip


def institution(session: Session, institution_id: int) -> Institution:
    """The institution, or a Chinese not-found error."""
    inst = session.get(Institution, institution_id)
    if inst is None:
        raise NotFoundError(f"入驻机构 {institution_id} 不存在", field="institution_id")
    return inst


def agreement_periods(session: Session, inst: Institution) -> list[tuple[date, date | None]]:
    """Every agreement period, oldest first; the last one is the current one."""
    periods = [(p.starts_on, p.ends_on) for p in repo.agreement_history(session, inst.id or 0)]
    if inst.agreement_start is not None:
        periods.append((inst.agreement_start, inst.agreement_end))
    return periods


def agreement_year(session: Session, inst: Institution, year: int) -> tuple[date, date]:
    """The days of calendar `year` covered by the institution's agreements."""
    cal = Period.year(year)
    covering = [(max(s, cal.start), min(e or cal.end, cal.end))
                for s, e in agreement_periods(session, inst)
                if s <= cal.end and (e is None or e >= cal.start)]  # fmt: skip
    if not covering:
        raise DomainError(f"{inst.name} 在 {year} 年没有生效的入驻协议", field="year")
    return min(s for s, _ in covering), max(e for _, e in covering)


def commitments_vs_actuals(session: Session, institution_id: int, year: int) -> CommitmentYear:
    """The signed commitments of `year` against what the ledger shows for the covered days."""
    inst = institution(session, institution_id)
    start, end = agreement_year(session, inst, year)
    actuals = _actuals(session, institution_id, Period(start, end))
    share = ((end - start).days + 1) / ((date(year, 12, 31) - date(year, 1, 1)).days + 1)
    lines = tuple(_line(c, actuals, share) for c in repo.commitments(session, institution_id, year))
    return CommitmentYear(inst, year, start, end, lines)


def _line(c: ServiceCommitment, actuals: dict[Measure, float], share: float) -> CommitmentLine:
    measure = measure_of(c.description, c.unit)
    actual = actuals.get(measure)
    due = None if c.target_value is None else round(c.target_value * share, 2)
    rate = None if actual is None or not due else round(100 * actual / due, 1)
    return CommitmentLine(int(c.id or 0), c.description, c.unit, c.target_value, due, measure,
                          actual, rate)  # fmt: skip


def _actuals(session: Session, institution_id: int, period: Period) -> dict[Measure, float]:
    deals = [d for d, m in repo.confirmed_deals(session, institution_id, period.start, period.end)
             if m is not None and is_brokered(d, m)]  # fmt: skip
    loans = [d.amount_wan for d in deals if d.deal_type == DealType.loan]
    equity = [d.amount_wan for d in deals if d.deal_type == DealType.equity]
    since, before = period.utc_bounds()
    return {
        Measure.loan_amount: round(math.fsum(loans), 2),
        Measure.investment_count: float(len(equity)),
        Measure.investment_amount: round(math.fsum(equity), 2),
        Measure.roadshows: float(
            len(repo.roadshows_attended(session, institution_id, since, before))
        ),
    }


def evaluate(
    session: Session, institution_id: int, year: int, decision: str, note: str, actor: str
) -> InstitutionEvaluation:
    """Record the yearly evaluation: each commitment's score, the overall score, the decision."""
    if decision not in DECISIONS:
        raise DomainError(f"评价结论“{decision}”无效，应为 keep（保留）、warn（警示）或 exit（退出）",
                          field="decision")  # fmt: skip
    if not note.strip():
        raise DomainError("请填写评价意见", field="note")
    if repo.evaluation_of(session, institution_id, year) is not None:
        raise ConflictError(f"该机构 {year} 年度已完成评价，不能重复评价", field="year")
    result = commitments_vs_actuals(session, institution_id, year)
    scores = [{"commitment_id": line.commitment_id, "description": line.description,
               "due": line.due, "actual": line.actual,
               "score": None if line.rate is None else min(line.rate, 100.0)}
              for line in result.lines]  # fmt: skip
    row = create(session, InstitutionEvaluation, {
        "institution_id": institution_id, "year": year, "scores": scores,
        "overall": result.overall, "decision": decision, "note": note.strip(),
        "evaluated_by": actor})  # fmt: skip
    append_audit(session, actor=actor, action="evaluate", entity="institution",
                 entity_id=institution_id,
                 detail={"year": year, "decision": decision, "overall": result.overall})  # fmt: skip
    return row


def renew(
    session: Session, institution_id: int, start: date, end: date | None, actor: str
) -> Institution:
    """Put a new agreement period in force; the replaced one joins the history."""
    inst = institution(session, institution_id)
    if end is not None and end < start:
        raise DomainError(f"协议到期日 {end} 早于起始日 {start}", field="end")
    if inst.agreement_start is not None and start <= inst.agreement_start:
        raise DomainError(f"续签协议起始日 {start} 须晚于现协议起始日 {inst.agreement_start}",
                          field="start")  # fmt: skip
    old = (inst.agreement_start, inst.agreement_end)
    if inst.agreement_start is not None:
        create(session, AgreementPeriod, {"institution_id": institution_id,
                                          "starts_on": inst.agreement_start,
                                          "ends_on": inst.agreement_end, "replaced_by": actor})  # fmt: skip
    inst.agreement_start, inst.agreement_end = start, end
    session.add(inst)
    session.flush()
    append_audit(session, actor=actor, action="renew", entity="institution",
                 entity_id=institution_id,
                 detail={"from": [_iso(d) for d in old], "to": [_iso(start), _iso(end)]})  # fmt: skip
    return inst


def _iso(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


@dataclass(frozen=True)
class ResidentRow:
    """One institution on the residents page."""

    institution: Institution
    in_force: bool


def residents(session: Session, day: date) -> list[ResidentRow]:
    """Every institution, marked whether its agreement is in force on `day`."""
    return [ResidentRow(i, i.is_resident_on(day)) for i in repo.institutions(session)]


def evaluations(session: Session, institution_id: int) -> list[InstitutionEvaluation]:
    """The institution's evaluations, latest year first."""
    institution(session, institution_id)
    return list(repo.evaluations(session, institution_id))
