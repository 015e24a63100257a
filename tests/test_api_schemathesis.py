"""Property-based checks of every operation against the app's own OpenAPI, in-process (schemathesis).

With valid credentials: no server error, every response conforms to the documented schema and status codes.
Without or with bad credentials: every protected operation answers 401.
"""

from __future__ import annotations

import os
import uuid

import psycopg
import pytest
import schemathesis
from access_world import build_world
from fastapi.testclient import TestClient
from psycopg import sql
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from api.app import create_app
from matching.config import Settings
from matching.storage.database import connect

# The acceptance bar is 100 examples per operation; a quick local run may lower it.
MAX_EXAMPLES = int(os.environ.get("MAILLAGE_SCHEMATHESIS_EXAMPLES", "100"))
PUBLIC_PATHS = ("/healthz", "/readyz", "/.well-known/jwks.json")
BAD_CREDENTIALS = {"Authorization": "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.",
                   "X-API-Key": "mlg_000000000000_forged"}  # fmt: skip


class _Delegate:
    """The ASGI app schemathesis calls: it forwards to the app a fixture started (lifespan included)."""

    def __init__(self) -> None:
        self.target = create_app(Settings(env="test"), load_model=False)  # serves /openapi.json only

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "lifespan":  # the real app's lifespan runs under the fixture's TestClient
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        await self.target(scope, receive, send)


DELEGATE = _Delegate()
schema = schemathesis.openapi.from_asgi("/openapi.json", DELEGATE)
schema.config.generation.update(max_examples=MAX_EXAMPLES, database="none")
# Authentication answers before any parsing: the fuzzing phase alone (100 examples each) covers it.
protected = schemathesis.openapi.from_asgi("/openapi.json", DELEGATE).exclude(
    path=list(PUBLIC_PATHS)
)
protected.config.generation.update(max_examples=MAX_EXAMPLES, database="none")
protected.config.phases.update(phases=["examples", "fuzzing"])


@pytest.fixture(scope="module")
def live(pg_server, template_database, embedder, reference_data_dir, tmp_path_factory):
    """One database and one started app for the module; the world's credentials."""
    name = f"maillage_schemathesis_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_server.get_uri(), autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name),
                                                                       sql.Identifier(template_database)))  # fmt: skip
    settings = Settings(env="test", database_url=pg_server.get_uri(name), home=tmp_path_factory.mktemp("home"),
                        reference_data_dir=reference_data_dir, embedding_model_dir=Settings().local_embedding_model_dir,
                        api_key_rate_per_minute=100_000)  # fmt: skip
    with connect(settings.database_url) as conn:
        world = build_world(conn, settings)
    app = create_app(settings, embedder=embedder)
    with TestClient(app):
        DELEGATE.target = app
        yield world
    asgi._shutdown()  # schemathesis keeps an event-loop thread for the process: stop it now
    with psycopg.connect(pg_server.get_uri(), autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@schema.parametrize()
def test_every_operation_with_valid_credentials(case, live):
    headers = {**live.headers["admin_a"], **live.headers["company_1"]}
    # Schema-valid data may still name an unknown commune or ROME code: the 422 it gets is correct.
    # Negative cases are not judged on acceptance here: the credentials added after generation undo a "missing
    # Authorization" mutation, and a one-element array in a query string is the same on the wire as a string,
    # both reported as "accepted invalid data" (seen once, GET /v1/audit?object_id=…). Field-level 422s have
    # their own tests; 5xx and response conformance are still checked for every case.
    case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance, negative_data_rejection])


def _expect_401(case, response) -> None:
    # Coverage cases also try methods the path does not serve: those answer 405 before any authentication.
    expected = 401 if case.method.upper() == case.operation.method.upper() else 405
    assert response.status_code == expected, (case.method, case.path, response.status_code, response.text)


@protected.parametrize()
def test_every_protected_operation_without_or_with_bad_credentials_is_401(case, live):
    case.headers = {k: v for k, v in (case.headers or {}).items() if k.lower() not in ("authorization", "x-api-key")}
    _expect_401(case, case.call())
    _expect_401(case, case.call(headers=BAD_CREDENTIALS))
