"""An app over a migrated database seeded with two institutions, their records, and one user per role."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from api.main import create_app
from models import Complaint, ContactPerson, EvaluationPeriod, Event, ImportBatch, Subscription
from models.reference import ConsentScope, UserRole
from models.settings import Settings
from services.accounts.service import create_user, get_user, issue_api_key, use_password_hasher
from services.disclosure.service import record_consent
from tests import factories

PASSWORD = "correct-horse-battery"
# Argon2id still, with cheap parameters: the suite creates many users.
use_password_hasher(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
SECRET = "test-secret-key-for-signing-tokens-0123456789"


@dataclass
class World:
    """Ids of the seeded records, and the contact details that must never leak."""

    inst_a: int
    inst_b: int
    enterprise: int
    demand: int
    match_a: int
    deal_a: int
    product_a: int
    mandate_a: int
    consent_a: int
    key_a: int
    api_key_a: str
    subscription_a: int
    event: int
    complaint: int
    period: int
    batch: int
    contact_name: str
    contact_phone: str
    contact_email: str
    mm_user: int = 0  # the matchmaker's user id (staff routes)


def _seed(session: Session) -> World:
    bank_a = factories.institution(session, kind="bank", name="甲科创银行")
    vc_b = factories.institution(session, kind="vc", name="乙创业投资有限公司")
    product = factories.loan_product(session, bank_a)
    mandate = factories.mandate(session, bank_a)
    ent = factories.enterprise(session)
    contact = ContactPerson(enterprise_id=ent.id or 0, name="欧阳保密", phone="13912345678",
                            email="secret.person@example.com")  # fmt: skip
    session.add(contact)
    dem = factories.demand(session, ent)
    match = factories.match(session, dem, bank_a)
    deal = factories.deal(session, ent, bank_a, match_id=match.id)
    second = factories.enterprise(session)
    consent = record_consent(session, enterprise_id=second.id or 0, institution_id=bank_a.id or 0,
                             scopes=[ConsentScope.details], expires_at=None, actor="seed")  # fmt: skip
    for name, role, inst in [("admin", UserRole.admin, None), ("mm", UserRole.matchmaker, None),
                             ("eva", UserRole.evaluator, None), ("inst_a", UserRole.institution, bank_a.id),
                             ("inst_b", UserRole.institution, vc_b.id)]:  # fmt: skip
        create_user(session, name, PASSWORD, role, inst)
    # Enterprise users: ent_a of the enterprise with the demand, ent_b of the one with a consent.
    for name, enterprise in [("ent_a", ent), ("ent_b", second)]:
        create_user(session, name, PASSWORD, UserRole.enterprise, None,
                    enterprise_id=enterprise.id, email=f"{name}@example.com")  # fmt: skip
    key, plain = issue_api_key(session, bank_a.id or 0, "seed")
    extra = _seed_records(session, bank_a.id or 0)
    session.flush()
    return World(bank_a.id or 0, vc_b.id or 0, ent.id or 0, dem.id or 0, match.id or 0,
                 deal.id or 0, product.id or 0, mandate.id or 0, consent.id or 0, key.id or 0,
                 plain, *extra, contact.name, contact.phone or "", contact.email or "",
                 get_user(session, "mm").id or 0)  # fmt: skip


def _seed_records(session: Session, institution_id: int) -> tuple[int, int, int, int, int]:
    sub = Subscription(institution_id=institution_id, name="甲行科技贷订阅", email="a@example.com")
    event = Event(kind="roadshow", title="2025年第一期路演", starts_at=datetime(2025, 3, 1, 1, tzinfo=UTC),
                  ends_at=datetime(2025, 3, 1, 8, tzinfo=UTC))  # fmt: skip
    complaint = Complaint(kind="complaint", content="对接反馈不及时", submitter="seed")
    period = EvaluationPeriod(
        name="2025年度", starts_on=date(2025, 1, 1), ends_on=date(2025, 12, 31)
    )
    batch = ImportBatch(file_name="seed.xlsx", sha256="0" * 64, kind="enterprises", user="seed")
    rows = [sub, event, complaint, period, batch]
    session.add_all(rows)
    session.flush()
    return tuple(r.id or 0 for r in rows)  # type: ignore[return-value]


@pytest.fixture
def world_engine(committing_engine: Engine) -> Iterator[tuple[Engine, World]]:
    with Session(committing_engine) as session:
        world = _seed(session)
        session.commit()
    yield committing_engine, world


@pytest.fixture
def world(world_engine: tuple[Engine, World]) -> World:
    return world_engine[1]


@pytest.fixture
def client(world_engine: tuple[Engine, World]) -> Iterator[TestClient]:
    engine, _ = world_engine
    app = create_app(Settings(secret_key=SECRET, database_url="sqlite://"), engine=engine)
    with TestClient(app) as test_client:
        yield test_client


def login(client: TestClient, username: str) -> dict[str, str]:
    response = client.post("/auth/token", data={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def now() -> datetime:
    return datetime.now(UTC)


__all__ = ["PASSWORD", "SECRET", "World", "date", "login", "now"]
