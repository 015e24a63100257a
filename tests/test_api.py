"""The first slice of the HTTP API, served by the real app against a real database and model."""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient

from api.app import create_app


@pytest.fixture()
def client(settings, embedder, demo_database, conn, sign_in):
    """A client signed in as a platform admin, who may read every demo structure's candidates."""
    structure_id = conn.execute("SELECT id FROM structures ORDER BY name LIMIT 1").fetchone()["id"]
    headers = sign_in(structure_id, "platform_admin")
    with TestClient(create_app(settings, embedder=embedder), headers=headers) as test_client:
        yield test_client


def _candidate_ids(conn) -> list[uuid.UUID]:
    return [r["id"] for r in conn.execute("SELECT id FROM candidates ORDER BY reference")]


def test_health_and_readiness(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["database"] is True
    assert ready.json()["embedding_model"].startswith("intfloat/multilingual-e5-small")


def test_openapi_documents_the_matches_route(client):
    spec = client.get("/openapi.json").json()
    assert "/v1/candidates/{candidate_id}/matches" in spec["paths"]


def test_matches_are_ranked_within_the_candidate_radius(client, conn):
    candidate_id = _candidate_ids(conn)[0]
    radius = conn.execute("SELECT max_commute_km FROM candidates WHERE id = %s", (candidate_id,)).fetchone()
    response = client.get(f"/v1/candidates/{candidate_id}/matches", params={"limit": 5})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["radius_km"] == radius["max_commute_km"]
    assert [m["rank"] for m in body["matches"]] == list(range(1, len(body["matches"]) + 1))
    scores = [m["score"] for m in body["matches"]]  # ranked by the active model, not by similarity alone
    assert scores == sorted(scores, reverse=True)
    assert all(m["distance_km"] <= body["radius_km"] for m in body["matches"])


def test_semantic_ranking_puts_the_target_job_first(client, conn):
    """For most candidates with an offer of their target job in reach, that job ranks first."""
    hits = total = 0
    for candidate_id in _candidate_ids(conn):
        target = conn.execute("SELECT target_rome_codes[1] AS code FROM candidates WHERE id = %s",
                              (candidate_id,)).fetchone()["code"]  # fmt: skip
        # Every demo contract type: the candidate's own wishes are a hard filter that would leave few in reach.
        params = {"radius_km": 60, "contract": ["CDI", "CDD", "MIS", "APPRENTISSAGE", "IAE"]}
        matches = client.get(f"/v1/candidates/{candidate_id}/matches", params=params).json()["matches"]
        if any(m["rome_code"] == target for m in matches):
            total += 1
            hits += matches[0]["rome_code"] == target
    assert total >= 5
    assert hits / total >= 0.6, (hits, total)


def test_unknown_candidate_is_404(client):
    response = client.get(f"/v1/candidates/{uuid.uuid4()}/matches")
    assert response.status_code == 404
    assert response.json()["detail"] == "Candidat introuvable."


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 101}, {"limit": "abc"}, {"radius_km": -3}])
def test_bad_parameters_are_422(client, conn, params):
    candidate_id = _candidate_ids(conn)[0]
    assert client.get(f"/v1/candidates/{candidate_id}/matches", params=params).status_code == 422


def test_reading_matches_is_audited(client, conn):
    candidate_id = _candidate_ids(conn)[0]
    client.get(f"/v1/candidates/{candidate_id}/matches")
    rows = conn.execute("SELECT action FROM audit_log WHERE object_id = %s", (str(candidate_id),)).fetchall()
    assert "match" in {r["action"] for r in rows}


def test_matches_need_a_signed_in_adviser_of_the_candidate_structure(client, conn, sign_in):
    candidate = conn.execute(
        "SELECT id, structure_id FROM candidates ORDER BY reference LIMIT 1"
    ).fetchone()
    other = conn.execute("SELECT id FROM structures WHERE id <> %s ORDER BY name LIMIT 1",
                         (candidate["structure_id"],)).fetchone()["id"]  # fmt: skip
    path = f"/v1/candidates/{candidate['id']}/matches"
    assert client.get(path, headers={"Authorization": ""}).status_code == 401
    outsider = sign_in(other)
    assert client.get(path, headers=outsider).status_code == 404
    insider = sign_in(candidate["structure_id"])
    assert client.get(path, headers=insider).status_code == 200
