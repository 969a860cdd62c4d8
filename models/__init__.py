"""The domain model: every table of the product, registered on one SQLModel metadata."""

from models.audit import AuditLog
from models.base import metadata
from models.consent import Consent
from models.cultivation import CoachingSession, FinancialYear, ListingAlert
from models.data_version import DataVersion
from models.demand import DemandChange, FinancingDemand
from models.enterprise import ContactPerson, Enterprise
from models.evaluation import (
    AppendixBScore,
    EvaluationPeriod,
    EvidenceFile,
    PlanTarget,
    ReportSignoff,
)
from models.event import (
    Attendance,
    Event,
    EventParticipant,
    EventRegistration,
    EventSession,
    SlateItem,
    SlateRun,
)
from models.feedback import Complaint, ImprovementMeasure
from models.imports import DuplicateCandidate, ImportBatch, ImportRow, ImportWarning
from models.ingest_support import EnterpriseAlias as EnterpriseAlias
from models.ingest_support import EnterpriseChange as EnterpriseChange
from models.institution import (
    AgreementPeriod,
    Institution,
    InstitutionEvaluation,
    InvestmentMandate,
    LoanProduct,
    ServiceCommitment,
)
from models.listing import ListingMilestone, ListingRecord, ListingTierChange
from models.match import Deal, Match, MatchTransition
from models.policy import Policy, PolicyOutreach
from models.portal import EnterpriseInvitation, PortalNotice
from models.ranker import RankerModel
from models.staff import StaffProfile, StaffQualification, TrainingRecord
from models.subscription import DigestDelivery, Subscription
from models.user import ApiKey, LoginThrottle, User

__all__ = [
    "AgreementPeriod",
    "ApiKey",
    "AppendixBScore",
    "Attendance",
    "AuditLog",
    "CoachingSession",
    "Complaint",
    "Consent",
    "ContactPerson",
    "DataVersion",
    "Deal",
    "DemandChange",
    "DigestDelivery",
    "DuplicateCandidate",
    "Enterprise",
    "EnterpriseInvitation",
    "EvaluationPeriod",
    "Event",
    "EventParticipant",
    "EventRegistration",
    "EventSession",
    "EvidenceFile",
    "FinancialYear",
    "FinancingDemand",
    "ImportBatch",
    "ImportRow",
    "ImportWarning",
    "ImprovementMeasure",
    "Institution",
    "InstitutionEvaluation",
    "InvestmentMandate",
    "ListingAlert",
    "ListingMilestone",
    "ListingRecord",
    "ListingTierChange",
    "LoanProduct",
    "LoginThrottle",
    "Match",
    "MatchTransition",
    "PlanTarget",
    "Policy",
    "PolicyOutreach",
    "PortalNotice",
    "RankerModel",
    "ReportSignoff",
    "ServiceCommitment",
    "SlateItem",
    "SlateRun",
    "StaffProfile",
    "StaffQualification",
    "Subscription",
    "TrainingRecord",
    "User",
    "metadata",
]
