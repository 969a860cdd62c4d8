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
from models.event import Attendance, Event, EventParticipant, EventSession, SlateItem, SlateRun
from models.feedback import Complaint, ImprovementMeasure
from models.imports import DuplicateCandidate, ImportBatch, ImportRow, ImportWarning
from models.ingest_support import EnterpriseAlias as EnterpriseAlias
from models.ingest_support import EnterpriseChange as EnterpriseChange
from models.institution import Institution, InvestmentMandate, LoanProduct, ServiceCommitment
from models.listing import ListingMilestone, ListingRecord, ListingTierChange
from models.match import Deal, Match, MatchTransition
from models.policy import Policy, PolicyOutreach
from models.ranker import RankerModel
from models.subscription import DigestDelivery, Subscription
from models.user import ApiKey, LoginThrottle, User

__all__ = [
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
    "EvaluationPeriod",
    "Event",
    "EventParticipant",
    "EventSession",
    "EvidenceFile",
    "FinancialYear",
    "FinancingDemand",
    "ImportBatch",
    "ImportRow",
    "ImportWarning",
    "ImprovementMeasure",
    "Institution",
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
    "RankerModel",
    "ReportSignoff",
    "ServiceCommitment",
    "SlateItem",
    "SlateRun",
    "Subscription",
    "User",
    "metadata",
]
