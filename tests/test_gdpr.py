"""GDPR: export of everything held, erasure that leaves no row anywhere, retention with a moved clock."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from access_world import build_world, candidate_payload, offer_payload
from fastapi.testclient import TestClient
from psycopg import sql
from typer.testing import CliRunner

from api.app import create_app
from maillage.commands.access import advisers_app, companies_app, gdpr_app
from matching.config import get_settings
from matching.storage.audit import SYSTEM_ACTOR
from matching.storage.candidates import candidate_key, run_retention

TABLES = "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"


@pytest.fixture()
def world_client(settings, conn, embedder):
    world = build_world(conn, settings)
    with TestClient(create_app(settings, embedder=embedder)) as test_client:
        yield world, test_client


def _candidate_with_match_logs(client, conn, world, reference: str) -> str:
    """A candidate of structure A who was proposed an offer and gave feedback."""
    candidate_id = client.post("/v1/candidates", json=candidate_payload(world, reference),
                               headers=world.headers["adviser_a"]).json()["id"]  # fmt: skip
    offer_id = client.post("/v1/offers", json=offer_payload(world), headers=world.headers["company_1"]).json()["id"]
    request = conn.execute(
        "INSERT INTO match_requests (direction, structure_id, adviser_id, candidate_id, model_version, params) "
        "VALUES ('offers_for_candidate', %s, %s, %s, 'v1', %s) RETURNING id",
        (world.structures["A"], world.advisers["adviser_a"], candidate_id, f'{{"reference": "{reference}"}}'),
    ).fetchone()["id"]
    item = conn.execute(
        "INSERT INTO match_items (request_id, candidate_id, candidate_key, offer_id, rank, score, features) "
        "VALUES (%s, %s, %s, %s, 1, 0.8, '{\"distance_km\": 3.2}') RETURNING id",
        (request, candidate_id, candidate_id, offer_id),
    ).fetchone()["id"]
    conn.execute("INSERT INTO feedback (match_item_id, structure_id, adviser_id, event, comment) "
                 "VALUES (%s, %s, %s, 'interested', %s)",
                 (item, world.structures["A"], world.advisers["adviser_a"], f"{reference} est motivé"))  # fmt: skip
    conn.commit()
    return candidate_id


def _rows_mentioning(conn, needle: str) -> dict[str, int]:
    found = {}
    for table in [r["table_name"] for r in conn.execute(TABLES)]:
        query = sql.SQL("SELECT count(*) AS n FROM {} AS t WHERE t::text LIKE %s").format(sql.Identifier(table))
        n = conn.execute(query, (f"%{needle}%",)).fetchone()["n"]
        if n:
            found[table] = n
    return found


def test_export_holds_profile_match_logs_feedback_and_audit(world_client, conn):
    world, client = world_client
    candidate_id = _candidate_with_match_logs(client, conn, world, "EXPORT-1")
    export = client.get(f"/v1/candidates/{candidate_id}/export", headers=world.headers["admin_a"])
    assert export.status_code == 200, export.text
    body = export.json()
    assert body["candidate"]["profile"]["reference"] == "EXPORT-1" and len(body["embedding"]) == 384
    assert len(body["match_requests"]) == len(body["match_items"]) == len(body["feedback"]) == 1
    assert {"create", "export"} <= {entry["action"] for entry in body["audit"]}
    assert client.get(f"/v1/candidates/{candidate_id}/export", headers=world.headers["adviser_b"]).status_code == 404


def test_erasure_leaves_no_row_anywhere_and_keeps_training_data_anonymised(world_client, conn):
    world, client = world_client
    reference = "ERASE-ME-7731"
    candidate_id = _candidate_with_match_logs(client, conn, world, reference)
    client.get("/v1/candidates", headers=world.headers["adviser_a"])  # a list read, audited with the ids
    assert _rows_mentioning(conn, candidate_id) and _rows_mentioning(conn, reference)
    conn.commit()
    erased = client.delete(f"/v1/candidates/{candidate_id}", headers=world.headers["adviser_a"])
    assert erased.status_code == 200 and erased.json()["pseudonym"] == candidate_key(uuid.UUID(candidate_id))
    conn.rollback()
    assert _rows_mentioning(conn, candidate_id) == {}
    assert _rows_mentioning(conn, reference) == {}
    item = conn.execute("SELECT candidate_id, candidate_key, features FROM match_items").fetchone()
    assert item["candidate_id"] is None and item["candidate_key"] == erased.json()["pseudonym"]
    assert item["features"] == {"distance_km": 3.2}  # what training needs survives, anonymised
    exposure = conn.execute("SELECT candidate_key FROM offer_exposure").fetchall()
    assert [e["candidate_key"] for e in exposure] == [erased.json()["pseudonym"]]  # congestion survives, anonymised
    assert conn.execute("SELECT comment FROM feedback").fetchone()["comment"] is None
    assert conn.execute("SELECT reason FROM candidate_erasures").fetchone()["reason"] == "request"
    assert client.get(f"/v1/candidates/{candidate_id}", headers=world.headers["adviser_a"]).status_code == 404


def test_retention_flags_then_anonymises_with_a_moved_clock(world_client, conn, settings):
    world, client = world_client
    headers = world.headers["adviser_a"]
    ids = {ref: client.post("/v1/candidates", json=candidate_payload(world, ref), headers=headers).json()["id"]
           for ref in ("IDLE", "RETURNS", "ACTIVE")}  # fmt: skip
    now = datetime.now(UTC)
    conn.execute("UPDATE candidates SET last_activity_at = %s WHERE id = ANY(%s::uuid[])",
                 (now - timedelta(days=800), [ids["IDLE"], ids["RETURNS"]]))  # fmt: skip
    conn.commit()
    inactive, grace = settings.retention_inactive_days, settings.retention_grace_days
    first = run_retention(conn, SYSTEM_ACTOR, now, inactive, grace)
    conn.commit()
    assert (first.flagged, first.anonymised) == (2, 0)
    # The adviser updates one flagged profile: the flag is cleared and the profile kept.
    assert client.patch(f"/v1/candidates/{ids['RETURNS']}", json={"summary": "Reprise du suivi."},
                        headers=headers).json()["retention_flagged_at"] is None  # fmt: skip
    later = run_retention(conn, SYSTEM_ACTOR, now + timedelta(days=grace + 1), inactive, grace)
    conn.commit()
    assert (later.flagged, later.anonymised) == (0, 1)
    remaining = {r["reference"] for r in conn.execute("SELECT reference FROM candidates")}
    assert remaining == {"RETURNS", "ACTIVE"}
    assert _rows_mentioning(conn, ids["IDLE"]) == {}
    assert conn.execute("SELECT reason FROM candidate_erasures").fetchone()["reason"] == "retention"


def test_cli_creates_and_revokes_keys_signs_tokens_and_runs_retention(world_client, conn, settings, monkeypatch):
    world, client = world_client
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("MAILLAGE_HOME", str(settings.home))
    monkeypatch.setenv("MAILLAGE_ENV", "test")
    get_settings.cache_clear()
    runner = CliRunner()
    try:
        created = runner.invoke(companies_app, ["create-key", "--company", "12345678900001", "--scope", "offers:read"])
        assert created.exit_code == 0, created.output
        secret = created.output.strip().splitlines()[-1]
        assert client.get("/v1/offers", headers={"X-API-Key": secret}).status_code == 200
        prefix = "_".join(secret.split("_")[:2])
        assert runner.invoke(companies_app, ["revoke-key", prefix]).exit_code == 0
        assert client.get("/v1/offers", headers={"X-API-Key": secret}).status_code == 401
        assert runner.invoke(companies_app, ["revoke-key", prefix]).exit_code == 1
        token = runner.invoke(advisers_app, ["token", "--structure", "Structure B", "--email", "New@Example.org"])
        assert token.exit_code == 0, token.output
        me = client.get("/v1/me", headers={"Authorization": f"Bearer {token.output.strip()}"}).json()
        assert me["structure_id"] == str(world.structures["B"]) and me["email"] == "new@example.org"
        retention = runner.invoke(gdpr_app, ["retention", "--now", "2030-01-01T00:00:00"])
        assert retention.exit_code == 0 and "flagged 0 candidate(s), anonymised 0" in retention.output
    finally:
        get_settings.cache_clear()
