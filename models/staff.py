"""Staff records (standard 5.3.2, 6.2.2): post, qualifications and training of each user."""

from datetime import date, datetime

from sqlalchemy import CheckConstraint
from sqlmodel import Field, SQLModel

from models.base import created_at_field


class StaffProfile(SQLModel, table=True):
    """A staff member's post (岗位) and duties; one per user."""

    __tablename__ = "staff_profile"

    user_id: int = Field(foreign_key="app_user.id", primary_key=True, ondelete="CASCADE")
    post: str = Field(min_length=1, max_length=60, description="岗位")
    duties: str | None = Field(default=None, max_length=500, description="岗位职责")
    updated_at: datetime = created_at_field()


class StaffQualification(SQLModel, table=True):
    """A qualification certificate (资格证书) a staff member holds."""

    __tablename__ = "staff_qualification"
    __table_args__ = (
        CheckConstraint("expires_on IS NULL OR expires_on >= obtained_on", name="validity"),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="app_user.id", index=True, ondelete="CASCADE")
    name: str = Field(min_length=1, max_length=100, description="证书名称")
    certificate_no: str | None = Field(default=None, max_length=60, description="证书编号")
    obtained_on: date
    expires_on: date | None = None
    created_at: datetime = created_at_field()


class TrainingRecord(SQLModel, table=True):
    """One professional training a staff member took (培训记录, standard 6.2.2.2)."""

    __tablename__ = "training_record"
    __table_args__ = (CheckConstraint("hours > 0", name="hours_positive"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="app_user.id", index=True, ondelete="CASCADE")
    day: date = Field(index=True)
    topic: str = Field(min_length=1, max_length=120, description="培训主题")
    hours: float = Field(gt=0, le=1000, description="学时")
    provider: str | None = Field(default=None, max_length=120, description="培训机构")
    created_at: datetime = created_at_field()
