"""Maillage settings: one pydantic-settings object, validated at start-up."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[1]

DEFAULT_EMBEDDING_MODEL = "intfloat/multilingual-e5-small"


def auto_shared_buffers(total_memory_bytes: int) -> str:
    """A quarter of the machine's memory, at least PostgreSQL's default (128 MB) and at most 1 GB, in MB."""
    return f"{min(max(total_memory_bytes // 4, 128 << 20), 1 << 30) >> 20}MB"


# A container's memory limit (cgroup v2, then v1): the machine's memory counts only up to it.
CGROUP_MEMORY_LIMIT_FILES = (Path("/sys/fs/cgroup/memory.max"), Path("/sys/fs/cgroup/memory/memory.limit_in_bytes"))


def available_memory_bytes(limit_files: tuple[Path, ...] = CGROUP_MEMORY_LIMIT_FILES) -> int:
    """The machine's memory, or its container's limit when lower ("max" or no file: no limit)."""
    import psutil

    total = psutil.virtual_memory().total
    for path in limit_files:
        try:
            limit = path.read_text().strip()
        except OSError:
            continue
        return min(total, int(limit)) if limit.isdigit() else total
    return total


class ConfigError(RuntimeError):
    """Raised when the configuration is invalid, with a message meant for the operator."""


class Settings(BaseSettings):
    """All configuration of Maillage, read from the environment (prefix ``MAILLAGE_``) or `.env`."""

    model_config = SettingsConfigDict(
        env_prefix="MAILLAGE_",
        env_file=".env",
        extra="ignore",
        validate_default=True,
    )

    env: Literal["dev", "test", "prod"] = "dev"
    database_url: str | None = Field(
        default=None,
        validation_alias="DATABASE_URL",
        description="PostgreSQL URL; unset means an embedded server under the home directory.",
    )
    home: Path = Field(
        default=PROJECT_ROOT / ".maillage",
        description="Local state: embedded database, models, caches.",
    )
    reference_data_dir: Path = Field(
        default=PROJECT_ROOT.parent / "shared" / "data",
        description="ROME 4.0, communes and QPV reference files.",
    )
    embedding_model: str = Field(
        default=DEFAULT_EMBEDDING_MODEL,
        description="Sentence-transformers model: a local folder or a Hugging Face id.",
    )
    embedding_model_dir: Path | None = Field(
        default=None,
        description="Folder of the offline model; default <home>/models/multilingual-e5-small.",
    )
    embedding_backend: Literal["torch", "onnx"] = "torch"
    embedding_batch_size: int = Field(default=32, ge=1, le=1024)
    api_host: str = "127.0.0.1"
    api_port: int = Field(default=8000, ge=1, le=65535)
    db_pool_min_size: int = Field(default=1, ge=0)
    db_pool_max_size: int = Field(default=8, ge=1)
    default_search_radius_km: float = Field(default=30.0, gt=0, le=1000)
    embedded_shared_buffers: str = Field(
        default="auto",
        pattern=r"^(auto|[1-9][0-9]*(kB|MB|GB))$",
        description="Embedded server's shared_buffers: auto = a quarter of memory (or container limit), 128 MB-1 GB.",
    )

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if not value.startswith(("postgresql://", "postgres://")):
            raise ValueError("DATABASE_URL must start with postgresql:// (or be unset for the embedded server)")
        return value

    @field_validator("home", "reference_data_dir", mode="after")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    @property
    def pgdata_dir(self) -> Path:
        """Data directory of the embedded PostgreSQL server."""
        return self.home / "pgdata"

    @property
    def embedded_shared_buffers_value(self) -> str:
        """The embedded server's shared_buffers, with `auto` resolved for this machine."""
        if self.embedded_shared_buffers != "auto":
            return self.embedded_shared_buffers
        return auto_shared_buffers(available_memory_bytes())

    @property
    def models_dir(self) -> Path:
        """Folder holding local embedding models and ranking artifacts."""
        return self.home / "models"

    @property
    def local_embedding_model_dir(self) -> Path:
        """Folder where `maillage embedder install` writes the offline model."""
        return self.embedding_model_dir or self.models_dir / "multilingual-e5-small"

    # Access (issue 4): adviser sign-in through OpenID Connect, company API keys, GDPR retention.
    oidc_issuer: str | None = Field(default=None, description="OIDC issuer of adviser tokens (ProConnect).")
    oidc_audience: str = Field(default="maillage", description="Audience (client id) adviser tokens must carry.")
    oidc_jwks_url: str | None = Field(default=None, description="JWKS URL of the OIDC provider.")
    oidc_leeway_seconds: int = Field(default=60, ge=0, le=600, description="Clock skew tolerated on tokens.")
    api_key_rate_per_minute: int = Field(default=120, ge=1, description="Requests per minute per API key.")
    # Adviser web interface (issue 7): authorization-code sign-in and the signed session cookie.
    oidc_client_secret: SecretStr | None = Field(default=None, description="OIDC client secret of the web app.")
    oidc_redirect_url: str | None = Field(
        default=None, description="Public URL of the web sign-in callback (https://…/connexion/oidc/retour)."
    )
    web_session_secret: SecretStr | None = Field(
        default=None, description="Secret signing web session cookies (required in prod; derived locally in dev)."
    )
    web_session_hours: int = Field(default=8, ge=1, le=24, description="Lifetime of a web session.")
    idempotency_ttl_hours: int = Field(default=24, ge=1, le=720)
    retention_inactive_days: int = Field(default=730, ge=1, description="Inactivity before a profile is flagged.")
    retention_grace_days: int = Field(default=30, ge=0, description="Days between flag and anonymisation.")

    # Learning from feedback (issue 6): re-training data and the promotion gate (nDCG@10 on the holdout).
    learning_window_days: int = Field(default=365, ge=1, description="Match logs older than this are not used.")
    learning_holdout_share: float = Field(default=0.2, gt=0, lt=1, description="Latest share of lists held out.")
    learning_min_requests: int = Field(default=200, ge=10, description="Labelled lists needed to train.")
    learning_min_eval_queries: int = Field(default=50, ge=1, description="Holdout lists with a positive needed.")
    learning_min_gain: float = Field(default=0.005, ge=0, description="nDCG@10 gain needed over the champion.")
    learning_min_gain_over_v0: float = Field(default=0.0, ge=0, description="nDCG@10 gain needed over v0.")
    learning_max_slice_loss: float = Field(default=0.02, ge=0, description="nDCG@10 a slice may lose.")
    learning_min_slice_queries: int = Field(default=30, ge=1, description="Smaller slices are reported, not gated.")
    learning_threads: int = Field(default=0, ge=0, le=256, description="Training threads (0 = every core).")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the process-wide settings, failing fast with a readable message on bad config."""
    try:
        return Settings()
    except ValidationError as exc:
        lines = [f"  {'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()]
        raise ConfigError("Invalid Maillage configuration:\n" + "\n".join(lines)) from exc
