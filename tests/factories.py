"""Factories for realistic, valid rows; each call makes a new distinct record."""

import itertools
import random
from datetime import UTC, date, datetime
from typing import Any

from sqlmodel import Session

from ingestion.uscc import make_uscc
from models import (
    Deal,
    Enterprise,
    FinancingDemand,
    Institution,
    InvestmentMandate,
    LoanProduct,
    Match,
)
from models.crud import create
from models.reference import DealType, FinancingType, InstitutionKind, PipelineStage, Stage

_seq = itertools.count(1)
_rng = random.Random(20240301)


def enterprise(session: Session, **over: Any) -> Enterprise:
    n = next(_seq)
    data: dict[str, Any] = {
        "uscc": make_uscc(_rng, "440305"),
        "legal_name": f"深圳市测试{n:04d}科技有限公司",
        "normalized_name": f"测试{n:04d}科技",
        "region_code": "440305",
        "industry_code": "I65",
        "stage": Stage.growth,
        "founded_on": date(2018, 5, 1),
        "revenue_wan": 3200.0,
        "qualifications": ["high_tech"],
    }
    return create(session, Enterprise, data | over)


def institution(session: Session, **over: Any) -> Institution:
    n = next(_seq)
    data: dict[str, Any] = {
        "name": f"测试{n:04d}创业投资有限公司",
        "kind": InstitutionKind.vc,
        "regions_served": ["4403"],
        "agreement_start": date(2023, 1, 1),
        "agreement_end": date(2026, 12, 31),
    }
    return create(session, Institution, data | over)


def loan_product(session: Session, inst: Institution, **over: Any) -> LoanProduct:
    data: dict[str, Any] = {
        "institution_id": inst.id,
        "name": f"科技贷{next(_seq)}",
        "min_amount_wan": 100.0,
        "max_amount_wan": 1000.0,
    }
    return create(session, LoanProduct, data | over)


def mandate(session: Session, inst: Institution, **over: Any) -> InvestmentMandate:
    data: dict[str, Any] = {
        "institution_id": inst.id,
        "name": f"成长基金{next(_seq)}",
        "stages": ["growth"],
        "min_ticket_wan": 500.0,
        "max_ticket_wan": 5000.0,
    }
    return create(session, InvestmentMandate, data | over)


def demand(session: Session, ent: Enterprise, **over: Any) -> FinancingDemand:
    data: dict[str, Any] = {
        "enterprise_id": ent.id,
        "financing_type": FinancingType.loan,
        "amount_min_wan": 300.0,
        "amount_max_wan": 500.0,
    }
    return create(session, FinancingDemand, data | over)


def match(session: Session, dem: FinancingDemand, inst: Institution, **over: Any) -> Match:
    data: dict[str, Any] = {
        "demand_id": dem.id,
        "institution_id": inst.id,
        "stage": PipelineStage.introduced,
        "introduced_at": datetime(2025, 3, 1, tzinfo=UTC),
    }
    return create(session, Match, data | over)


def deal(session: Session, ent: Enterprise, inst: Institution, **over: Any) -> Deal:
    data: dict[str, Any] = {
        "deal_type": DealType.loan,
        "amount_wan": 400.0,
        "closed_on": date(2025, 4, 1),
        "enterprise_id": ent.id,
        "institution_id": inst.id,
    }
    return create(session, Deal, data | over)
