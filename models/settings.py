"""Runtime configuration, read once from the environment (prefix-free names, as operators expect)."""

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
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
    secret_key: str | None = Field(
        default=None, description="Signs tokens; no default in production."
    )
    sql_echo: bool = False


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings (cached; tests build their own `Settings`)."""
    return Settings()
