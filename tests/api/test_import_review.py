"""An import's change set and its rows held for review reach the API's summary and the
console's batch page (issue 23: no silent overwrite, a held row is visible)."""

import random
import re

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from api.web.auth import SESSION_COOKIE, session_cookie
from ingestion.uscc import make_uscc
from models.settings import Settings
from tests.api.conftest import SECRET, World, login
from tests.api.db_state import snapshot

RNG = random.Random(5)
USCC = [make_uscc(RNG, "330106") for _ in range(2)]
HEADER = "企业名称,统一社会信用代码,成立日期,所在区域\n"
FIRMS = f"杭州星星科技有限公司,{USCC[0]},2016-05-01,杭州\n杭州星星电子有限公司,{USCC[1]},2017-07-01,杭州\n"


def _data(engine: Engine) -> dict[str, object]:
    bookkeeping = ("import_batch", "import_row", "audit_log")
    return {t: rows for t, rows in snapshot(engine).items() if t not in bookkeeping}


def _upload(client: TestClient, name: str, text: str) -> dict[str, object]:
    files = {"file": (name, text.encode(), "text/csv")}
    response = client.post("/imports", files=files, headers=login(client, "mm"))
    assert response.status_code == 201, response.text
    body: dict[str, object] = response.json()
    return body


def test_the_change_set_and_held_rows_are_in_the_summary_and_on_the_batch_page(
    world_engine: tuple[Engine, World], client: TestClient
) -> None:
    engine, _ = world_engine
    _upload(client, "firms.csv", HEADER + FIRMS)
    before = _data(engine)
    held = _upload(client, "brand.csv", HEADER + "星星,,,杭州\n")  # two firms hold the brand
    assert _data(engine) == before  # only the batch, its provenance row and the audit are new
    assert held["held"] == 1 and held["inserted"] == 0 and held["changes"] == []
    changed = _upload(
        client, "changed.csv", HEADER + f"杭州星星科技有限公司,{USCC[0]},2015-05-01,杭州\n"
    )
    assert changed["changes"] == [
        {"enterprise_id": changed["changes"][0]["enterprise_id"],  # type: ignore[index]
         "legal_name": "杭州星星科技有限公司", "sheet": "", "row": 2, "field": "founded_on",
         "label": "成立日期", "old": "2016-05-01", "new": "2015-05-01"}
    ]  # fmt: skip
    client.cookies.set(
        SESSION_COOKIE, session_cookie("mm", Settings(secret_key=SECRET, database_url="sqlite://"))
    )
    page = client.get(f"/console/imports/{changed['batch_id']}").text
    assert "对已有企业的变更（1 项）" in page and "2016-05-01" in page and "2015-05-01" in page
    page = client.get(f"/console/imports/{held['batch_id']}").text
    assert "待复核的行（未导入，1 行）" in page and "对应多家企业" in page
    # A console upload shows its preview first (nothing loaded); the summary after 确认导入
    # lists the held row like the batch page.
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/console/imports").text)
    assert token is not None
    before = _data(engine)
    files = {"file": ("again.csv", (HEADER + "星星,,,杭州\n").encode(), "text/csv")}
    form, referer = {"csrf_token": token[1]}, {"referer": "http://testserver/console/imports"}
    preview = client.post("/console/imports", files=files, data=form, headers=referer)
    assert preview.status_code == 200, preview.text
    assert "尚未导入" in preview.text and 'data-count="preview_rows">1<' in preview.text
    # The preview reads no database: the row is held only when it is loaded.
    assert "星星" in preview.text and "将导入" in preview.text
    assert _data(engine) == before
    action = re.search(r'action="(/console/imports/preview/[^"/]+)"', preview.text)
    kind = re.search(r'name="kind" value="([^"]+)"', preview.text)
    assert action is not None and kind is not None
    posted = client.post(action[1], data={**form, "kind": kind[1]}, headers=referer)
    assert posted.status_code == 200, posted.text
    assert 'data-count="held">1<' in posted.text and "待复核的行（未导入，1 行）" in posted.text
    assert "对应多家企业" in posted.text
    assert _data(engine) == before  # held, not loaded
