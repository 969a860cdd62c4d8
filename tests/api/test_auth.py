"""Authentication: passwords, tokens (expired, tampered, `alg: none`), API keys, throttling."""

import base64
import json
from datetime import UTC, datetime, timedelta

import jwt
from fastapi.testclient import TestClient

from api.security import create_token
from models.settings import Settings
from tests.api.conftest import PASSWORD, SECRET, World, login


def test_login_returns_a_bearer_token_that_identifies_the_user(client: TestClient) -> None:
    response = client.post("/auth/token", data={"username": "mm", "password": PASSWORD})
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    me = client.get("/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.json() == {"username": "mm", "role": "matchmaker", "institution_id": None,
                         "enterprise_id": None}  # fmt: skip


def test_wrong_password_is_401_problem_details_in_chinese(client: TestClient) -> None:
    response = client.post("/auth/token", data={"username": "mm", "password": "nope-nope"})
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["detail"] == "用户名或密码错误"


def test_repeated_failed_logins_are_throttled_with_429(client: TestClient) -> None:
    codes = [
        client.post("/auth/token", data={"username": "eva", "password": f"bad{i}"}).status_code
        for i in range(7)
    ]
    assert codes[:5] == [401] * 5 and codes[5:] == [429, 429]
    # the correct password is refused too while throttled
    ok = client.post("/auth/token", data={"username": "eva", "password": PASSWORD})
    assert ok.status_code == 429


def _b64(part: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=").decode()


def test_expired_tampered_and_alg_none_tokens_are_401(client: TestClient) -> None:
    settings = Settings(secret_key=SECRET)
    expired = create_token("admin", settings, now=datetime.now(UTC) - timedelta(days=2))
    good = create_token("admin", settings)
    header, payload, signature = good.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    tampered = ".".join([header, _b64(claims | {"sub": "mm"}), signature])
    none_alg = ".".join([_b64({"alg": "none", "typ": "JWT"}), payload, ""])
    other_key = jwt.encode(claims, "another-secret-key-of-sufficient-length!", algorithm="HS256")
    for token in (expired, tampered, none_alg, other_key, "garbage"):
        response = client.get("/auth/me", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401, token
    assert client.get("/auth/me", headers={"Authorization": f"Bearer {good}"}).status_code == 200


def test_api_key_authenticates_its_institution_until_revoked(
    client: TestClient, world: World
) -> None:
    headers = {"X-API-Key": world.api_key_a}
    me = client.get("/auth/me", headers=headers)
    assert me.status_code == 200 and me.json()["institution_id"] == world.inst_a
    revoked = client.delete(f"/api-keys/{world.key_a}", headers=login(client, "admin"))
    assert revoked.status_code == 200
    assert client.get("/auth/me", headers=headers).status_code == 401


def test_issued_api_key_has_256_bits_and_is_shown_once(client: TestClient, world: World) -> None:
    response = client.post(
        f"/institutions/{world.inst_a}/api-keys", headers=login(client, "inst_a")
    )
    assert response.status_code == 201
    key = response.json()["key"]
    assert len(base64.urlsafe_b64decode(key.removeprefix("tfm_") + "=")) >= 32
    other = client.post(f"/institutions/{world.inst_a}/api-keys", headers=login(client, "inst_b"))
    assert other.status_code == 404
