"""Deals tied to introductions: an imported bank list links to the introduced match (the demand
becomes 已融资, 撮合贷款金额 rises by exactly the amount); ambiguous or unmatched deals wait in
the 待关联成交 queue, where a matchmaker links or rejects them."""

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlmodel import Session, select

from models import Deal, FinancingDemand
from models.errors import ConflictError, DomainError
from models.reference import DealLink, DemandStatus, InstitutionKind, PipelineStage
from services.disclosure.repository import teaser_filter
from services.evaluation import Period, appendix_a
from services.imports.service import import_file
from services.pipeline import demands, links
from services.pipeline import service as pipeline
from tests import factories as f
from tests.ingestion.helpers import write_xlsx

MM = "mm_zhang"
YEAR = Period.year(2025)
INTRODUCED = datetime(2025, 1, 10, 2, tzinfo=UTC)


def _bank(session: Session, name: str) -> int:
    bank = f.institution(session, name=name, kind=InstitutionKind.bank)
    return bank.id or 0


def _credit(session: Session) -> float:
    return float(appendix_a(session, YEAR).value("credit_amount"))


def _disbursements(path: Path, rows: list[list[object]]) -> Path:
    header = ["企业名称", "统一社会信用代码", "机构名称", "放款金额（万元）", "放款日期"]
    return write_xlsx(path, {"放款明细": [header, *rows]})


def test_an_imported_disbursement_links_funds_the_demand_and_counts(
    session: Session, tmp_path: Path
) -> None:
    ent = f.enterprise(session)
    bank = _bank(session, "杭州银行股份有限公司科技支行")
    demand = f.demand(session, ent, amount_min_wan=2600.0, amount_max_wan=3000.0)
    match = pipeline.introduce(session, demand_id=demand.id or 0, institution_id=bank,
                               actor=MM, at=INTRODUCED)  # fmt: skip
    before = _credit(session)
    path = _disbursements(tmp_path / "bank.xlsx",
                          [[ent.legal_name, ent.uscc, "杭州银行股份有限公司科技支行", 2600, "2025-07-15"]])  # fmt: skip
    summary = import_file(session, path, "deals", user="importer")
    assert (summary.inserted, summary.related["deals_linked"]) == (1, 1)
    deal = session.exec(select(Deal)).one()
    assert (deal.match_id, deal.link_status) == (match.id, DealLink.linked)
    session.refresh(match)
    assert match.stage == PipelineStage.closed_won
    state = demands.demand_state(session, demand.id or 0)
    assert (state.demand.status, state.demand.amount_raised_wan, state.remaining_wan) == (
        DemandStatus.funded, 2600, 0)  # fmt: skip
    assert _credit(session) == before + 2600
    teasers = session.exec(select(FinancingDemand.id).where(teaser_filter(None))).all()
    assert demand.id not in teasers  # nor in digests, roadshow invitations: the same predicate
    with pytest.raises(ConflictError, match="已融资，不再推荐机构"):
        demands.check_open_for_matching(session, demand.id or 0)
    again = import_file(session, path, "deals", user="importer")  # the same list once more
    assert again.inserted == 0 and _credit(session) == before + 2600


def test_several_candidates_or_none_wait_in_the_queue(session: Session, tmp_path: Path) -> None:
    ent = f.enterprise(session)
    bank = _bank(session, "宁波银行股份有限公司科创支行")
    loan = f.demand(session, ent, amount_min_wan=500.0, amount_max_wan=500.0)
    other = f.demand(session, ent, amount_min_wan=300.0, amount_max_wan=300.0)
    first = pipeline.introduce(session, demand_id=loan.id or 0, institution_id=bank, actor=MM,
                               at=INTRODUCED)  # fmt: skip
    pipeline.introduce(session, demand_id=other.id or 0, institution_id=bank, actor=MM,
                       at=INTRODUCED)  # fmt: skip
    path = _disbursements(tmp_path / "bank.xlsx", [
        [ent.legal_name, ent.uscc, "宁波银行股份有限公司科创支行", 500, "2025-03-01"],
        [ent.legal_name, ent.uscc, "宁波银行股份有限公司科创支行", 200, "2025-01-09"],  # before
    ])  # fmt: skip
    summary = import_file(session, path, "deals", user="importer")
    assert (summary.related["deals_linked"], summary.related["deals_unlinked"]) == (0, 2)
    assert any("待关联成交" in n for n in summary.notes)
    queue = {d.amount_wan: [m.id for m in found] for d, found in links.queue(session)}
    assert len(queue[500]) == 2 and queue[200] == []  # introduced after the deal: no candidate
    assert _credit(session) == 0  # nothing counts before a matchmaker decides
    ambiguous = next(d for d, _ in links.queue(session) if d.amount_wan == 500)
    early = next(d for d, _ in links.queue(session) if d.amount_wan == 200)
    with pytest.raises(DomainError, match="不是成交"):
        links.link(session, early.id or 0, first.id or 0, actor=MM, note=None)
    linked = links.link(session, ambiguous.id or 0, first.id or 0, actor=MM, note="核对放款合同")
    assert linked.link_status == DealLink.linked and _credit(session) == 500
    assert demands.demand_state(session, loan.id or 0).demand.status == DemandStatus.funded
    assert demands.demand_state(session, other.id or 0).demand.status == DemandStatus.open
    with pytest.raises(DomainError, match="原因"):
        links.reject(session, early.id or 0, actor=MM, note="")
    links.reject(session, early.id or 0, actor=MM, note="企业自行申请，非中心撮合")
    assert links.queue(session) == [] and _credit(session) == 500
    with pytest.raises(ConflictError, match="不予关联"):
        links.link(session, early.id or 0, first.id or 0, actor=MM, note=None)


def test_only_linked_confirmed_deals_count_as_brokered(session: Session) -> None:
    bank = f.institution(session, kind=InstitutionKind.bank)
    ent = f.enterprise(session)
    match = f.match(session, f.demand(session, ent), bank, introduced_at=INTRODUCED)
    f.deal(session, ent, bank, match_id=match.id, amount_wan=100.0, closed_on=date(2025, 5, 1),
           link_status=DealLink.unlinked)  # fmt: skip
    assert _credit(session) == 0  # on the match, but not linked: not 撮合
    f.deal(session, ent, bank, match_id=match.id, amount_wan=40.0, closed_on=date(2025, 5, 2))
    assert _credit(session) == 40


def test_a_corrected_amount_recounts_the_amount_raised(session: Session, tmp_path: Path) -> None:
    ent = f.enterprise(session)
    bank = _bank(session, "招商银行股份有限公司科技支行")
    demand = f.demand(session, ent, amount_min_wan=2000.0, amount_max_wan=3000.0)
    pipeline.introduce(session, demand_id=demand.id or 0, institution_id=bank, actor=MM,
                       at=INTRODUCED)  # fmt: skip
    row = [ent.legal_name, ent.uscc, "招商银行股份有限公司科技支行", 2600, "2025-07-15"]
    import_file(session, _disbursements(tmp_path / "bank.xlsx", [row]), "deals", user="importer")
    before = _credit(session)
    fixed = _disbursements(tmp_path / "fixed.xlsx", [[*row[:3], 2060, row[4]]])  # a typo fixed
    summary = import_file(session, fixed, "deals", user="importer")
    assert (summary.updated, summary.related["demands_recounted"]) == (1, 1)
    state = demands.demand_state(session, demand.id or 0)
    assert (state.demand.status, state.demand.amount_raised_wan, state.remaining_wan) == (
        DemandStatus.funded, 2060, 0)  # fmt: skip
    assert _credit(session) == before - 540
    changes = [(c["field"], c["old"], c["new"]) for c in state.as_json()["history"]]
    assert changes[0] == ("amount_raised_wan", "2600", "2060")
