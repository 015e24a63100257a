"""Role × endpoint × owner: no caller reaches another structure's candidates or another company's offers."""

from __future__ import annotations

import pytest
from access_world import candidate_payload, offer_payload

CALLERS = ("anonymous", "adviser_a", "adviser_b", "admin_a", "admin_b", "platform", "company_1", "company_2")
STRUCTURE_OF = {"adviser_a": "A", "admin_a": "A", "adviser_b": "B", "admin_b": "B"}
# In the order the allowed callers run them (closing and erasing last).
CANDIDATE_OPS = (
    ("GET", "/v1/candidates/{id}"),
    ("PUT", "/v1/candidates/{id}"),
    ("PATCH", "/v1/candidates/{id}"),
    ("GET", "/v1/candidates/{id}/export"),
    ("GET", "/v1/candidates/{id}/matches"),
    ("POST", "/v1/candidates/{id}/close"),
    ("DELETE", "/v1/candidates/{id}"),
)
OFFER_OPS = (
    ("GET", "/v1/offers/{id}"),
    ("PUT", "/v1/offers/{id}"),
    ("PATCH", "/v1/offers/{id}"),
    ("DELETE", "/v1/offers/{id}"),
)
SNAPSHOT = {
    "candidates": "SELECT * FROM candidates ORDER BY id",
    "offers": "SELECT id, status, title, content_hash, updated_at FROM offers ORDER BY id",
}


def _candidate_access(caller: str, owner: str) -> int:
    """The status a caller gets on a candidate of structure `owner` when the operation is allowed: 200."""
    if caller == "anonymous" or caller.startswith("company"):
        return 401
    if caller == "platform" or STRUCTURE_OF[caller] == owner:
        return 200
    return 404


def _offer_access(caller: str, owner: str) -> int:
    if not caller.startswith("company"):
        return 401
    return 200 if caller == owner else 404


def _body(world, method: str, path: str, kind: str, reference: str) -> dict | None:
    if method == "PUT":
        return candidate_payload(world, reference, summary="Remplacé") if kind == "candidate" else offer_payload(world)
    if method == "PATCH":
        return {"summary": "Modifié"} if kind == "candidate" else {"title": "Agent d'accueil polyvalent"}
    return None


def _create_candidate(client, world, owner: str, reference: str) -> str:
    adviser = "adviser_a" if owner == "A" else "adviser_b"
    response = client.post("/v1/candidates", json=candidate_payload(world, reference), headers=world.headers[adviser])
    assert response.status_code == 201, response.text
    return response.json()["id"]


def _create_offer(client, world, company: str) -> int:
    response = client.post("/v1/offers", json=offer_payload(world), headers=world.headers[company])
    assert response.status_code == 201, response.text
    return response.json()["id"]


def test_no_cross_structure_or_cross_company_access(world_client, conn):
    world, client = world_client
    candidates = {owner: _create_candidate(client, world, owner, f"REF-{owner}") for owner in ("A", "B")}
    offers = {company: _create_offer(client, world, company) for company in ("company_1", "company_2")}
    before = {table: conn.execute(query).fetchall() for table, query in SNAPSHOT.items()}
    audit_before = conn.execute("SELECT max(id) AS id FROM audit_log").fetchone()["id"]

    denied = 0
    for caller in CALLERS:
        for owner, candidate_id in candidates.items():
            expected = _candidate_access(caller, owner)
            if expected == 200:
                continue
            for method, template in CANDIDATE_OPS:
                body = _body(world, method, template, "candidate", f"REF-{owner}")
                response = client.request(method, template.format(id=candidate_id), json=body,
                                          headers=world.headers[caller])  # fmt: skip
                assert response.status_code == expected, (caller, method, template, owner, response.text)
                assert f"REF-{owner}" not in response.text
                denied += 1
        for owner, offer_id in offers.items():
            expected = _offer_access(caller, owner)
            if expected == 200:
                continue
            for method, template in OFFER_OPS:
                body = _body(world, method, template, "offer", "")
                response = client.request(method, template.format(id=offer_id), json=body,
                                          headers=world.headers[caller])  # fmt: skip
                assert response.status_code == expected, (caller, method, template, owner, response.text)
                denied += 1
    # 8 callers × 2 owners per operation; 6 candidate and 2 offer (caller, owner) pairs are allowed.
    assert denied == len(CANDIDATE_OPS) * (8 * 2 - 6) + len(OFFER_OPS) * (8 * 2 - 2)
    conn.rollback()
    assert {table: conn.execute(query).fetchall() for table, query in SNAPSHOT.items()} == before
    reads = conn.execute("SELECT count(*) AS n FROM audit_log WHERE id > %s", (audit_before,)).fetchone()
    assert reads["n"] == 0  # no personal data was read by a denied caller


@pytest.mark.parametrize("caller,owner", [("adviser_a", "A"), ("admin_a", "A"), ("platform", "A"),
                                          ("adviser_b", "B"), ("admin_b", "B"), ("platform", "B")])  # fmt: skip
def test_allowed_callers_reach_every_candidate_operation(world_client, caller, owner):
    world, client = world_client
    candidate_id = _create_candidate(client, world, owner, f"OWN-{owner}")
    for method, template in CANDIDATE_OPS:
        body = _body(world, method, template, "candidate", f"OWN-{owner}")
        response = client.request(method, template.format(id=candidate_id), json=body, headers=world.headers[caller])
        assert response.status_code == 200, (caller, method, template, response.text)
    assert client.get(f"/v1/candidates/{candidate_id}", headers=world.headers[caller]).status_code == 404


@pytest.mark.parametrize("company", ["company_1", "company_2"])
def test_companies_reach_every_operation_on_their_own_offers(world_client, company):
    world, client = world_client
    offer_id = _create_offer(client, world, company)
    for method, template in OFFER_OPS:
        body = _body(world, method, template, "offer", "")
        response = client.request(method, template.format(id=offer_id), json=body, headers=world.headers[company])
        assert response.status_code == 200, (company, method, template, response.text)
    assert client.get(f"/v1/offers/{offer_id}", headers=world.headers[company]).json()["status"] == "closed"


def test_lists_and_audit_stay_within_the_callers_scope(world_client):
    world, client = world_client
    a = _create_candidate(client, world, "A", "LIST-A")
    b = _create_candidate(client, world, "B", "LIST-B")
    offer_1, offer_2 = _create_offer(client, world, "company_1"), _create_offer(client, world, "company_2")

    def ids(caller: str, path: str) -> set:
        response = client.get(path, headers=world.headers[caller])
        assert response.status_code == 200, response.text
        return {item["id"] for item in response.json()["items"]}

    assert ids("adviser_a", "/v1/candidates") == {a}
    assert ids("admin_b", "/v1/candidates") == {b}
    assert ids("platform", "/v1/candidates") == {a, b}
    assert ids("company_1", "/v1/offers") == {offer_1}
    assert ids("company_2", "/v1/offers") == {offer_2}
    assert client.get("/v1/audit", headers=world.headers["adviser_a"]).status_code == 403
    assert client.get("/v1/audit", headers=world.headers["company_1"]).status_code == 401
    audit_a = client.get("/v1/audit", params={"limit": 200}, headers=world.headers["admin_a"]).json()["items"]
    audit_b = client.get("/v1/audit", params={"limit": 200}, headers=world.headers["admin_b"]).json()["items"]
    seen_a, seen_b = {e["object_id"] for e in audit_a}, {e["object_id"] for e in audit_b}
    assert a in seen_a and b not in seen_a
    assert b in seen_b and a not in seen_b
    everything = client.get("/v1/audit", params={"limit": 200}, headers=world.headers["platform"]).json()["items"]
    assert {a, b} <= {e["object_id"] for e in everything}
