"""Adviser API: candidates of the caller's structure, profile validation, re-embedding, filters, tokens."""

from __future__ import annotations

import time

import jwt
import pytest
from access_world import candidate_payload, field_errors
from cryptography.hazmat.primitives.asymmetric import rsa

from matching.auth.tokens import LOCAL_ISSUER, LOCAL_KID, VERIFIED_TTL_S, TokenVerifier, sign_local_token


def test_create_read_update_close_with_reembedding(world_client, conn):
    world, client = world_client
    headers = world.headers["adviser_a"]
    created = client.post("/v1/candidates", json=candidate_payload(world, "DUP-001"), headers=headers)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["structure_id"] == str(world.structures["A"]) and body["embedded"] is True
    assert body["qpv_code"] is not None  # computed from the address point
    assert body["profile"]["referent_adviser_id"] == str(world.advisers["adviser_a"])
    candidate_id = body["id"]
    vector_query = "SELECT embedding::text AS v FROM candidates WHERE id = %s"
    vector_before = conn.execute(vector_query, (candidate_id,)).fetchone()["v"]
    patched = client.patch(f"/v1/candidates/{candidate_id}",
                           json={"summary": "Cuisinier expérimenté, cherche un poste en restauration collective."},
                           headers=headers)  # fmt: skip
    assert patched.status_code == 200 and patched.json()["embedded"] is True
    conn.rollback()
    vector_after = conn.execute(vector_query, (candidate_id,)).fetchone()["v"]
    assert vector_after is not None and vector_after != vector_before  # the profile was re-embedded
    moved = client.patch(f"/v1/candidates/{candidate_id}", json={"lat": None, "lon": None}, headers=headers)
    assert moved.status_code == 200 and moved.json()["qpv_code"] is None
    assert client.post("/v1/candidates", json=candidate_payload(world, "DUP-001"), headers=headers).status_code == 409
    closed = client.post(f"/v1/candidates/{candidate_id}/close", headers=headers)
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    assert client.patch(f"/v1/candidates/{candidate_id}", json={"summary": "x"}, headers=headers).status_code == 409
    actions = [r["action"] for r in conn.execute(
        "SELECT action FROM audit_log WHERE object_id = %s ORDER BY id", (candidate_id,))]  # fmt: skip
    assert {"create", "read", "update", "close"} <= set(actions)


def test_profile_validation_is_field_level_and_french(world_client):
    world, client = world_client
    headers = world.headers["adviser_a"]
    nir = client.post("/v1/candidates", json=candidate_payload(world, "1 85 05 78 006 084 36"), headers=headers)
    assert "NIR" in field_errors(nir)["reference"]
    bad = candidate_payload(world, "BAD-1", desired_hours_min=35.0, desired_hours_max=20.0, lat=48.8, lon=None,
                            eligibility=["RSA", "milliardaire"], has_vehicle=1, consent=False)  # fmt: skip
    errors = field_errors(client.post("/v1/candidates", json=bad, headers=headers))
    assert errors["has_vehicle"] == "booléen attendu (true ou false)"
    assert errors["eligibility.1"].startswith("valeur non autorisée")
    unknown = candidate_payload(world, "BAD-2", commune_insee="99999", target_rome_codes=["N9999"])
    errors = field_errors(client.post("/v1/candidates", json=unknown, headers=headers))
    assert errors == {"commune_insee": "commune inconnue (code INSEE)", "target_rome_codes.0": "code ROME inconnu"}
    no_consent = candidate_payload(world, "BAD-3", consent=False)
    assert "consentement" in field_errors(client.post("/v1/candidates", json=no_consent, headers=headers))[""]


@pytest.mark.parametrize("field,value", [("structure_id", "00000000-0000-0000-0000-000000000000"),
                                         ("status", "closed"), ("id", "x"), ("embedding", [0.0]),
                                         ("retention_flagged_at", None)])  # fmt: skip
def test_mass_assignment_is_refused(world_client, field, value):
    world, client = world_client
    headers = world.headers["adviser_a"]
    created = client.post("/v1/candidates", json=candidate_payload(world, "MASS-1", **{field: value}), headers=headers)
    assert field_errors(created) == {field: "champ inconnu ou non modifiable"}
    candidate_id = client.post("/v1/candidates", json=candidate_payload(world, "MASS-2"), headers=headers).json()["id"]
    patched = client.patch(f"/v1/candidates/{candidate_id}", json={field: value}, headers=headers)
    assert field_errors(patched) == {field: "champ inconnu ou non modifiable"}
    other_structure = {"referent_adviser_id": str(world.advisers["adviser_b"])}
    referent = client.patch(f"/v1/candidates/{candidate_id}", json=other_structure, headers=headers)
    assert field_errors(referent) == {"referent_adviser_id": "conseiller inconnu dans cette structure"}


def test_list_filters_and_pagination(world_client):
    world, client = world_client
    headers = world.headers["adviser_a"]
    for n in range(5):
        payload = candidate_payload(world, f"PAGE-{n}", eligibility=["RSA"] if n % 2 else ["jeune"],
                                    target_rome_codes=[world.rome_codes[n % 2]])  # fmt: skip
        assert client.post("/v1/candidates", json=payload, headers=headers).status_code == 201
    page = client.get("/v1/candidates", params={"limit": 2, "offset": 2}, headers=headers).json()
    assert page["total"] == 5 and [c["profile"]["reference"] for c in page["items"]] == ["PAGE-2", "PAGE-3"]
    rsa_only = client.get("/v1/candidates", params={"eligibility": "RSA"}, headers=headers).json()
    assert {c["profile"]["reference"] for c in rsa_only["items"]} == {"PAGE-1", "PAGE-3"}
    by_rome = client.get("/v1/candidates", params={"rome_code": world.rome_codes[1]}, headers=headers).json()
    assert by_rome["total"] == 2
    assert client.get("/v1/candidates", params={"in_qpv": "true"}, headers=headers).json()["total"] == 5
    assert client.get("/v1/candidates", params={"reference_prefix": "PAGE-4"}, headers=headers).json()["total"] == 1
    assert client.get("/v1/candidates", params={"limit": 0}, headers=headers).status_code == 422
    assert client.get("/v1/candidates", params={"unknown": 1}, headers=headers).status_code == 422


def _foreign_token(settings, **claims) -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = int(time.time())
    payload = {"iss": LOCAL_ISSUER, "aud": settings.oidc_audience, "sub": "local:adviser_a@example.org",
               "iat": now, "exp": now + 600, **claims}  # fmt: skip
    return jwt.encode(payload, key, algorithm="RS256", headers={"kid": LOCAL_KID})


def test_a_verified_token_is_kept_until_it_expires_and_no_longer(settings, monkeypatch):
    """A token's signature is checked once; again past its expiry (with the leeway), the cache's TTL or eviction."""
    checks = []
    real_decode = jwt.decode

    def counting_decode(*args, **kwargs):
        if kwargs.get("options", {}).get("verify_signature", True):
            checks.append(args[0])
        return real_decode(*args, **kwargs)

    monkeypatch.setattr(jwt, "decode", counting_decode)
    now = [time.time()]
    verifier = TokenVerifier(settings, clock=lambda: now[0], max_verified=2)
    sub, email = "local:adviser_a@example.org", "adviser_a@example.org"
    long_lived = sign_local_token(settings, sub, email, lifetime_s=3600, now=now[0])
    claims = verifier.verify(long_lived)
    assert verifier.verify(long_lived) == claims and len(checks) == 1
    now[0] += VERIFIED_TTL_S  # the cache's limit, well before the token's expiry
    assert verifier.verify(long_lived) == claims and len(checks) == 2
    short = sign_local_token(settings, sub, email, lifetime_s=10, now=now[0] - VERIFIED_TTL_S)
    verifier.verify(short)
    assert len(checks) == 3
    now[0] += 1  # past the short token's expiry and leeway on the verifier's clock: checked again
    verifier.verify(short)
    assert len(checks) == 4
    third = sign_local_token(settings, "local:adviser_b@example.org", "adviser_b@example.org")
    verifier.verify(third)  # two entries at most: the oldest (the long-lived token) goes
    verifier.verify(long_lived)
    assert len(checks) == 6


def test_tokens_are_checked(world_client, settings):
    world, client = world_client
    sub, email = "local:adviser_a@example.org", "adviser_a@example.org"

    def status_of(token: str) -> int:
        return client.get("/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code

    assert client.get("/v1/me", headers=world.headers["adviser_a"]).json()["role"] == "adviser"
    assert client.get("/v1/me").status_code == 401
    assert status_of("pas-un-jeton") == 401
    assert status_of(_foreign_token(settings)) == 401  # signed by another key
    expired = sign_local_token(settings, sub, email, lifetime_s=60, now=time.time() - 3600)
    assert status_of(expired) == 401
    # Within the leeway (60 s), a token just expired or issued by a clock slightly ahead still passes.
    assert status_of(sign_local_token(settings, sub, email, lifetime_s=60, now=time.time() - 90)) == 200
    assert status_of(sign_local_token(settings, sub, email, now=time.time() + 30)) == 200
    assert status_of(sign_local_token(settings.model_copy(update={"oidc_audience": "autre"}), sub, email)) == 401
    other_issuer = jwt.encode({"iss": "https://evil.example", "aud": "maillage", "sub": sub, "exp": 2**31},
                              "s" * 32, algorithm="HS256")  # fmt: skip
    assert status_of(other_issuer) == 401
    assert status_of(sign_local_token(settings, "local:nobody@example.org", "nobody@example.org")) == 403
    response = client.get("/.well-known/jwks.json")
    assert response.json()["keys"][0]["kid"] == LOCAL_KID and "d" not in response.json()["keys"][0]
