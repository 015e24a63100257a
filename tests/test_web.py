"""The adviser web pages over HTTP (no browser): sign-in, scoping, CSRF, forms, matches, feedback, export."""

from __future__ import annotations

import csv
import io
import re
import uuid

import pytest
from fastapi.testclient import TestClient
from markupsafe import escape

from api.app import create_app
from api.schemas import OfferCreate
from api.services import save_offer
from matching.config import ConfigError, Settings
from matching.storage.advisers import upsert_adviser

pytestmark = pytest.mark.slow  # the demo set and the real model


def _csrf(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def _sign_in(client: TestClient, adviser_id: uuid.UUID) -> str:
    """Dev sign-in as the adviser; returns the CSRF token of the session."""
    answer = client.post("/connexion/dev", data={"adviser_id": str(adviser_id), "suite": "/portefeuille"})
    assert answer.status_code == 303 and answer.headers["location"] == "/portefeuille", answer.text
    cookie = answer.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    return _csrf(client.get("/portefeuille").text)


@pytest.fixture()
def web(settings, embedder, demo_database, conn):
    """A client of the app (redirects not followed) and two advisers of different demo structures."""
    structures = [r["id"] for r in conn.execute("SELECT id FROM structures ORDER BY name").fetchall()]
    a = upsert_adviser(conn, structures[0], "web.a@example.org", subject="local:web.a@example.org")["id"]
    b = upsert_adviser(conn, structures[1], "web.b@example.org", subject="local:web.b@example.org")["id"]
    conn.commit()
    with TestClient(create_app(settings, embedder=embedder), follow_redirects=False) as client:
        yield client, {"a": a, "b": b}, structures


def test_anonymous_visitors_are_sent_to_sign_in_and_sessions_are_scoped(web, conn):
    client, advisers, structures = web
    answer = client.get("/portefeuille")
    assert answer.status_code == 303 and answer.headers["location"] == "/connexion?suite=/portefeuille"
    assert client.get("/portefeuille", headers={"HX-Request": "true"}).headers["hx-redirect"].startswith("/connexion")
    page = client.get("/connexion").text
    assert 'lang="fr"' in page and "web.a@example.org" in page and "Connexion de développement" in page
    assert client.post("/connexion/dev", data={"adviser_id": "pas-un-id"}).status_code == 422

    _sign_in(client, advisers["a"])
    listing = client.get("/portefeuille").text
    own = conn.execute(
        "SELECT reference, cm.name AS commune, f.label AS job FROM candidates AS c "
        "JOIN communes AS cm ON cm.insee = c.commune_insee "
        "JOIN rome_fiches AS f ON f.code_rome = c.target_rome_codes[1] WHERE structure_id = %s", (structures[0],)
    ).fetchall()
    other = conn.execute("SELECT id, reference FROM candidates WHERE structure_id = %s", (structures[1],)).fetchall()
    assert own and other
    assert all(r["reference"] in listing for r in own) and not any(r["reference"] in listing for r in other)
    # Communes and jobs are shown by name, not by code.
    assert all(escape(r["commune"]) in listing and escape(r["job"]) in listing for r in own)
    fragment = client.get("/portefeuille", params={"recherche": own[0]["reference"]},
                          headers={"HX-Request": "true", "HX-Target": "resultats"}).text  # fmt: skip
    assert fragment.startswith('<section id="resultats"') and own[0]["reference"] in fragment
    assert client.get(f"/candidats/{other[0]['id']}").status_code == 404
    assert client.get(f"/candidats/{other[0]['id']}/offres").status_code == 404

    client.cookies.clear()
    client.cookies.set("maillage_session", "forged.token.value")
    assert client.get("/portefeuille").status_code == 303


def test_candidate_form_validates_with_the_api_schema_and_refuses_csrf(web, conn):
    client, advisers, structures = web
    csrf = _sign_in(client, advisers["a"])
    blank = {"csrf": csrf, "reference": "", "commune": "Ville Inconnue Du Tout", "max_commute_km": "loin"}
    assert client.post("/candidats/nouveau", data={k: v for k, v in blank.items() if k != "csrf"}).status_code == 403
    cross = client.post("/candidats/nouveau", data=blank, headers={"Origin": "https://evil.example"})
    assert cross.status_code == 403
    answer = client.post("/candidats/nouveau", data=blank)
    assert answer.status_code == 422
    page = answer.text
    assert "choisissez une commune dans la liste" in page and "nombre attendu" in page
    assert 'aria-invalid="true"' in page and 'id="erreur-commune"' in page

    communes = client.get("/autocompletion/communes", params={"commune": "Saint-Denis"}).text
    first_commune = re.search(r'<option value="([^"]+)"', communes).group(1)
    jobs = client.get("/autocompletion/metiers", params={"metier_1": "agent d'accueil"}).text
    first_job = re.search(r'<option value="([^"]+)"', jobs).group(1)
    form = {"csrf": csrf, "reference": "WEB-001", "commune": first_commune, "metier_1": first_job,
            "skills": "Accueil du public\nStandard téléphonique", "languages": "Anglais B1",
            "desired_contracts": ["CDI", "CDD"], "unavailable_schedules": ["night"], "max_commute_km": "20",
            "desired_hours_min": "30", "desired_hours_max": "20"}  # fmt: skip
    answer = client.post("/candidats/nouveau", data=form)
    assert answer.status_code == 422
    assert "consentement du candidat est requis" in answer.text and 'href="#consent"' in answer.text
    answer = client.post("/candidats/nouveau", data={**form, "consent": "oui"})
    assert answer.status_code == 422 and "heures minimales dépassent" in answer.text
    answer = client.post("/candidats/nouveau", data={**form, "desired_hours_min": "20", "desired_hours_max": "30",
                                                     "consent": "oui"})  # fmt: skip
    assert answer.status_code == 303, answer.text
    candidate_id = answer.headers["location"].split("/")[2].split("?")[0]
    row = conn.execute("SELECT * FROM candidates WHERE id = %s", (candidate_id,)).fetchone()
    assert row["structure_id"] == structures[0] and row["referent_adviser_id"] == advisers["a"]
    assert row["commune_insee"] == first_commune[-6:-1] and row["target_appellations"] == [int(first_job[-6:-1])]
    assert row["target_rome_codes"] and row["desired_contracts"] == ["CDI", "CDD"] and row["embedding"] is not None
    assert row["languages"] == [{"label": "Anglais", "level": "B1", "required": True}]

    duplicate = client.post("/candidats/nouveau", data={**form, "desired_hours_min": "", "consent": "oui"})
    assert duplicate.status_code == 409 and "déjà cette référence" in duplicate.text
    edit = client.get(f"/candidats/{candidate_id}/modifier").text
    assert "WEB-001" in edit and first_job.replace("'", "&#39;") in edit
    changed = client.post(f"/candidats/{candidate_id}/modifier",
                          data={**form, "desired_hours_min": "", "max_commute_km": "12", "consent": "oui"})  # fmt: skip
    assert changed.status_code == 303
    assert conn.execute("SELECT max_commute_km FROM candidates WHERE id = %s", (candidate_id,)).fetchone() == {
        "max_commute_km": 12.0}  # fmt: skip


def test_matches_feedback_reflected_and_csv_export(web, conn):
    client, advisers, structures = web
    csrf = _sign_in(client, advisers["a"])
    candidate = conn.execute("SELECT id, reference FROM candidates WHERE structure_id = %s ORDER BY reference LIMIT 1",
                             (structures[0],)).fetchone()  # fmt: skip
    page = client.get(f"/candidats/{candidate['id']}/offres", params={"rayon": "80"})
    assert page.status_code == 200, page.text
    match_ids = re.findall(r'name="selection" value="([0-9a-f-]{36})"', page.text)
    assert match_ids and "Pourquoi cette offre" in page.text
    assert re.search(r"(Rempli|Non rempli|Inconnu)</span> :", page.text)
    assert client.get(f"/candidats/{candidate['id']}/offres", params={"rayon": "-3"}).text.count("rayon entre") == 1

    first = match_ids[0]
    missing_reason = client.post(f"/suivi/{first}", data={"csrf": csrf, "event": "declined"},
                                 headers={"HX-Request": "true"})  # fmt: skip
    assert missing_reason.status_code == 422 and "motif obligatoire" in missing_reason.text
    fragment = client.post(f"/suivi/{first}", data={"event": "interested"},
                           headers={"HX-Request": "true", "X-CSRF-Token": csrf})  # fmt: skip
    assert fragment.status_code == 200 and "Dernier suivi : <strong>Intéressé</strong>" in fragment.text
    refused = client.post(
        f"/suivi/{match_ids[1]}",
        data={"csrf": csrf, "event": "declined", "reason_code": "too_far", "retour": "/portefeuille"},
    )
    assert refused.status_code == 303 and refused.headers["location"] == "/portefeuille"
    stored = conn.execute("SELECT event, reason_code, adviser_id FROM feedback ORDER BY id").fetchall()
    assert stored == [{"event": "interested", "reason_code": None, "adviser_id": advisers["a"]},
                      {"event": "declined", "reason_code": "too_far", "adviser_id": advisers["a"]}]  # fmt: skip
    again = client.get(f"/candidats/{candidate['id']}/offres", params={"rayon": "80"}).text
    assert "Dernier suivi : <strong>Intéressé</strong>" in again and "Trop loin" in again

    export = client.get("/selection.csv", params={"selection": match_ids[:2]})
    assert export.status_code == 200 and export.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(export.text.lstrip("\ufeff")), delimiter=";"))
    assert rows[0][:3] == ["Rang", "Candidat", "Offre"] and len(rows) == 3
    assert rows[1][1] == candidate["reference"] and rows[1][10] == "Intéressé" and rows[2][10] == "Pas intéressé"

    offer_id = conn.execute("SELECT offer_id FROM match_items WHERE id = %s", (first,)).fetchone()["offer_id"]
    reverse = client.get(f"/offres/{offer_id}/candidats")
    assert reverse.status_code == 200 and candidate["reference"] in reverse.text
    assert "Pourquoi ce candidat" in reverse.text
    assert client.get("/offres/999999999/candidats").status_code == 404

    csrf_b = _sign_in(client, advisers["b"])
    assert client.post(f"/suivi/{first}", data={"csrf": csrf_b, "event": "hired"}).status_code == 404
    assert client.get("/selection.csv", params={"selection": match_ids[:2]}).status_code == 422


def test_news_lists_offers_arrived_since_the_previous_visit(web, conn, world_offer):
    client, advisers, structures = web
    _sign_in(client, advisers["a"])  # first visit: the previous one is recorded for the next session
    first = client.get("/nouveautes").text
    assert "Première visite" in first
    _sign_in(client, advisers["a"])
    assert "Aucune nouvelle offre compatible" in client.get("/nouveautes").text
    title = world_offer(structures[0])
    news = client.get("/nouveautes").text
    assert "dernière connexion" in news and title in news


@pytest.fixture()
def world_offer(conn, embedder):
    """A function adding a fresh, embedded offer near a candidate of a structure (company API path)."""

    def add(structure_id) -> str:
        candidate = conn.execute("SELECT commune_insee, target_rome_codes FROM candidates WHERE structure_id = %s "
                                 "ORDER BY reference LIMIT 1", (structure_id,)).fetchone()  # fmt: skip
        company = conn.execute("SELECT id FROM companies ORDER BY id LIMIT 1").fetchone()["id"]
        offer = OfferCreate(title="Offre toute nouvelle pour la web", contract_type="CDI",
                            description="Poste ouvert aujourd'hui, accueil et orientation des visiteurs.",
                            commune_insee=candidate["commune_insee"],
                            rome_code=candidate["target_rome_codes"][0].strip())  # fmt: skip
        save_offer(conn, embedder, company, offer, "maillage")
        conn.commit()
        return offer.title

    return add


def test_production_has_no_dev_sign_in(settings, embedder, demo_database):
    with pytest.raises(ConfigError, match="MAILLAGE_WEB_SESSION_SECRET"):
        create_app(Settings(**{**settings.model_dump(), "env": "prod"}), load_model=False)
    prod = Settings(**{**settings.model_dump(), "env": "prod", "web_session_secret": "x" * 32})
    with TestClient(create_app(prod, embedder=embedder), follow_redirects=False) as client:
        page = client.get("/connexion").text
        assert "Connexion de développement" not in page and "pas configurée" in page
        assert client.post("/connexion/dev", data={"adviser_id": str(uuid.uuid4())}).status_code == 404
        assert client.get("/connexion/oidc").status_code == 503


@pytest.fixture()
def identity_provider():
    """A minimal OpenID provider on 127.0.0.1: discovery, JWKS, token endpoint; issues what the test sets."""
    import json
    import threading
    import time
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from urllib.parse import parse_qs

    import jwt
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    state: dict = {"nonce": None, "codes": []}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def _json(self, body: dict, status: int = 200) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            if self.path == "/.well-known/openid-configuration":
                self._json({"issuer": issuer, "authorization_endpoint": f"{issuer}/authorize",
                            "token_endpoint": f"{issuer}/token", "jwks_uri": f"{issuer}/jwks"})  # fmt: skip
            elif self.path == "/jwks":
                public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
                self._json({"keys": [{**public, "kid": "idp-1", "use": "sig", "alg": "RS256"}]})
            else:
                self._json({}, 404)

        def do_POST(self) -> None:
            form = parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
            state["codes"].append(form)
            if form.get("client_secret") != ["secret-du-client"] or form.get("code") != ["le-code"]:
                self._json({"error": "invalid_grant"}, 400)
                return
            now = int(time.time())
            claims = {"iss": issuer, "aud": "maillage", "sub": "pc-123", "email": "oidc@example.org",
                      "iat": now, "exp": now + 60, "nonce": state["nonce"]}  # fmt: skip
            token = jwt.encode(claims, key, algorithm="RS256", headers={"kid": "idp-1"})
            self._json({"id_token": token, "access_token": "a", "token_type": "Bearer"})

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    issuer = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield issuer, state
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def test_production_sign_in_is_the_authorization_code_flow(settings, conn, identity_provider):
    from urllib.parse import parse_qs, urlsplit

    issuer, provider = identity_provider
    structure = conn.execute("INSERT INTO structures (kind, name) VALUES ('other', 'S') RETURNING id").fetchone()["id"]
    upsert_adviser(conn, structure, "oidc@example.org")  # invited by email: the subject binds at first sign-in
    conn.commit()
    prod = Settings(**{**settings.model_dump(), "env": "prod", "web_session_secret": "s" * 32, "oidc_issuer": issuer,
                       "oidc_jwks_url": f"{issuer}/jwks", "oidc_client_secret": "secret-du-client",
                       "oidc_redirect_url": "https://testserver/connexion/oidc/retour"})  # fmt: skip
    app = create_app(prod, load_model=False)
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as client:
        assert "Se connecter avec ProConnect" in client.get("/connexion").text
        start = client.get("/connexion/oidc", params={"suite": "/nouveautes"})
        assert start.status_code == 303 and start.headers["location"].startswith(f"{issuer}/authorize?")
        query = {k: v[0] for k, v in parse_qs(urlsplit(start.headers["location"]).query).items()}
        assert query["client_id"] == "maillage" and query["response_type"] == "code"
        assert query["redirect_uri"] == prod.oidc_redirect_url and "openid" in query["scope"]

        provider["nonce"] = "un-autre-nonce"
        replayed = client.get("/connexion/oidc/retour", params={"code": "le-code", "state": query["state"]})
        assert replayed.status_code == 400 and "nonce" in replayed.text
        assert client.get("/connexion/oidc/retour", params={"code": "le-code", "state": "x"}).status_code == 400
        provider["nonce"] = query["nonce"]
        done = client.get("/connexion/oidc/retour", params={"code": "le-code", "state": query["state"]})
        assert done.status_code == 303 and done.headers["location"] == "/nouveautes"
        assert "Secure" in done.headers["set-cookie"] and "HttpOnly" in done.headers["set-cookie"]
        assert client.get("/portefeuille").status_code == 200
    bound = conn.execute("SELECT oidc_subject FROM advisers WHERE email = 'oidc@example.org'").fetchone()
    assert bound == {"oidc_subject": "pc-123"}
