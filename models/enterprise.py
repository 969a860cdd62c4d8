"""Enterprises (科技型企业) and their contact persons, kept apart as personal information."""

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.base import created_at_field, enum_column, json_column, ts_column, utcnow
from models.reference import Stage


class EnterpriseBase(SQLModel):
    """Fields a client may set on an enterprise."""

    uscc: str | None = Field(
        default=None, max_length=18, min_length=18, description="统一社会信用代码 (GB 32100-2015)"
    )
    legal_name: str = Field(min_length=2, max_length=200, description="企业全称")
    short_name: str | None = Field(default=None, max_length=100, description="简称/品牌名")
    region_code: str | None = Field(
        default=None, max_length=6, description="行政区划代码 GB/T 2260"
    )
    industry_code: str | None = Field(
        default=None, max_length=5, description="GB/T 4754-2017 门类+大类, e.g. C39"
    )
    sei_category: str | None = Field(
        default=None, max_length=4, description="战略性新兴产业分类(2018) 1..9"
    )
    stage: Stage | None = Field(default=None, sa_column=enum_column(Stage, nullable=True))
    founded_on: date | None = None
    registered_capital_wan: float | None = Field(default=None, ge=0)
    employees: int | None = Field(default=None, ge=0)
    rd_staff: int | None = Field(default=None, ge=0)
    revenue_wan: float | None = Field(default=None, ge=0, description="最近一年营业收入（万元）")
    net_profit_wan: float | None = Field(default=None, description="最近一年净利润（万元）")
    rd_expense_wan: float | None = Field(default=None, ge=0, description="最近一年研发投入（万元）")
    patents: int | None = Field(default=None, ge=0, description="有效专利数")
    qualifications: list[str] = Field(default_factory=list, sa_column=json_column())
    business_scope: str | None = Field(default=None, sa_type=Text, description="经营范围")


class Enterprise(EnterpriseBase, table=True):
    """A technology enterprise the center serves; identified by USCC, else by normalised name."""

    __tablename__ = "enterprise"
    __table_args__ = (
        UniqueConstraint("uscc"),
        CheckConstraint("employees IS NULL OR employees >= 0", name="employees_nonneg"),
        CheckConstraint("revenue_wan IS NULL OR revenue_wan >= 0", name="revenue_nonneg"),
        CheckConstraint(
            "registered_capital_wan IS NULL OR registered_capital_wan >= 0", name="capital_nonneg"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    normalized_name: str = Field(
        index=True, max_length=200, description="去除地域/组织形式后的名称"
    )
    created_at: datetime = created_at_field()
    updated_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())


class ContactPersonBase(SQLModel):
    """Personal information: reaches an institution only after recorded consent."""

    name: str = Field(min_length=1, max_length=50)
    title: str | None = Field(default=None, max_length=50, description="职务")
    phone: str | None = Field(default=None, max_length=30)
    email: str | None = Field(default=None, max_length=120)
    is_primary: bool = True


class ContactPerson(ContactPersonBase, table=True):
    """A contact person of an enterprise (联系人)."""

    __tablename__ = "contact_person"

    id: int | None = Field(default=None, primary_key=True)
    enterprise_id: int = Field(foreign_key="enterprise.id", index=True, ondelete="CASCADE")
    created_at: datetime = created_at_field()


__all__ = ["ContactPerson", "ContactPersonBase", "Enterprise", "EnterpriseBase"]
