"""CLI contracts of issue 23 run as `matchmaker` runs them (a process of its own, eager tasks, a
SQLite file, a local SMTP server): `export digest-items`, `model use|list`,
`roadshow schedule --json` waiting for its task, `import --json` and `export contacts`."""

import csv
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from models import Institution, RankerModel, SlateRun, Subscription
from models.db import make_engine
from models.reference import DemandStatus, FinancingType, InstitutionKind, SlateRunStatus
from services.recommendations.published import publish
from tests import factories
from tests.ingestion.helpers import write_xlsx
from tests.services.recommendations.test_published import AT, trained
from tests.services.roadshow.test_service import make_roadshow
from tests.workers.receivers import smtp_server

REPO_ROOT = Path(__file__).resolve().parents[2]
PERIOD = "2030-01-01"


@pytest.fixture
def database(tmp_path: Path, sqlite_template: Path) -> Iterator[tuple[str, Engine]]:
    path = tmp_path / "cli.sqlite"
    shutil.copy(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    yield f"sqlite:///{path}", engine
    engine.dispose()


def matchmaker(url: str, *args: str, smtp_port: int = 1) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.update(DATABASE_URL=url, CELERY_ALWAYS_EAGER="1", REDIS_URL="redis://127.0.0.1:1/0",
               SMTP_HOST="127.0.0.1", SMTP_PORT=str(smtp_port), DIGEST_RANK_WITH_CORE="0",
               MATCHMAKER_ENV_FILE="", PYTHONWARNINGS="ignore")  # fmt: skip
    return subprocess.run([sys.executable, "-c", "from cli import app; app()", *args], env=env,
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=180)  # fmt: skip


def _institution(session: Session, kind: InstitutionKind, **over: object) -> Institution:
    return factories.institution(session, **({"kind": kind, "agreement_end": None} | over))


def _seed_digests(engine: Engine) -> dict[str, int]:
    with Session(engine) as session:
        bank = _institution(session, InstitutionKind.bank)
        vc = _institution(session, InstitutionKind.vc)
        gone = _institution(session, InstitutionKind.bank, agreement_end=date(2025, 12, 31))
        subs = {name: factories.subscription(session, institution_id=inst.id, frequency="daily",
                                             financing_types=types, email=f"{name}@example.com")
                for name, inst, types in [("loan", bank, ["loan"]), ("equity", vc, ["equity"]),
                                          ("gone", gone, [])]}  # fmt: skip
        ids = {t.value: factories.demand(session, financing_type=t).id for t in FinancingType}
        factories.demand(session, status=DemandStatus.withdrawn)
        session.commit()
        return (
            {f"sub_{k}": v.id or 0 for k, v in subs.items()}
            | {k: v or 0 for k, v in ids.items()}
            | {"bank": bank.id or 0, "vc": vc.id or 0}
        )


def _read(out: Path) -> tuple[list[str], set[tuple[str, ...]]]:
    with out.open(encoding="utf-8-sig", newline="") as fh:
        header, *rows = list(csv.reader(fh))
    return header, {tuple(r) for r in rows}


def test_export_digest_items_lists_what_the_period_would_and_did_contain(
    database: tuple[str, Engine], tmp_path: Path
) -> None:
    url, engine = database
    ids = _seed_digests(engine)
    expected = {
        (str(ids["sub_loan"]), str(ids["bank"]), str(ids["loan"]), "loan"),
        (str(ids["sub_loan"]), str(ids["bank"]), str(ids["mixed"]), "mixed"),
        (str(ids["sub_equity"]), str(ids["vc"]), str(ids["equity"]), "equity"),
        (str(ids["sub_equity"]), str(ids["vc"]), str(ids["mixed"]), "mixed"),
    }
    out = tmp_path / "would.csv"
    done = matchmaker(url, "export", "digest-items", "--period", PERIOD, "--format", "csv",
                      "--out", str(out))  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert _read(out) == (["subscription_id", "institution_id", "demand_id", "financing_type"],
                          expected)  # fmt: skip
    with smtp_server() as (port, inbox):
        sent = matchmaker(url, "digests", "run", "--period", PERIOD, smtp_port=port)
    assert sent.returncode == 0, sent.stderr
    assert "送达 2 条" in sent.stdout and "暂停 1 个" in sent.stdout
    assert sorted(str(m["To"]) for m in inbox.messages) == ["equity@example.com",
                                                            "loan@example.com"]  # fmt: skip
    out = tmp_path / "did.csv"
    assert matchmaker(url, "export", "digest-items", "--period", PERIOD, "--format", "csv",
                      "--out", str(out)).returncode == 0  # fmt: skip
    assert _read(out)[1] == expected
    with Session(engine) as session:
        gone = session.get(Subscription, ids["sub_gone"])
        assert gone is not None and gone.paused_reason == "入驻协议已于 2025-12-31 到期，暂停推送"


def test_export_digest_items_needs_a_valid_period(
    database: tuple[str, Engine], tmp_path: Path
) -> None:
    url, _ = database
    missing = matchmaker(url, "export", "digest-items", "--out", str(tmp_path / "x.csv"))
    assert missing.returncode == 2 and "--period" in missing.stderr
    wrong = matchmaker(url, "export", "digest-items", "--period", "2030-13",
                       "--out", str(tmp_path / "x.csv"))  # fmt: skip
    assert wrong.returncode == 2 and "格式无效" in wrong.stderr
    assert not (tmp_path / "x.csv").exists()


def test_model_use_switches_every_ranking_and_rolls_back(
    database: tuple[str, Engine], tmp_path: Path
) -> None:
    url, engine = database
    with Session(engine) as session:
        bank = _institution(session, InstitutionKind.bank)
        factories.loan_product(session, bank, min_amount_wan=100, max_amount_wan=1000)
        demand_id = factories.demand(session).id
        version = publish(session, trained(5), tmp_path / "models", {"recall10_learned": 0.3},
                          240, 60, AT).version  # fmt: skip
        session.commit()

    def served() -> str:
        done = matchmaker(url, "recommend", str(demand_id), "--json")
        assert done.returncode == 0, done.stderr
        return str(json.loads(done.stdout)["model_version"])

    assert served() == version  # a published model is served at once
    rolled = matchmaker(url, "model", "use", "rules", "--json")
    assert rolled.returncode == 0 and json.loads(rolled.stdout) == {"served": "rules-1"}
    assert served() == "rules-1"
    back = matchmaker(url, "model", "use", version)
    assert back.returncode == 0 and version in back.stdout and served() == version
    listed = json.loads(matchmaker(url, "model", "list", "--json").stdout)
    assert listed["served"] == version and listed["models"][0]["metrics"] == {
        "recall10_learned": 0.3
    }
    unknown = matchmaker(url, "model", "use", "ltr-0000000000")
    assert unknown.returncode == 2 and "未发布" in unknown.stderr
    with Session(engine) as session:
        rows = session.exec(select(RankerModel)).all()
        assert [(r.version, r.served) for r in rows] == [(version, True)]


def test_roadshow_schedule_json_waits_for_the_task(database: tuple[str, Engine]) -> None:
    url, engine = database
    with Session(engine) as session:
        event_id = make_roadshow(session).id
        session.commit()
    done = matchmaker(url, "roadshow", "schedule", str(event_id), "--json", "--time-limit", "2")
    assert done.returncode == 0, done.stderr
    slate = json.loads(done.stdout)
    assert list(slate) == ["status", "objective", "bound", "pitches", "attendance", "meetings",
                           "unplaced"]  # fmt: skip
    assert slate["status"] in ("optimal", "feasible") and len(slate["pitches"]) == 6
    with Session(engine) as session:
        [run] = session.exec(select(SlateRun)).all()
        assert (run.status, run.requested_by) == (SlateRunStatus.done, "cli")
        assert run.result is not None and run.result["slate"] == slate


def test_import_json_and_export_contacts_as_processes(
    database: tuple[str, Engine], tmp_path: Path
) -> None:
    """`import FILE --json` lists `warnings` and `contacts_stored`; `export contacts --format
    csv|xlsx --out F` writes only for an administrator."""
    url, engine = database
    book = write_xlsx(tmp_path / "需求.xlsx", {"需求": [
        ["企业名称", "所属行业", "融资方式", "拟融资金额（元）", "联系人", "手机"],
        ["杭州和雷实业股份有限公司", "医疗器械", "贷款", 8_000_000, "张三", "13800138000"],
        ["杭州场地汇科技有限公司", "会展服务", "贷款", 600, "李四", None],
    ]})  # fmt: skip
    done = matchmaker(url, "import", str(book), "--json")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert (summary["inserted"], summary["contacts_stored"]) == (1, 1)  # row 3 held: 600 元?
    [warning] = [w for w in summary["warnings"] if w["rule"] == "amount_unit"]
    assert (warning["sheet"], warning["row"], warning["column"], warning["value"]) == (
        "需求", 3, "拟融资金额(元)", 600)  # fmt: skip
    with Session(engine) as session:
        factories.user(session, username="admin1", role="admin")
        factories.user(session, username="mm1", role="matchmaker")
        session.commit()
    refused = tmp_path / "refused.csv"
    denied = matchmaker(url, "export", "contacts", "--format", "csv", "--out", str(refused),
                        "--user", "mm1")  # fmt: skip
    assert denied.returncode == 2 and "仅限管理员" in denied.stderr and not refused.exists()
    for fmt in ("csv", "xlsx"):
        out = tmp_path / f"contacts.{fmt}"
        done = matchmaker(url, "export", "contacts", "--format", fmt, "--out", str(out),
                          "--user", "admin1")  # fmt: skip
        assert done.returncode == 0 and "已导出 1 行" in done.stdout, done.stderr
    with (tmp_path / "contacts.csv").open(encoding="utf-8-sig") as fh:
        rows = {(r["enterprise_name"], r["name"], r["phone"]) for r in csv.DictReader(fh)}
    assert rows == {("杭州和雷实业股份有限公司", "张三", "13800138000")}
    assert load_workbook(tmp_path / "contacts.xlsx").active.max_row == 2  # type: ignore[union-attr]
