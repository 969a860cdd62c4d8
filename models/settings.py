"""Runtime configuration, read once from the environment (prefix-free names, as operators expect)."""

import os
from functools import lru_cache
from typing import Literal

from pydantic import Field
from pydantic_settings import (
    BaseSettings,
    DotEnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

#: Names the dotenv file to read instead of `./.env`; empty: none (the test suite sets it empty, so
#: the `.env` that `make demo` writes never reaches a test).
ENV_FILE_VARIABLE = "MATCHMAKER_ENV_FILE"


class DotEnvSettings(BaseSettings):
    """Settings read from the environment, then from `.env` (or `$MATCHMAKER_ENV_FILE`)."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """The usual sources, with the dotenv file `MATCHMAKER_ENV_FILE` names when it is set."""
        if ENV_FILE_VARIABLE in os.environ:
            chosen = os.environ[ENV_FILE_VARIABLE] or None
            dotenv_settings = DotEnvSettingsSource(settings_cls, env_file=chosen)
        return init_settings, env_settings, dotenv_settings, file_secret_settings


class Settings(DotEnvSettings):
    """Every knob the services read; the pure core (`matching/`) never sees this object."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    database_url: str = Field(
        default="sqlite:///var/matchmaker.sqlite",
        description="SQLAlchemy URL; a postgresql+psycopg:// URL selects PostgreSQL.",
    )
    redis_url: str = Field(default="redis://localhost:6379/0")
    celery_always_eager: bool = Field(
        default=False, description="Run tasks in-process (the embedded default of `make demo`)."
    )
    smtp_host: str = "localhost"
    smtp_port: int = 25
    mail_from: str = "matchmaker@center.example"
    console_url: str = Field(
        default="http://localhost:8000", description="The console's address, named in notice mails."
    )
    secret_key: str | None = Field(
        default=None, description="Signs tokens; no default in production."
    )
    sql_echo: bool = False
    timezone: str = Field(
        default="Asia/Shanghai",
        description="The center's IANA time zone: what 'today' is (models/clock.py).",
    )

    # Accounts, login and the audit anchor (services/accounts/service.py, services/accounts/login_guard.py,
    # services/audit/anchor.py).
    login_max_failures_per_account: int = Field(
        default=5, ge=1, description="Failed logins per account in a window, then HTTP 429."
    )
    login_max_failures_per_source: int = Field(
        default=10, ge=1, description="Failed logins per source address in a window, then 429."
    )
    login_throttle_window_seconds: int = Field(default=300, ge=1)
    login_lockout_after: int = Field(
        default=10,
        ge=1,
        description="Consecutive failed logins that lock an account (admin unlocks).",
    )
    forwarded_allow_ips: str = Field(
        default="",
        description="Proxies whose X-Forwarded-For uvicorn trusts (IPs/CIDRs, comma-separated); none.",
    )
    audit_anchor_key: str | None = Field(
        default=None, description="Signs audit anchors (HMAC-SHA256); falls back to SECRET_KEY."
    )
    audit_anchor_path: str = Field(
        default="var/audit-anchors.jsonl", description="Append-only file of signed audit anchors."
    )

    # Transport limits (api/guards.py, api/transport.py, `matchmaker serve`; docs/security.md).
    # Per worker process unless said otherwise; a limit of 0 turns a per-client bound off.
    max_body_bytes: int = Field(
        default=20 * 1024 * 1024, ge=0, description="Largest request body (uploads included)."
    )
    public_body_max_bytes: int = Field(
        default=16 * 1024, ge=0, description="Largest body of a route open without credentials."
    )
    body_idle_timeout: float = Field(
        default=10.0, gt=0, description="Most seconds between two pieces of a request body."
    )
    body_timeout: float = Field(
        default=120.0, gt=0, description="Most seconds to receive a whole request body."
    )
    header_timeout: float = Field(
        default=10.0, gt=0, description="Most seconds to receive a request's headers."
    )
    max_header_bytes: int = Field(
        default=16 * 1024, ge=1024, description="Largest request line and headers together."
    )
    keep_alive_timeout: float = Field(
        default=5.0, gt=0, description="An idle keep-alive connection is closed after (s)."
    )
    max_connections_per_client: int = Field(
        default=64, ge=0, description="Open connections per client address and worker (0: any)."
    )
    send_timeout: float = Field(
        default=10.0, gt=0, description="Most seconds a client may leave a response untaken."
    )
    db_lock_timeout: float = Field(
        default=10.0, gt=0, description="SQLite: most seconds a write waits for the lock, then 503."
    )
    api_docs: Literal["public", "staff", "off"] = Field(
        default="staff", description="/docs, /redoc, /openapi.json: to anyone, staff only, or off."
    )
    upload_tmp_dir: str | None = Field(
        default=None, description="Where uploads are kept while imported (default: the OS's)."
    )

    # Celery (workers/celery_app.py). The visibility timeout must exceed both the hard time limit
    # and the longest retry countdown, or Redis hands a still-running (or ETA-held) task to a
    # second worker; the digest claim makes that harmless, but it wastes work.
    celery_visibility_timeout: int = Field(default=3600, ge=1)
    celery_soft_time_limit: int = Field(default=60, ge=1)
    celery_hard_time_limit: int = Field(default=90, ge=1)
    celery_unacked_restore_interval: int = Field(
        default=10, ge=1, description="Seconds between sweeps that requeue a dead worker's tasks."
    )
    celery_unacked_mutex_expire: int = Field(default=300, ge=1)

    # Deal-flow digests (services/digests/service.py).
    digest_max_items: int = Field(default=20, ge=1, description="Teasers per digest, best first.")
    digest_max_attempts: int = Field(default=5, ge=1, description="Then the delivery is dead.")
    digest_retry_base_seconds: float = Field(default=30.0, gt=0)
    digest_retry_max_seconds: float = Field(default=1800.0, gt=0)
    digest_send_timeout: float = Field(default=20.0, gt=0, description="SMTP/HTTP timeout (s).")
    digest_claim_lock_timeout: float = Field(
        default=5.0, gt=0, description="How long a delivery waits for another worker's claim (s)."
    )
    digest_sweep_after_seconds: int = Field(
        default=900, ge=1, description="Pending/failed deliveries older than this are requeued."
    )
    digest_send_hour: int = Field(default=8, ge=0, le=23, description="Beijing hour of the run.")
    mail_domain: str = Field(default="center.example", description="Right side of Message-IDs.")
    # Subscriptions (services/digests/checks.py, services/digests/subscriptions.py).
    webhook_allow_http: bool = Field(
        default=False, description="Accept http:// webhook URLs (tests and development only)."
    )
    webhook_allowed_hosts: list[str] = Field(
        default_factory=list,
        description="Webhook hosts (names, IPs or CIDR networks) exempt from the rule against "
        'private, loopback, link-local, multicast and reserved addresses; JSON, e.g. ["127.0.0.1"].',
    )
    subscription_confirm_hours: int = Field(
        default=48, ge=1, description="How long an e-mail confirmation code stays valid (hours)."
    )
    subscription_confirm_daily_limit: int = Field(
        default=10,
        ge=0,
        description="Unconfirmed addresses one institution may add per 24 h (confirmation mails).",
    )
    digest_rank_with_core: bool = Field(
        default=True,
        description="Order digests with services.recommendations.service (else criteria fit).",
    )
    reranker_model_dir: str = Field(
        default="var/models",
        description="Where trained re-rankers are published (a folder per version).",
    )
    retrain_min_outcomes: int = Field(
        default=200, ge=1, description="Recorded outcomes needed before the re-ranker is trained."
    )
    retrain_min_new_outcomes: int = Field(
        default=50, ge=1, description="New outcomes since the last training that trigger a retrain."
    )


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings (cached; tests build their own `Settings`)."""
    return Settings()
