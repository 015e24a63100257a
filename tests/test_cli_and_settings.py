"""The `maillage` command line and the settings' fail-fast validation."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from maillage.cli import app
from matching.config import ConfigError, auto_shared_buffers, available_memory_bytes, get_settings

runner = CliRunner()


@pytest.fixture()
def cli_env(monkeypatch, database_url, tmp_path, settings):
    """Point the CLI at the test database and a temporary home."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("MAILLAGE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("MAILLAGE_EMBEDDING_MODEL_DIR", str(settings.local_embedding_model_dir))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_bad_database_url_fails_fast_with_the_field_named(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "mysql://somewhere/db")
    get_settings.cache_clear()
    try:
        with pytest.raises(ConfigError, match="DATABASE_URL must start with postgresql://"):
            get_settings()
        result = runner.invoke(app, ["db", "url"])
        assert result.exit_code == 2
        assert "Invalid Maillage configuration" in result.output
    finally:
        get_settings.cache_clear()


def test_bad_numeric_setting_is_refused(monkeypatch):
    monkeypatch.setenv("MAILLAGE_API_PORT", "99999")
    get_settings.cache_clear()
    try:
        with pytest.raises(ConfigError, match="api_port"):
            get_settings()
    finally:
        get_settings.cache_clear()


def test_db_upgrade_on_a_migrated_database_applies_nothing(cli_env):
    result = runner.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert "0 migration(s) applied" in result.output


def test_missing_reference_data_gives_a_clear_message(cli_env, tmp_path):
    result = runner.invoke(app, ["referentiels", "load", str(tmp_path / "nowhere")])
    assert result.exit_code == 1
    assert "data.gouv.fr" in result.output


def test_demo_load_then_embed_reports_counts_and_is_idempotent(cli_env, conn):
    result = runner.invoke(app, ["demo", "load", "--offers", "30", "--candidates", "3"])
    assert result.exit_code == 0, result.output
    assert "30 offers, 3 candidates" in result.output
    assert "already present" in runner.invoke(app, ["demo", "load"]).output
    result = runner.invoke(app, ["embed"])
    assert result.exit_code == 0, result.output
    assert "embedded 30 offer(s) and 3 candidate(s)" in result.output
    assert "embedded 0 offer(s) and 0 candidate(s)" in runner.invoke(app, ["embed"]).output
    missing = conn.execute("SELECT count(*) AS n FROM offers WHERE embedding IS NULL").fetchone()["n"]
    assert missing == 0


def test_embedded_shared_buffers_auto_is_a_quarter_of_memory_within_bounds(monkeypatch):
    assert auto_shared_buffers(2 << 30) == "512MB"
    assert auto_shared_buffers(256 << 20) == "128MB"
    assert auto_shared_buffers(64 << 30) == "1024MB"
    monkeypatch.setenv("MAILLAGE_EMBEDDED_SHARED_BUFFERS", "256MB")
    get_settings.cache_clear()
    assert get_settings().embedded_shared_buffers_value == "256MB"
    monkeypatch.setenv("MAILLAGE_EMBEDDED_SHARED_BUFFERS", "lots")
    get_settings.cache_clear()
    with pytest.raises(ConfigError, match="embedded_shared_buffers"):
        get_settings()
    get_settings.cache_clear()


def test_available_memory_counts_a_containers_limit(tmp_path):
    import psutil

    machine = psutil.virtual_memory().total
    limited, unlimited, v1 = tmp_path / "memory.max", tmp_path / "unlimited", tmp_path / "limit_in_bytes"
    limited.write_text(f"{2 << 30}\n")
    unlimited.write_text("max\n")
    v1.write_text(f"{machine * 4}\n")
    assert available_memory_bytes((limited,)) == min(machine, 2 << 30)
    assert available_memory_bytes((tmp_path / "absent", limited)) == min(machine, 2 << 30)
    assert available_memory_bytes((unlimited, limited)) == machine
    assert available_memory_bytes((v1,)) == machine
    assert available_memory_bytes((tmp_path / "absent",)) == machine
