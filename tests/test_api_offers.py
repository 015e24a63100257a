"""Company offer API: validation in French, France Travail shape, idempotency, rate limit, keys."""

from __future__ import annotations

import pytest
from access_world import build_world, field_errors, offer_payload
from fastapi.testclient import TestClient

from api.app import create_app
from matching.storage.companies import create_key, revoke_key


def test_submitted_offer_is_normalised_stored_and_embedded(world_client, conn):
    world, client = world_client
    payload = offer_payload(world, lat=world.lat, lon=world.lon, external_reference="RH-2026-001")
    response = client.post("/v1/offers", json=payload, headers=world.headers["company_1"])
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["status"] == "active" and body["embedded"] is True and body["format"] == "maillage"
    assert body["workplace_qpv_code"] is not None  # the workplace point lies in a QPV
    row = conn.execute("SELECT company_id, source_id, embedding IS NOT NULL AS embedded, postal_code FROM offers "
                       "WHERE id = %s", (body["id"],)).fetchone()  # fmt: skip
    assert row["company_id"] == world.companies["company_1"] and row["source_id"] == "api" and row["embedded"]
    again = client.post("/v1/offers", json=payload, headers=world.headers["company_1"])
    assert again.status_code == 409  # the company's external reference is unique


def test_validation_messages_are_field_level_and_french(world_client):
    world, client = world_client
    bad = offer_payload(world, title="", description="Trop court", commune_insee="99999", contract_type="CDX",
                        starts_on="2026-12-10", expires_at="2026-12-01T00:00:00Z")  # fmt: skip
    errors = field_errors(client.post("/v1/offers", json=bad, headers=world.headers["company_1"]))
    assert errors["title"] == "au moins 3 caractère(s)"
    assert errors["description"] == "au moins 30 caractère(s)"
    assert errors["contract_type"].startswith("valeur non autorisée")
    incoherent = offer_payload(world, starts_on="2027-03-10", expires_at="2027-03-01T00:00:00Z")
    assert "précède" in field_errors(client.post("/v1/offers", json=incoherent, headers=world.headers["company_1"]))[""]
    unknown_commune = offer_payload(world, commune_insee="99999")
    errors = field_errors(client.post("/v1/offers", json=unknown_commune, headers=world.headers["company_1"]))
    assert errors == {"commune_insee": "commune inconnue (code INSEE)"}
    too_big = offer_payload(world, description="x" * 20001)
    assert "description" in field_errors(client.post("/v1/offers", json=too_big, headers=world.headers["company_1"]))


@pytest.mark.parametrize("field,value", [("company_id", 2), ("status", "closed"), ("structure_id", "x"),
                                         ("source_id", "lee"), ("embedding", [0.1])])  # fmt: skip
def test_mass_assignment_is_refused(world_client, field, value):
    world, client = world_client
    payload = offer_payload(world, **{field: value})
    response = client.post("/v1/offers", json=payload, headers=world.headers["company_1"])
    assert field_errors(response) == {field: "champ inconnu ou non modifiable"}


def test_patch_put_and_close(world_client, conn):
    world, client = world_client
    headers = world.headers["company_2"]
    offer_id = client.post("/v1/offers", json=offer_payload(world), headers=headers).json()["id"]
    patched = client.patch(f"/v1/offers/{offer_id}", json={"hours_per_week": 35.0}, headers=headers)
    assert patched.status_code == 200 and patched.json()["offer"]["hours_per_week"] == 35.0
    assert client.patch(f"/v1/offers/{offer_id}", json={"status": "active"}, headers=headers).status_code == 422
    incoherent = client.patch(f"/v1/offers/{offer_id}", json={"contract_type": "CDI"}, headers=headers)
    assert "CDI" in field_errors(incoherent)[""]  # the merged offer is validated as a whole
    closed = client.delete(f"/v1/offers/{offer_id}", headers=headers)
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    assert client.put(f"/v1/offers/{offer_id}", json=offer_payload(world), headers=headers).status_code == 409
    history = conn.execute("SELECT new_status FROM offer_status_history WHERE offer_id = %s", (offer_id,)).fetchall()
    assert [h["new_status"] for h in history][-1] == "closed"
    assert [h["new_status"] for h in history].count("closed") == 1


def test_france_travail_shape(world_client):
    world, client = world_client
    ft = {
        "id": "201ABCD", "intitule": "Agent / Agente d'entretien", "typeContrat": "CDD",
        "natureContrat": "Contrat travail", "description": "Entretien des locaux, bureaux et parties communes.",
        "romeCode": world.rome_codes[0], "dureeTravailLibelle": "24H Travail en journée", "experienceExige": "D",
        "lieuTravail": {"libelle": "93 - Saint-Denis", "commune": world.insee, "codePostal": "93200"},
        "competences": [{"code": "123", "libelle": "Nettoyer des surfaces", "exigence": "E"}],
        "permis": [{"libelle": "B - Véhicule léger", "exigence": "S"}], "nombrePostes": 2,
        "contact": {"courriel": "recrutement@example.org"},
    }  # fmt: skip
    response = client.post("/v1/offers/france-travail", json=ft, headers=world.headers["company_1"])
    assert response.status_code == 201, response.text
    offer = response.json()["offer"]
    assert response.json()["format"] == "france_travail"
    assert offer["title"] == ft["intitule"] and offer["hours_per_week"] == 24.0 and offer["licences"] == ["B"]
    assert offer["external_reference"] == "201ABCD" and offer["experience_required"] == "D"
    bad = {**ft, "id": "201ABCE", "lieuTravail": {"commune": world.insee}, "intitule": "x", "salaireMin": 3}
    errors = field_errors(client.post("/v1/offers/france-travail", json=bad, headers=world.headers["company_1"]))
    assert set(errors) == {"intitule", "salaireMin"}


def test_idempotency_replays_and_refuses_another_body(world_client, conn):
    world, client = world_client
    headers = {**world.headers["company_1"], "Idempotency-Key": "commande-42"}
    first = client.post("/v1/offers", json=offer_payload(world), headers=headers)
    replay = client.post("/v1/offers", json=offer_payload(world), headers=headers)
    assert first.status_code == replay.status_code == 201
    assert replay.json() == first.json() and replay.headers["Idempotent-Replayed"] == "true"
    other = client.post("/v1/offers", json=offer_payload(world, title="Autre poste"), headers=headers)
    assert other.status_code == 422 and "idempotence" in other.text
    count = conn.execute("SELECT count(*) AS n FROM offers WHERE source_id = 'api'").fetchone()["n"]
    assert count == 1
    # Another company may use the same key; an expired key is forgotten.
    assert client.post("/v1/offers", json=offer_payload(world), headers={
        **world.headers["company_2"], "Idempotency-Key": "commande-42"}).status_code == 201  # fmt: skip
    conn.execute("UPDATE idempotency_keys SET expires_at = now() - interval '1 second'")
    conn.commit()
    fresh = client.post("/v1/offers", json=offer_payload(world, title="Autre poste"), headers=headers)
    assert fresh.status_code == 201 and fresh.json()["id"] != first.json()["id"]


def test_rate_limit_answers_429_with_retry_after(settings, conn, embedder):
    world = build_world(conn, settings)
    with TestClient(create_app(settings.model_copy(update={"api_key_rate_per_minute": 5}), embedder=embedder)) as c:
        _check_rate_limit(world, c)


def _check_rate_limit(world, client) -> None:
    statuses = [client.get("/v1/offers", headers=world.headers["company_1"]).status_code for _ in range(6)]
    assert statuses == [200] * 5 + [429]
    limited = client.get("/v1/offers", headers=world.headers["company_1"])
    assert limited.status_code == 429 and 1 <= int(limited.headers["Retry-After"]) <= 60
    assert client.get("/v1/offers", headers=world.headers["company_2"]).status_code == 200  # per key


def test_missing_revoked_or_forged_keys_are_401_and_scopes_are_enforced(world_client, conn):
    world, client = world_client
    assert client.get("/v1/offers").status_code == 401
    forged = world.headers["company_1"]["X-API-Key"][:-4] + "AAAA"
    assert client.get("/v1/offers", headers={"X-API-Key": forged}).status_code == 401
    assert revoke_key(conn, world.key_prefixes["company_2"])
    conn.commit()
    response = client.get("/v1/offers", headers=world.headers["company_2"])
    assert response.status_code == 401 and response.headers["WWW-Authenticate"] == "ApiKey"
    reader = create_key(conn, world.companies["company_1"], scopes=("offers:read",))
    conn.commit()
    headers = {"X-API-Key": reader.secret}
    assert client.get("/v1/offers", headers=headers).status_code == 200
    assert client.post("/v1/offers", json=offer_payload(world), headers=headers).status_code == 403
