"""The matching routes in both directions and the fairness report, on the real app, database and model."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.routes import matches as matches_routes
from matching.fairness import age_band, fairness_report


@pytest.fixture()
def client(settings, embedder, demo_database, conn, sign_in):
    """Signed in as a platform admin: every demo structure is in scope."""
    structure_id = conn.execute("SELECT id FROM structures ORDER BY name LIMIT 1").fetchone()["id"]
    with TestClient(create_app(settings, embedder=embedder), headers=sign_in(structure_id, "platform_admin")) as c:
        yield c


def test_fairness_report_is_for_platform_admins_only(client, conn, sign_in):
    structure_id = conn.execute("SELECT id FROM structures ORDER BY name LIMIT 1").fetchone()["id"]
    assert client.get("/v1/admin/fairness").status_code == 200
    assert client.get("/v1/admin/fairness", headers=sign_in(structure_id, "structure_admin")).status_code == 403
    assert client.get("/v1/admin/fairness", headers={"Authorization": ""}).status_code == 401


def test_both_directions_serve_explained_logged_matches(client, conn):
    candidate = conn.execute("SELECT id FROM candidates ORDER BY reference LIMIT 1").fetchone()["id"]
    body = client.get(f"/v1/candidates/{candidate}/matches", params={"limit": 3, "radius_km": 50}).json()
    assert body["model"].startswith("v0-") and len(body["matches"]) == 3
    first = body["matches"][0]
    assert first["explanation"]["model_version"] == body["model"]
    assert {c["status"] for c in first["explanation"]["criteria"]} <= {"met", "not_met", "unknown"}
    item = conn.execute("SELECT offer_id, rank FROM match_items WHERE id = %s", (first["match_id"],)).fetchone()
    assert item == {"offer_id": first["offer_id"], "rank": 1}

    offer = first["offer_id"]
    reverse = client.get(f"/v1/offers/{offer}/matches", params={"limit": 5})
    assert reverse.status_code == 200, reverse.text
    served = reverse.json()["matches"]
    assert any(m["candidate_id"] == str(candidate) for m in served)
    assert all(m["explanation"]["criteria"] for m in served)
    assert [m["rank"] for m in served] == list(range(1, len(served) + 1))

    report = matches_routes.fairness_report_route(conn, 30)
    assert sum(d.items for d in report.by_group["qpv"]) == 3 + len(served)


def test_bad_inputs_get_french_errors(client, conn):
    candidate = conn.execute("SELECT id FROM candidates LIMIT 1").fetchone()["id"]
    response = client.get(f"/v1/candidates/{candidate}/matches", params={"contract": "XYZ"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "contract", 0]
    assert "valeur non autorisée" in response.json()["detail"][0]["msg"]
    assert client.get(f"/v1/candidates/{candidate}/matches", params={"offset": -1}).status_code == 422
    missing = client.get("/v1/offers/999999999/matches")
    assert missing.status_code == 404 and missing.json()["detail"] == "Offre introuvable ou inactive."


def test_fairness_aggregation_is_pure():
    items = [
        {"request_id": 1, "rank": 1, "score": 2.0, "in_qpv": True, "birth_year": 2004, "rqth": False, "employer": "A"},
        {"request_id": 1, "rank": 5, "score": 1.0, "in_qpv": False, "birth_year": 1970, "rqth": True, "employer": "A"},
        {"request_id": 2, "rank": 2, "score": 1.5, "in_qpv": None, "birth_year": None, "rqth": None, "employer": None},
    ]
    report = fairness_report(items, 2026)
    qpv = {d.group: d for d in report["by_group"]["qpv"]}
    assert qpv["résident QPV"].items == 1 and qpv["hors QPV"].top3_share == 0.0 and qpv["inconnu"].items == 1
    assert {d.group for d in report["by_group"]["age"]} == {"moins de 26 ans", "50 ans et plus", "inconnu"}
    assert report["by_employer"][0].group == "A" and report["by_employer"][0].requests == 1
    assert age_band(1990, 2026) == "26-49 ans"
