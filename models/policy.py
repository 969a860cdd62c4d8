"""The policy catalogue (政策宣贯, standard 6.1.1 a) and the record of who was told about what.

A policy's eligibility conditions, its benefit formula and the loans it covers are stored as
data (JSON), in the typed shapes :mod:`matching.policy` reads and checks; see docs/policy.md.
"""

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.base import created_at_field, enum_column, json_column, ts_column
from models.reference import LabelledEnum


class PolicyLevel(LabelledEnum):
    """政策层级: who issued it."""

    national = "national", "国家级", "国家"
    provincial = "provincial", "省级", "省"
    municipal = "municipal", "市级", "市"
    district = "district", "区级", "区", "区县级"


class BenefitType(LabelledEnum):
    """扶持方式: what the enterprise (or its bank) gets."""

    interest_subsidy = "interest_subsidy", "贴息", "贷款贴息", "利息补贴"
    risk_compensation = "risk_compensation", "风险补偿", "贷款风险补偿"
    guarantee_fee_subsidy = "guarantee_fee_subsidy", "担保费补贴", "担保费资助", "担保补贴"
    listing_reward = "listing_reward", "上市奖励", "上市挂牌奖励", "挂牌上市奖励"
    rd_subsidy = "rd_subsidy", "研发补助", "研发资助", "研发费用补助"
    certification_reward = "certification_reward", "认定奖励", "高企认定奖励", "资质认定奖励"
    talent = "talent", "人才", "人才补贴", "人才奖励"
    other = "other", "其他"


#: Benefit types that lower the cost of a bank loan (policy-linked financing).
FINANCING_BENEFITS = frozenset(
    {
        BenefitType.interest_subsidy,
        BenefitType.risk_compensation,
        BenefitType.guarantee_fee_subsidy,
    }
)


class OutreachChannel(LabelledEnum):
    """How the center told an enterprise about a policy (宣贯方式)."""

    visit = "visit", "上门走访", "走访"
    phone = "phone", "电话"
    wechat = "wechat", "微信"
    email = "email", "电子邮件", "邮件"
    seminar = "seminar", "政策宣讲会", "宣讲会"


class OutreachOutcome(LabelledEnum):
    """What came of telling the enterprise."""

    informed = "informed", "已告知"
    interested = "interested", "有意申报"
    applied = "applied", "已申报"
    granted = "granted", "已获批"
    declined = "declined", "无意申报"
    unreachable = "unreachable", "未联系上"


def _dict_column() -> Any:
    return Column(JSON, nullable=False, default=dict)


class PolicyBase(SQLModel):
    """Fields a client may set on a policy."""

    title: str = Field(min_length=2, max_length=200, description="政策（条款）名称")
    issuer: str = Field(min_length=2, max_length=120, description="发文机关")
    level: PolicyLevel = Field(sa_column=enum_column(PolicyLevel, index=True))
    document_no: str | None = Field(default=None, max_length=80, description="文号")
    effective_on: date = Field(description="生效日期")
    expires_on: date | None = Field(default=None, description="失效日期（含当日），空为长期有效")
    benefit_type: BenefitType = Field(sa_column=enum_column(BenefitType, index=True))
    amount_wan: float | None = Field(default=None, ge=0, description="定额（万元）")
    cap_wan: float | None = Field(default=None, ge=0, description="单户上限（万元）")
    formula: dict[str, Any] = Field(
        default_factory=dict, sa_column=_dict_column(), description="计算方式（见 docs/policy.md）"
    )
    conditions: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=json_column(), description="申报条件（带类型的条件列表）"
    )
    loan_scope: dict[str, Any] = Field(
        default_factory=dict, sa_column=_dict_column(), description="适用贷款（融资类政策）"
    )
    summary: str | None = Field(default=None, sa_type=Text, description="政策要点")
    to_verify: bool = Field(
        default=False, description="待核实：文号、有效期与条款须由中心对照原文核实后方可对外引用"
    )


class Policy(PolicyBase, table=True):
    """One benefit of one policy document; a document with several benefits is several rows."""

    __tablename__ = "policy"
    __table_args__ = (
        UniqueConstraint("issuer", "title"),
        CheckConstraint("expires_on IS NULL OR expires_on >= effective_on", name="validity_order"),
        CheckConstraint("amount_wan IS NULL OR amount_wan >= 0", name="amount_nonneg"),
    )

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = created_at_field()


class PolicyOutreachBase(SQLModel):
    """Fields a client may set on an outreach record."""

    policy_id: int = Field(foreign_key="policy.id", index=True, ondelete="CASCADE")
    enterprise_id: int = Field(foreign_key="enterprise.id", index=True, ondelete="CASCADE")
    informed_at: datetime = Field(sa_column=ts_column())
    informed_by: str = Field(min_length=1, max_length=80, description="宣贯人")
    channel: OutreachChannel = Field(sa_column=enum_column(OutreachChannel))
    outcome: OutreachOutcome = Field(
        default=OutreachOutcome.informed, sa_column=enum_column(OutreachOutcome, index=True)
    )
    note: str | None = Field(default=None, max_length=300)


class PolicyOutreach(PolicyOutreachBase, table=True):
    """The center told one enterprise about one policy (宣贯记录)."""

    __tablename__ = "policy_outreach"
    __table_args__ = (UniqueConstraint("policy_id", "enterprise_id", "informed_at"),)

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = created_at_field()


__all__ = [
    "FINANCING_BENEFITS",
    "BenefitType",
    "OutreachChannel",
    "OutreachOutcome",
    "Policy",
    "PolicyBase",
    "PolicyLevel",
    "PolicyOutreach",
    "PolicyOutreachBase",
]
