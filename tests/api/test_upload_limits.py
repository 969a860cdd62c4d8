"""Issue #21, finding 6 and oversized CSV fields, through the upload: a zip bomb sent to a real
`matchmaker serve` process is refused with the limit named, the server's memory stays flat, and
nothing reaches the database; over-wide and over-long CSV files are clear 400s."""

import os
import secrets
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from models.db import make_engine
from models.migrate import upgrade_to_head
from models.reference import UserRole
from services.accounts.service import create_user
from tests.api.conftest import login
from tests.ingestion.helpers import huge_cell_xlsx, write_csv

BIN = Path(sys.executable).parent / "matchmaker"
PASSWORD = "upload-limits-password-2026"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class Served:
    """A `matchmaker serve` process over its own SQLite file."""

    url: str
    pid: int
    db: Path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _kib(pid: int, field: str) -> int:
    """A memory figure of the process, from /proc (VmHWM: its peak resident set)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(f"{field} missing")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    db = tmp_path_factory.mktemp("serve") / "center.sqlite"
    engine = make_engine(f"sqlite:///{db}")
    upgrade_to_head(engine)
    with Session(engine) as session:
        create_user(session, "mm", PASSWORD, UserRole.matchmaker, None)
        session.commit()
    engine.dispose()
    port = _free_port()
    env = os.environ | {"DATABASE_URL": f"sqlite:///{db}", "SECRET_KEY": secrets.token_urlsafe(48)}
    log = db.with_suffix(".log")
    with log.open("wb") as out:
        proc = subprocess.Popen([str(BIN), "serve", "--port", str(port)], env=env,
                                stdout=out, stderr=subprocess.STDOUT)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert proc.poll() is None, log.read_text(errors="replace")
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "matchmaker serve did not start"
            time.sleep(0.3)
        yield Served(url, proc.pid, db)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _batches(db: Path) -> tuple[int, int, int]:
    with sqlite3.connect(db) as conn:
        tables = ("import_batch", "import_row", "enterprise")
        return tuple(conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables)  # type: ignore[return-value]


def test_a_zip_bomb_upload_is_refused_by_a_real_server_in_flat_memory(
    served: Served, tmp_path: Path
) -> None:
    """The attack of the issue: ~200 KB that unpacks to one 200 MB cell (the server grew 1.8 GB)."""
    bomb = huge_cell_xlsx(tmp_path / "bomb.xlsx", b"A" * (1 << 20), 200, shared=True)
    assert bomb.stat().st_size < 300_000
    with httpx.Client(base_url=served.url, timeout=120) as client:
        token = client.post("/auth/token", data={"username": "mm", "password": PASSWORD})
        assert token.status_code == 200, token.text
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        before, peak_before = _batches(served.db), _kib(served.pid, "VmHWM")
        response = client.post("/imports", headers=headers,
                               files={"file": ("bomb.xlsx", bomb.read_bytes(), XLSX)})  # fmt: skip
        growth_mib = (_kib(served.pid, "VmHWM") - peak_before) / 1024
        assert response.status_code == 400, response.text
        problem = response.json()
        assert problem["field"] == "file"
        assert problem["detail"].startswith("文件“bomb.xlsx”中的 xl/sharedStrings.xml 压缩比为")
        assert "超过 100 倍的上限" in problem["detail"]
        assert growth_mib < 64, f"the server's peak memory grew by {growth_mib:.0f} MB"
        assert _batches(served.db) == before
        assert client.get("/health").status_code == 200


def test_a_header_of_501_columns_is_a_400_naming_the_count(
    client: TestClient, tmp_path: Path
) -> None:
    row = ["企业名称", "统一社会信用代码", *[f"备注{i}" for i in range(499)]]
    path = write_csv(tmp_path / "wide.csv", [row, ["深圳市华芯科技有限公司", ""]])
    response = client.post("/imports", headers=login(client, "mm"), data={"kind": "enterprises"},
                           files={"file": ("wide.csv", path.read_bytes(), "text/csv")})  # fmt: skip
    assert response.status_code == 400, response.text
    assert response.json()["detail"].startswith("文件“wide.csv”的表头有 501 列，超过上限 500 列")


@pytest.mark.parametrize(("length", "column"), [(40_000, "“经营范围”列"), (200_000, "第3列")])
def test_an_oversized_csv_field_is_a_400_naming_row_column_and_limit(
    client: TestClient, tmp_path: Path, length: int, column: str
) -> None:
    rows = [["企业名称", "统一社会信用代码", "经营范围"], ["甲科技有限公司", "", "研" * length]]
    path = write_csv(tmp_path / "long.csv", rows)
    response = client.post("/imports", headers=login(client, "mm"), data={"kind": "enterprises"},
                           files={"file": ("long.csv", path.read_bytes(), "text/csv")})  # fmt: skip
    assert response.status_code == 400, response.text  # was a plain 500 (csv.Error)
    detail = response.json()["detail"]
    assert detail.startswith(f"文件“long.csv”第2行{column}的内容")
    assert "超过每个单元格 32,767 个字符的上限" in detail
