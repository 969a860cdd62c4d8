"""Factories for realistic, valid rows, one for every table; each call makes a new distinct record.

A factory makes the parent rows it needs unless they are given; `FACTORIES` maps each table name
to its factory (tests/models/test_factories.py checks that every table has one).
"""

import hashlib
import itertools
import random
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlmodel import Session, SQLModel

from ingestion.uscc import make_uscc
from models import (
    AgreementPeriod,
    AppendixBScore,
    Attendance,
    CoachingSession,
    Complaint,
    Consent,
    ContactPerson,
    Deal,
    DemandChange,
    DigestDelivery,
    DuplicateCandidate,
    Enterprise,
    EnterpriseAlias,
    EnterpriseChange,
    EnterpriseInvitation,
    EvaluationPeriod,
    Event,
    EventParticipant,
    EventRegistration,
    EventSession,
    EvidenceFile,
    FinancialYear,
    FinancingDemand,
    ImportBatch,
    ImportRow,
    ImportWarning,
    ImprovementMeasure,
    Institution,
    InstitutionEvaluation,
    InvestmentMandate,
    ListingAlert,
    ListingMilestone,
    ListingRecord,
    ListingTierChange,
    LoanProduct,
    Match,
    MatchTransition,
    PlanTarget,
    PortalNotice,
    RankerModel,
    ReportSignoff,
    ServiceCommitment,
    SlateItem,
    SlateRun,
    StaffProfile,
    StaffQualification,
    Subscription,
    TrainingRecord,
)
from models.audit import AuditLog
from models.crud import create
from models.data_version import DataVersion
from models.policy import Policy, PolicyOutreach
from models.reference import (
    Board,
    ComplaintKind,
    DealLink,
    DealType,
    EventKind,
    FinancingType,
    InstitutionKind,
    ListingMilestoneKind,
    ListingTier,
    PipelineStage,
    Stage,
)
from models.user import ApiKey, LoginThrottle, User
from services.audit.repository import append_audit

_seq = itertools.count(1)
# Relative to the real date: an institution's agreement stays in force whenever the suite runs
# (digests, recommendations and subscriptions check it against the center's today).
AGREEMENT_END = date.today() + timedelta(days=3 * 366)
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
        "agreement_end": AGREEMENT_END,
    }
    return create(session, Institution, data | over)


def loan_product(session: Session, inst: Institution | None = None, **over: Any) -> LoanProduct:
    data: dict[str, Any] = {
        "institution_id": (inst or institution(session)).id,
        "name": f"科技贷{next(_seq)}",
        "min_amount_wan": 100.0,
        "max_amount_wan": 1000.0,
    }
    return create(session, LoanProduct, data | over)


def mandate(session: Session, inst: Institution | None = None, **over: Any) -> InvestmentMandate:
    data: dict[str, Any] = {
        "institution_id": (inst or institution(session)).id,
        "name": f"成长基金{next(_seq)}",
        "stages": ["growth"],
        "min_ticket_wan": 500.0,
        "max_ticket_wan": 5000.0,
    }
    return create(session, InvestmentMandate, data | over)


def demand(session: Session, ent: Enterprise | None = None, **over: Any) -> FinancingDemand:
    data: dict[str, Any] = {
        "enterprise_id": (ent or enterprise(session)).id,
        "financing_type": FinancingType.loan,
        "amount_min_wan": 300.0,
        "amount_max_wan": 500.0,
    }
    return create(session, FinancingDemand, data | over)


def match(
    session: Session,
    dem: FinancingDemand | None = None,
    inst: Institution | None = None,
    **over: Any,
) -> Match:
    data: dict[str, Any] = {
        "demand_id": (dem or demand(session)).id,
        "institution_id": (inst or institution(session)).id,
        "stage": PipelineStage.introduced,
        "introduced_at": datetime(2025, 3, 1, tzinfo=UTC),
    }
    return create(session, Match, data | over)


def deal(
    session: Session, ent: Enterprise | None = None, inst: Institution | None = None, **over: Any
) -> Deal:
    data: dict[str, Any] = {
        "deal_type": DealType.loan,
        "amount_wan": 400.0,
        "closed_on": date(2025, 4, 1),
        "enterprise_id": (ent or enterprise(session)).id,
        "institution_id": (inst or institution(session)).id,
        # A deal recorded on a match is tied to it (as staff and claims record it).
        "link_status": DealLink.linked if over.get("match_id") else DealLink.unlinked,
    }
    return create(session, Deal, data | over)


def demand_change(
    session: Session, dem: FinancingDemand | None = None, **over: Any
) -> DemandChange:
    data: dict[str, Any] = {
        "demand_id": (dem or demand(session)).id,
        "field": "amount_max_wan",
        "old_value": "500",
        "new_value": "800",
        "actor": "mm",
        "note": "企业调整融资计划",
    }
    return create(session, DemandChange, data | over)


# --- events, listing records and complaints (the evaluation's records)


def event(
    session: Session,
    kind: EventKind = EventKind.roadshow,
    starts_at: datetime = datetime(2025, 5, 20, 2, tzinfo=UTC),
    **over: Any,
) -> Event:
    data: dict[str, Any] = {
        "kind": kind,
        "title": f"{kind.label}活动第{next(_seq)}期",
        "starts_at": starts_at,
        "ends_at": starts_at + timedelta(hours=3),
        "venue": "科技金融服务中心路演厅",
    }
    return create(session, Event, data | over)


def attend(session: Session, ev: Event | None = None, *person_keys: str) -> list[Attendance]:
    """One attendance row (one 人次) per person key (one new person when none is given)."""
    event_id = (ev or event(session)).id
    return [
        create(session, Attendance, {"event_id": event_id, "person_key": key, "person_name": key})
        for key in person_keys or (f"参会人{next(_seq)}",)
    ]


def registration(session: Session, ev: Event | None = None, **over: Any) -> EventRegistration:
    """A person registered for an event (consent given), not yet signed in."""
    now = datetime(2025, 5, 19, 2, tzinfo=UTC)
    data: dict[str, Any] = {
        "event_id": (ev or event(session)).id, "name": "王小明", "organisation": "深圳市示例科技有限公司",
        "phone": f"139{next(_seq):08d}", "source": "staff", "consent_at": now, "registered_at": now,
    }  # fmt: skip
    return create(session, EventRegistration, data | over)


def listing(
    session: Session,
    ent: Enterprise | None = None,
    coaching_started_on: date = date(2024, 3, 1),
    listed_board: Board | None = None,
    listed_on: date | None = None,
    **over: Any,
) -> ListingRecord:
    data: dict[str, Any] = {
        "enterprise_id": (ent or enterprise(session)).id,
        "target_board": listed_board or Board.star,
        "tier": ListingTier.listed if listed_on else ListingTier.coaching,
        "coaching_started_on": coaching_started_on,
        "listed_board": listed_board,
        "listed_on": listed_on,
    }
    return create(session, ListingRecord, data | over)


def complaint(
    session: Session, kind: ComplaintKind = ComplaintKind.complaint, **over: Any
) -> Complaint:
    data: dict[str, Any] = {
        "kind": kind,
        "content": f"测试事项{next(_seq)}：对接反馈不及时",
        "submitter": "企业联系人",
        "received_at": datetime(2025, 6, 1, 2, tzinfo=UTC),
    }
    return create(session, Complaint, data | over)


# --- every other table: one valid row, its parents made when not given

_AT = datetime(2025, 6, 1, 2, tzinfo=UTC)


def _parent(
    session: Session, over: dict[str, Any], key: str, make: Callable[[Session], Any]
) -> Any:
    return over.pop(key) if key in over else make(session).id


def api_key(session: Session, **over: Any) -> ApiKey:
    secret = f"key-{next(_seq)}"
    data = {"institution_id": _parent(session, over, "institution_id", institution),
            "key_hash": hashlib.sha256(secret.encode()).hexdigest(), "prefix": secret[:12]}  # fmt: skip
    return create(session, ApiKey, data | over)


def user(session: Session, **over: Any) -> User:
    data = {
        "username": f"user{next(_seq)}",
        "password_hash": "$argon2id$test",
        "role": "matchmaker",
    }
    return create(session, User, data | over)


def login_throttle(session: Session, **over: Any) -> LoginThrottle:
    return create(
        session, LoginThrottle, {"key": f"u:user{next(_seq)}", "window_start": 0.0} | over
    )


def audit_log(session: Session, **over: Any) -> AuditLog:
    """Appended through the audit chain (the only way a valid row is made)."""
    return append_audit(session, **({"actor": "tester", "action": "test", "entity": "test"} | over))


def data_version(session: Session, **over: Any) -> DataVersion:
    """The one counter row (the migration inserts it), made if missing."""
    return session.get(DataVersion, 1) or create(session, DataVersion, {"id": 1} | over)


def evaluation_period(session: Session, **over: Any) -> EvaluationPeriod:
    data = {
        "name": f"{2000 + next(_seq)}年度",
        "starts_on": date(2025, 1, 1),
        "ends_on": date(2025, 12, 31),
    }
    return create(session, EvaluationPeriod, data | over)


def appendix_b_score(session: Session, **over: Any) -> AppendixBScore:
    data = {"period_id": _parent(session, over, "period_id", evaluation_period),
            "item_code": f"B{next(_seq)}", "score": 3.0, "scored_by": "评估员"}  # fmt: skip
    return create(session, AppendixBScore, data | over)


def plan_target(session: Session, **over: Any) -> PlanTarget:
    data = {"year": 2000 + next(_seq), "indicator_key": "credit_amount", "target": 5000.0,
            "set_by": "计划员"}  # fmt: skip
    return create(session, PlanTarget, data | over)


def evidence_file(session: Session, **over: Any) -> EvidenceFile:
    content = f"%PDF-1.7 佐证{next(_seq)}".encode()
    data = {"period_id": _parent(session, over, "period_id", evaluation_period),
            "item_code": "b1_team", "filename": "团队花名册.pdf", "content_type": "application/pdf",
            "size": len(content), "sha256": hashlib.sha256(content).hexdigest(), "content": content,
            "uploaded_by": "mm"}  # fmt: skip
    return create(session, EvidenceFile, data | over)


def report_signoff(session: Session, **over: Any) -> ReportSignoff:
    content = f"PK 自评报告{next(_seq)}".encode()
    data = {"period_id": _parent(session, over, "period_id", evaluation_period),
            "signed_by": "eva", "role": "中心负责人", "filename": "self-assessment.xlsx",
            "report_sha256": hashlib.sha256(content).hexdigest(), "content": content}  # fmt: skip
    return create(session, ReportSignoff, data | over)


def improvement_measure(session: Session, **over: Any) -> ImprovementMeasure:
    data = {"complaint_id": _parent(session, over, "complaint_id", complaint),
            "description": "建立对接反馈时限", "owner": "服务部", "due_on": date(2025, 7, 1)}  # fmt: skip
    return create(session, ImprovementMeasure, data | over)


def consent(session: Session, **over: Any) -> Consent:
    data = {"enterprise_id": _parent(session, over, "enterprise_id", enterprise),
            "institution_id": _parent(session, over, "institution_id", institution),
            "granted_at": _AT, "recorded_by": "撮合专员"}  # fmt: skip
    return create(session, Consent, data | over)


def contact_person(session: Session, **over: Any) -> ContactPerson:
    data = {"enterprise_id": _parent(session, over, "enterprise_id", enterprise), "name": "张三"}
    return create(session, ContactPerson, data | over)


def enterprise_alias(session: Session, **over: Any) -> EnterpriseAlias:
    n = next(_seq)
    data = {"enterprise_id": _parent(session, over, "enterprise_id", enterprise),
            "legal_name": f"深圳市别名{n:04d}科技有限公司", "normalized_name": f"别名{n:04d}科技"}  # fmt: skip
    return create(session, EnterpriseAlias, data | over)


def duplicate_candidate(session: Session, **over: Any) -> DuplicateCandidate:
    data = {"enterprise_id": _parent(session, over, "enterprise_id", enterprise),
            "candidate_id": _parent(session, over, "candidate_id", enterprise), "similarity": 92.5}  # fmt: skip
    return create(session, DuplicateCandidate, data | over)


def financial_year(session: Session, **over: Any) -> FinancialYear:
    data = {"enterprise_id": _parent(session, over, "enterprise_id", enterprise),
            "fiscal_year": 2024, "revenue_wan": 8000.0, "net_profit_wan": 900.0}  # fmt: skip
    return create(session, FinancialYear, data | over)


def coaching_session(session: Session, **over: Any) -> CoachingSession:
    data = {"event_id": _parent(session, over, "event_id", event), "tier": ListingTier.coaching,
            "plan_item": "share_reform"}  # fmt: skip
    return create(session, CoachingSession, data | over)


def listing_alert(session: Session, **over: Any) -> ListingAlert:
    data = {"listing_record_id": _parent(session, over, "listing_record_id", listing),
            "kind": "tier", "subject": "coaching", "since": date(2025, 1, 1),
            "raised_on": date(2025, 6, 1), "threshold_days": 120}  # fmt: skip
    return create(session, ListingAlert, data | over)


def listing_milestone(session: Session, **over: Any) -> ListingMilestone:
    data = {"listing_record_id": _parent(session, over, "listing_record_id", listing),
            "kind": ListingMilestoneKind.shareholding_reform, "occurred_on": date(2024, 9, 1)}  # fmt: skip
    return create(session, ListingMilestone, data | over)


def listing_tier_change(session: Session, **over: Any) -> ListingTierChange:
    data = {"listing_record_id": _parent(session, over, "listing_record_id", listing),
            "tier": ListingTier.coaching, "entered_on": date(2024, 3, 1)}  # fmt: skip
    return create(session, ListingTierChange, data | over)


def event_participant(session: Session, **over: Any) -> EventParticipant:
    data = {"event_id": _parent(session, over, "event_id", event),
            "enterprise_id": _parent(session, over, "enterprise_id", enterprise), "role": "presenter"}  # fmt: skip
    return create(session, EventParticipant, data | over)


def event_session(session: Session, **over: Any) -> EventSession:
    data = {"event_id": _parent(session, over, "event_id", event), "name": "第一场",
            "starts_at": _AT, "ends_at": _AT + timedelta(hours=1)}  # fmt: skip
    return create(session, EventSession, data | over)


def slate_item(session: Session, **over: Any) -> SlateItem:
    data = {"event_id": _parent(session, over, "event_id", event), "item_type": "pitch",
            "starts_at": _AT, "ends_at": _AT + timedelta(minutes=15)}  # fmt: skip
    return create(session, SlateItem, data | over)


def import_batch(session: Session, **over: Any) -> ImportBatch:
    data = {"file_name": f"企业名录{next(_seq)}.xlsx", "sha256": "0" * 64,
            "kind": "enterprises", "user": "tester"}  # fmt: skip
    return create(session, ImportBatch, data | over)


def import_warning(session: Session, **over: Any) -> ImportWarning:
    """A warning of an import batch (an industry word the synonym table lacks)."""
    data = {"batch_id": _parent(session, over, "batch_id", import_batch), "sheet": "需求",
            "row_number": 3, "column": "所属行业", "value": "做饭机器", "rule": "industry_unmapped",
            "message": "行业“做饭机器”未能对应到 GB/T 4754-2017 大类，已留空"}  # fmt: skip
    return create(session, ImportWarning, data | over)


def import_row(session: Session, **over: Any) -> ImportRow:
    data = {"batch_id": _parent(session, over, "batch_id", import_batch),
            "row_number": next(_seq), "outcome": "inserted"}  # fmt: skip
    return create(session, ImportRow, data | over)


def enterprise_change(session: Session, **over: Any) -> EnterpriseChange:
    data = {"batch_id": _parent(session, over, "batch_id", import_batch),
            "enterprise_id": _parent(session, over, "enterprise_id", enterprise),
            "row_number": next(_seq), "field": "revenue_wan", "old_value": "1200.0",
            "new_value": "2500.0"}  # fmt: skip
    return create(session, EnterpriseChange, data | over)


def match_transition(session: Session, **over: Any) -> MatchTransition:
    data = {"match_id": _parent(session, over, "match_id", match),
            "to_stage": PipelineStage.meeting, "at": _AT, "actor": "撮合专员"}  # fmt: skip
    return create(session, MatchTransition, data | over)


def policy(session: Session, **over: Any) -> Policy:
    data = {"title": f"研发补助{next(_seq)}", "issuer": "深圳市科技创新局（测试）",
            "level": "municipal", "effective_on": date(2025, 1, 1), "benefit_type": "rd_subsidy",
            "amount_wan": 20.0, "conditions": [{"type": "region", "prefixes": ["4403"]}]}  # fmt: skip
    return create(session, Policy, data | over)


def policy_outreach(session: Session, **over: Any) -> PolicyOutreach:
    data = {"policy_id": _parent(session, over, "policy_id", policy),
            "enterprise_id": _parent(session, over, "enterprise_id", enterprise),
            "informed_at": _AT, "informed_by": "撮合专员", "channel": "phone"}  # fmt: skip
    return create(session, PolicyOutreach, data | over)


def service_commitment(session: Session, **over: Any) -> ServiceCommitment:
    data = {"institution_id": _parent(session, over, "institution_id", institution),
            "description": "三个工作日内回复企业需求"}  # fmt: skip
    return create(session, ServiceCommitment, data | over)


def subscription(session: Session, **over: Any) -> Subscription:
    data = {"institution_id": _parent(session, over, "institution_id", institution),
            "name": f"每周推荐{next(_seq)}", "channel": "email", "email": "ops@example.com"}  # fmt: skip
    return create(session, Subscription, data | over)


def digest_delivery(session: Session, **over: Any) -> DigestDelivery:
    data = {"subscription_id": _parent(session, over, "subscription_id", subscription),
            "period": f"2025-W{next(_seq)}", "channel": "email"}  # fmt: skip
    return create(session, DigestDelivery, data | over)


def slate_run(session: Session, **over: Any) -> SlateRun:
    data = {"event_id": _parent(session, over, "event_id", event), "time_limit_s": 10.0,
            "requested_by": "tester"}  # fmt: skip
    return create(session, SlateRun, data | over)


def ranker_model(session: Session, **over: Any) -> RankerModel:
    n = next(_seq)
    data = {"version": f"ltr-{n:010d}", "path": f"var/models/ltr-{n:010d}/ranker.pkl",
            "n_outcomes": 240, "n_won": 240, "metrics": {"recall10_learned": 0.31}}  # fmt: skip
    return create(session, RankerModel, data | over)


def agreement_period(session: Session, **over: Any) -> AgreementPeriod:
    data = {"institution_id": _parent(session, over, "institution_id", institution),
            "starts_on": date(2020, 1, 1), "ends_on": date(2022, 12, 31), "replaced_by": "管理员"}  # fmt: skip
    return create(session, AgreementPeriod, data | over)


def institution_evaluation(session: Session, **over: Any) -> InstitutionEvaluation:
    data = {"institution_id": _parent(session, over, "institution_id", institution),
            "year": 2025, "decision": "keep", "note": "履约良好", "evaluated_by": "管理员"}  # fmt: skip
    return create(session, InstitutionEvaluation, data | over)


def staff_profile(session: Session, **over: Any) -> StaffProfile:
    data = {"user_id": _parent(session, over, "user_id", user), "post": "撮合专员"}  # fmt: skip
    return create(session, StaffProfile, data | over)


def staff_qualification(session: Session, **over: Any) -> StaffQualification:
    data = {"user_id": _parent(session, over, "user_id", user), "name": "银行业专业人员职业资格",
            "obtained_on": date(2021, 6, 1)}  # fmt: skip
    return create(session, StaffQualification, data | over)


def training_record(session: Session, **over: Any) -> TrainingRecord:
    data = {"user_id": _parent(session, over, "user_id", user), "day": date(2025, 4, 10),
            "topic": "科创板上市规则", "hours": 6.0}  # fmt: skip
    return create(session, TrainingRecord, data | over)


def enterprise_user(session: Session, **over: Any) -> User:
    data = {"role": "enterprise", "email": f"qiye{next(_seq)}@example.com",
            "enterprise_id": _parent(session, over, "enterprise_id", enterprise)}  # fmt: skip
    return user(session, **(data | over))


def enterprise_invitation(session: Session, **over: Any) -> EnterpriseInvitation:
    data = {"enterprise_id": _parent(session, over, "enterprise_id", enterprise),
            "token_hash": f"{next(_seq):064d}", "created_by": "tester",
            "expires_at": datetime(2030, 1, 1, tzinfo=UTC)}  # fmt: skip
    return create(session, EnterpriseInvitation, data | over)


def portal_notice(session: Session, **over: Any) -> PortalNotice:
    user_id = _parent(session, over, "user_id", enterprise_user)
    match_id = _parent(session, over, "match_id", match)
    data = {"key": f"portal-introduction-{match_id}-{user_id}", "kind": "introduction",
            "user_id": user_id, "match_id": match_id}  # fmt: skip
    return create(session, PortalNotice, data | over)


FACTORIES: dict[str, Callable[[Session], SQLModel]] = {
    "enterprise": enterprise, "institution": institution, "loan_product": loan_product,
    "investment_mandate": mandate, "financing_demand": demand, "match": match, "deal": deal,
    "demand_change": demand_change,
    "event": event, "attendance": lambda s: attend(s)[0], "listing_record": listing,
    "complaint": complaint, "api_key": api_key, "app_user": user,
    "login_throttle": login_throttle, "audit_log": audit_log, "data_version": data_version,
    "evaluation_period": evaluation_period, "appendix_b_score": appendix_b_score,
    "improvement_measure": improvement_measure, "consent": consent,
    "plan_target": plan_target, "evidence_file": evidence_file, "report_signoff": report_signoff,
    "contact_person": contact_person, "enterprise_alias": enterprise_alias,
    "duplicate_candidate": duplicate_candidate, "enterprise_financial_year": financial_year,
    "coaching_session": coaching_session, "listing_alert": listing_alert,
    "listing_milestone": listing_milestone, "listing_tier_change": listing_tier_change,
    "event_participant": event_participant, "event_session": event_session,
    "slate_item": slate_item, "import_batch": import_batch, "import_row": import_row,
    "enterprise_change": enterprise_change,
    "import_warning": import_warning,
    "match_transition": match_transition, "policy": policy, "policy_outreach": policy_outreach,
    "service_commitment": service_commitment, "subscription": subscription,
    "digest_delivery": digest_delivery, "slate_run": slate_run, "ranker_model": ranker_model,
    "agreement_period": agreement_period, "institution_evaluation": institution_evaluation,
    "staff_profile": staff_profile, "staff_qualification": staff_qualification,
    "training_record": training_record,
    "event_registration": registration,
    "enterprise_invitation": enterprise_invitation, "portal_notice": portal_notice,
}  # fmt: skip
