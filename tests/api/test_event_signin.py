"""The QR sign-in page over HTTP: staff create a training, the QR code carries the sign-in link,
a person signs in from another (anonymous) client, hostile input changes nothing, and the staff
check-in list shows them."""

import re
from datetime import datetime
from typing import Any

import segno
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from models.clock import center_zone
from tests.api.conftest import PASSWORD, World
from tests.api.db_state import snapshot


def _csrf(page: str) -> str:
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token is not None
    return token[1]


def _console(client: TestClient, username: str) -> None:
    page = client.get("/console/login")
    done = client.post("/console/login", follow_redirects=False,
                       data={"username": username, "password": PASSWORD, "csrf_token": _csrf(page.text)})  # fmt: skip
    assert done.status_code == 303, done.text


def _domain_rows(engine: Engine) -> dict[str, Any]:
    return {k: v for k, v in snapshot(engine).items() if k != "login_throttle"}


def _training(client: TestClient) -> tuple[str, str]:
    _console(client, "mm")
    form = client.get("/console/events")
    today = datetime.now(center_zone()).date().isoformat()
    made = client.post("/console/events", follow_redirects=False, data={
        "csrf_token": _csrf(form.text), "kind": "training", "title": "股改专题培训（签到测试）",
        "day": today, "starts": "00:00", "ends": "23:59", "venue": "中心三楼"})  # fmt: skip
    assert made.status_code == 303, made.text
    page = client.get(made.headers["location"])
    url = re.search(r'id="signin-url" href="([^"]+)"', page.text)
    assert url is not None
    return made.headers["location"], url[1]


def test_a_person_signs_in_through_the_qr_link_and_staff_see_them(
    client: TestClient, world_engine: tuple[Engine, World]
) -> None:
    event_page, url = _training(client)
    svg = client.get(event_page + "/qr.svg")
    assert svg.headers["content-type"].startswith("image/svg+xml")
    title = "股改专题培训（签到测试） 签到二维码"
    assert svg.text == segno.make(url, error="m").svg_inline(scale=6, title=title)
    path = url.removeprefix("http://testserver")
    with TestClient(client.app) as phone:  # type: ignore[arg-type]  # no session: a visitor
        form = phone.get(path)
        assert form.status_code == 200 and "个人信息处理说明" in form.text
        done = phone.post(path, data={"csrf_token": _csrf(form.text), "name": "王小明",
                                      "organisation": "深圳市示例科技有限公司",
                                      "phone": "139-1234-5678", "consent": "true"})  # fmt: skip
        assert done.status_code == 200 and "签到成功" in done.text and "139****5678" in done.text
        again = phone.post(path, data={"csrf_token": _csrf(form.text), "name": "王小明",
                                       "organisation": "某公司", "phone": "13912345678",
                                       "consent": "true"})  # fmt: skip
        assert again.status_code == 409 and "已签到" in again.text
    listing = client.get(event_page)
    assert (
        "王小明" in listing.text
        and "139****5678" in listing.text
        and "13912345678" not in listing.text
    )
    assert re.search(r'id="checked-count">1<', listing.text)


def test_hostile_sign_ins_are_refused_in_chinese_and_change_nothing(
    client: TestClient, world_engine: tuple[Engine, World]
) -> None:
    _, url = _training(client)
    path = url.removeprefix("http://testserver")
    engine = world_engine[0]
    with TestClient(client.app) as phone:  # type: ignore[arg-type]
        form = phone.get(path)
        token = _csrf(form.text)
        before = _domain_rows(engine)
        cases = [
            ({"name": "<script>alert(1)</script>", "organisation": "某公司", "phone": "13912345678",
              "consent": "true"}, 400, "姓名"),
            ({"name": "王小明", "organisation": "某公司'; DROP TABLE event;--", "phone": "13912345678",
              "consent": "true"}, 400, "单位名称"),
            ({"name": "王小明", "organisation": "某公司", "phone": "12345", "consent": "true"}, 400, "手机号"),
            ({"name": "王小明", "organisation": "某公司", "phone": "13912345678"}, 400, "个人信息"),
        ]  # fmt: skip
        for data, status, word in cases:
            refused = phone.post(path, data={"csrf_token": token, **data})
            assert refused.status_code == status and word in refused.text, refused.text
        huge = phone.post(path, data={"csrf_token": token, "name": "王" * 5000,
                                      "organisation": "某公司", "phone": "13912345678",
                                      "consent": "true"})  # fmt: skip
        assert huge.status_code in (413, 422)
        no_csrf = phone.post(path, data={"name": "王小明", "organisation": "某公司",
                                         "phone": "13912345678", "consent": "true"})  # fmt: skip
        assert no_csrf.status_code == 403
        wrong = phone.get(path[:-3] + "abc")
        assert wrong.status_code == 404 and "签到链接无效" in wrong.text
        assert _domain_rows(engine) == before
