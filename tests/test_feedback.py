"""Feedback on served matches: advisers of the match's structure only, French field errors, company hires."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from access_world import field_errors

from matching.storage.audit import SYSTEM_ACTOR
from matching.storage.candidates import CandidateAccessor
from matching.storage.companies import create_key
from matching.storage.feedback import feedback_for_matches, latest_events


@pytest.fixture()
def served(demo_database, world_client, conn, sign_in):
    """A demo candidate's served matches, and an adviser of the candidate's structure."""
    world, client = world_client
    candidate = conn.execute("SELECT id, structure_id FROM candidates ORDER BY reference LIMIT 1").fetchone()
    headers = sign_in(candidate["structure_id"], "adviser")
    response = client.get(f"/v1/candidates/{candidate['id']}/matches", params={"limit": 4, "radius_km": 60},
                          headers=headers)  # fmt: skip
    assert response.status_code == 200, response.text
    matches = response.json()["matches"]
    assert len(matches) >= 3
    return world, client, headers, candidate, matches


def test_advisers_record_and_read_feedback_on_their_structure_matches_only(served, conn):
    world, client, headers, candidate, matches = served
    url = f"/v1/matches/{matches[0]['match_id']}/feedback"
    proposed = client.post(url, json={"event": "proposed"}, headers=headers)
    assert proposed.status_code == 201, proposed.text
    assert proposed.json()["event_label"] == "Proposé" and proposed.json()["by"] == "adviser"
    declined = client.post(url, headers=headers, json={
        "event": "declined", "reason_code": "too_far", "comment": "  Deux heures de transport.  ",
        "occurred_at": (datetime.now(UTC) + timedelta(minutes=1)).isoformat(),
    })  # fmt: skip
    assert declined.status_code == 201, declined.text
    assert declined.json()["reason_label"] == "Trop loin" and declined.json()["comment"] == "Deux heures de transport."
    listed = client.get(url, headers=headers).json()
    assert [e["event"] for e in listed["entries"]] == ["declined", "proposed"]  # newest first
    row = conn.execute("SELECT structure_id, adviser_id FROM feedback WHERE id = %s", (proposed.json()["id"],))
    assert row.fetchone()["structure_id"] == candidate["structure_id"]
    audit = conn.execute("SELECT object_id FROM audit_log WHERE action = 'feedback'").fetchall()
    assert [a["object_id"] for a in audit] == [str(candidate["id"])] * 2

    # Another structure's adviser (or admin) sees no such match; the platform sees every structure.
    for caller in ("adviser_b", "admin_a"):
        other = world.headers[caller]
        assert client.post(url, json={"event": "hired"}, headers=other).status_code == 404
        missing = client.get(url, headers=other)
        assert missing.status_code == 404 and missing.json()["detail"] == "Mise en relation introuvable."
    assert len(client.get(url, headers=world.headers["platform"]).json()["entries"]) == 2
    assert client.get(f"/v1/matches/{uuid.uuid4()}/feedback", headers=headers).status_code == 404
    assert client.post(url, json={"event": "proposed"}).status_code == 401
    assert conn.execute("SELECT count(*) AS n FROM feedback").fetchone()["n"] == 2


def test_inconsistent_feedback_gets_french_field_errors(served):
    _, client, headers, _, matches = served
    url = f"/v1/matches/{matches[1]['match_id']}/feedback"
    cases = [
        ({"event": "declined"}, "reason_code", "motif obligatoire pour « Pas intéressé »"),
        ({"event": "interested", "reason_code": "too_far"}, "reason_code", "pas de motif pour « Intéressé »"),
        ({"event": "married"}, "event", "valeur non autorisée"),
        ({"event": "refused_by_employer", "reason_code": "because"}, "reason_code", "valeur non autorisée"),
        ({"event": "hired", "occurred_at": (datetime.now(UTC) + timedelta(days=2)).isoformat()}, "occurred_at",
         "dans le futur"),
        ({"event": "hired", "occurred_at": "2020-01-01T00:00:00+00:00"}, "occurred_at", "précède la proposition"),
        ({"event": "hired", "occurred_at": "2026-01-01T00:00:00"}, "occurred_at", "fuseau horaire requis"),
        ({"event": "hired", "occurred_at": "0001-01-01T00:00:00+14:00"}, "occurred_at", "date invraisemblable"),
        ({"event": "hired", "comment": "x" * 2001}, "comment", "au plus 2000 caractère(s)"),
        ({"event": "hired", "score": 3}, "score", "champ inconnu"),
    ]
    for body, field, message in cases:
        errors = field_errors(client.post(url, json=body, headers=headers))
        assert message in errors[field], (body, errors)


def test_companies_report_hires_on_their_own_offers(served, conn):
    world, client, headers, candidate, matches = served
    match = matches[2]
    company = conn.execute("SELECT company_id FROM offers WHERE id = %s", (match["offer_id"],)).fetchone()
    key = create_key(conn, company["company_id"])
    conn.commit()
    url = f"/v1/offers/{match['offer_id']}/hires"
    hired = client.post(url, json={"match_id": match["match_id"]}, headers={"X-API-Key": key.secret})
    assert hired.status_code == 201, hired.text
    assert hired.json()["event"] == "hired" and "candidate_id" not in hired.json()
    # Another company, or a match of another offer, looks absent; no key is 401.
    assert client.post(url, json={"match_id": match["match_id"]}, headers=world.headers["company_2"]).status_code == 404
    other_offer = next(m["offer_id"] for m in matches if m["offer_id"] != match["offer_id"])
    assert client.post(f"/v1/offers/{other_offer}/hires", json={"match_id": match["match_id"]},
                       headers={"X-API-Key": key.secret}).status_code == 404  # fmt: skip
    assert client.post(url, json={"match_id": match["match_id"]}).status_code == 401
    assert "match_id" in field_errors(client.post(url, json={}, headers={"X-API-Key": key.secret}))

    # The adviser sees the employer's report; latest events per offer feed the candidate's screen.
    listed = client.get(f"/v1/matches/{match['match_id']}/feedback", headers=headers).json()
    assert [(e["event"], e["by"]) for e in listed["entries"]] == [("hired", "company")]
    own = CandidateAccessor(conn, SYSTEM_ACTOR, candidate["structure_id"])
    latest = latest_events(conn, own, [candidate["id"]])[(candidate["id"], match["offer_id"])]
    assert latest.event == "hired" and latest.company_id == company["company_id"]
    stranger = CandidateAccessor(conn, SYSTEM_ACTOR, world.structures["B"])
    assert latest_events(conn, stranger, [candidate["id"]]) == {}
    assert feedback_for_matches(conn, stranger, [uuid.UUID(match["match_id"])]) == {}
    assert feedback_for_matches(conn, own, [uuid.UUID(m["match_id"]) for m in matches[:2]]) == {
        uuid.UUID(matches[0]["match_id"]): [], uuid.UUID(matches[1]["match_id"]): []}  # fmt: skip
