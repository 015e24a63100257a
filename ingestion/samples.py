"""Seeded France-Travail-shaped offers and a local partner feed (tests, benchmarks, demos of the LEE feed).

The feed server speaks the documented LEE partner feed (`docs/ingestion.md`): `GET /offres?range=a-b`
answers `{"resultats": [...]}` with `Content-Range: offres a-b/N`, and `GET /membres` the roster. Faults
(500, timeout, truncated JSON, 429 with `Retry-After`) can be queued to test robust fetching.
"""

from __future__ import annotations

import itertools
import json
import random
import re
import threading
import time
from collections import deque
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

# (INSEE, postal code, label) of real communes with QPV.
PLACES = (
    ("93066", "93200", "93 - Saint-Denis"), ("93008", "93000", "93 - Bobigny"),
    ("69266", "69100", "69 - Villeurbanne"), ("13215", "13015", "13 - Marseille 15e Arrondissement"),
    ("59512", "59100", "59 - Roubaix"), ("31555", "31100", "31 - Toulouse"), ("93048", "93100", "93 - Montreuil"),
)  # fmt: skip
# (title as employers write it, ROME code) — codes of ROME 4.0.
JOBS = (
    ("Serveur en restauration (H/F)", "G1803"), ("Commis de cuisine H/F", "G1602"),
    ("Equipier polyvalent de restauration rapide", "G1603"), ("Hôte de caisse (H/F)", "D1505"),
    ("Employé de rayon libre-service", "D1507"), ("Agent de nettoyage industriel H/F", "K2204"),
    ("Aide-soignant (H/F)", "J1501"), ("Préparateur de commandes", "N1103"), ("Manutentionnaire", "N1105"),
    ("Conducteur de poids lourd H/F", "N4101"), ("Conducteur-livreur", "N4105"), ("Maçon (H/F)", "F1703"),
    ("Electricien du bâtiment", "F1602"), ("Secrétaire", "M1607"), ("Comptable H/F", "M1203"),
    ("Développeur informatique (H/F)", "M1805"), ("Garde d'enfant à domicile", "K1303"),
    ("Agent d'entretien du bâtiment", "I1203"), ("Vendeur en prêt-à-porter", "D1214"), ("Barman (H/F)", "G1801"),
)  # fmt: skip
COMPANIES = (
    ("Atelier du Canal", "44306184100047"), ("Groupe Horizon Services", "55210055400013"),
    ("Maison Bel Air", "38012986600027"), ("Réseau Nord Solidaire", "50239878900019"),
    ("Coopérative des Lilas", None), ("Boulangerie Confluence", None),
)  # fmt: skip
CONTRACTS = ("CDI", "CDD", "MIS", "CDI", "SAI")
_PARAGRAPHS = (
    "Au sein d'une équipe dynamique, vous participez à l'activité quotidienne de l'établissement et "
    "assurez les tâches confiées par votre responsable dans le respect des règles d'hygiène et de sécurité.",
    "Vous accueillez la clientèle, répondez à ses demandes et contribuez à la bonne tenue des espaces. "
    "Vous rendez compte de votre activité et participez aux réunions d'équipe.",
    "Poste ouvert aux débutants : une formation interne est assurée. Vous êtes ponctuel, rigoureux et "
    "appréciez le travail en équipe. Horaires en journée, repos hebdomadaire fixe.",
    "Entreprise engagée dans « Les entreprises s'engagent », nous favorisons le recrutement de personnes "
    "résidant dans les quartiers prioritaires et accompagnons chaque nouvel arrivant par un tuteur.",
    "Rémunération selon la convention collective, mutuelle d'entreprise, titre-restaurant et prise en "
    "charge à 50 % des transports en commun. Possibilité d'évolution rapide.",
)


def _company(k: int) -> tuple[str, str | None]:
    if k < len(COMPANIES):
        return COMPANIES[k]
    return f"Entreprise solidaire {k}", f"9{k:013d}"


def ft_offer(
    n: int,
    rng: random.Random,
    *,
    now: datetime | None = None,
    paragraphs: int = 3,
    combo: tuple[int, int, int] | None = None,
) -> dict:
    """One France-Travail-shaped offer, seeded by `n` and `rng` (company, place and job indexes in `combo`)."""
    now = now or datetime(2026, 11, 1, tzinfo=UTC)
    k, p, j = combo or (rng.randrange(len(COMPANIES)), rng.randrange(len(PLACES)), rng.randrange(len(JOBS)))
    insee, postal, label = PLACES[p]
    title, rome = JOBS[j]
    company, siret = _company(k)
    created = now - timedelta(days=rng.randint(0, 20))
    return {
        "id": f"{200000 + n}X",
        "intitule": title,
        "description": " ".join(rng.sample(_PARAGRAPHS, paragraphs)),
        "dateCreation": created.isoformat().replace("+00:00", "Z"),
        "dateActualisation": created.isoformat().replace("+00:00", "Z"),
        "romeCode": rome,
        "romeLibelle": title,
        "appellationlibelle": title,
        "typeContrat": rng.choice(CONTRACTS),
        "natureContrat": "Contrat travail",
        "experienceExige": rng.choice("DSE"),
        "experienceLibelle": rng.choice(("Débutant accepté", "1 An(s)", "6 Mois")),
        "lieuTravail": {"libelle": label, "codePostal": postal, "commune": insee},
        "entreprise": {"nom": company, **({"siret": siret} if siret else {}), "entrepriseAdaptee": False},
        "competences": [{"code": "123456", "libelle": "Accueillir une clientèle", "exigence": "S"}],
        "langues": [],
        "permis": [{"libelle": "B - Véhicule léger", "exigence": "S"}] if rng.random() < 0.2 else [],
        "formations": [{"niveauLibelle": "CAP, BEP et équivalents", "exigence": "S"}],
        "salaire": {"libelle": "Mensuel de 1802.00 Euros sur 12 mois"},
        "dureeTravailLibelle": rng.choice(("35H Horaires normaux", "24H Travail en journée", "39H Travail de nuit")),
        "dureeTravailLibelleConverti": "Temps plein",
        "alternance": False,
        "nombrePostes": 1,
        "codeNAF": "56.10A",
        "contact": {"nom": "Mme Martine Dupont", "telephone": "0102030405", "urlPostulation": "https://exemple.fr/p"},
        "origineOffre": {"origine": "1", "urlOrigine": f"https://exemple.fr/offres/{n}"},
    }


def ft_offers(count: int, seed: int = 7, paragraphs: int = 3) -> list[dict]:
    """`count` seeded France-Travail-shaped offers, no two of one company, place and job (no duplicates)."""
    rng = random.Random(seed)
    companies = max(len(COMPANIES), -(-count // (len(PLACES) * len(JOBS))) + 1)
    combos = list(itertools.product(range(companies), range(len(PLACES)), range(len(JOBS))))
    rng.shuffle(combos)
    return [ft_offer(n, rng, paragraphs=paragraphs, combo=combos[n]) for n in range(count)]


class FeedState:
    """What the local feed serves, and the faults queued for the next requests."""

    def __init__(self, offers: list[dict], members: list[dict] | None = None) -> None:
        self.offers = list(offers)
        self.members = members or []
        self.faults: deque[tuple[str, float]] = deque()
        self.requests: list[str] = []
        self.lock = threading.Lock()


class _Handler(BaseHTTPRequestHandler):
    state: FeedState

    def log_message(self, *args) -> None:  # keep test output quiet
        pass

    def _send(self, status: int, body: bytes, headers: dict | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        try:
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up first (timeout faults)

    def do_GET(self) -> None:
        state = self.state
        with state.lock:
            state.requests.append(self.path)
            fault = state.faults.popleft() if state.faults else None
        if fault:
            kind, value = fault
            if kind == "500":
                return self._send(500, b'{"message": "erreur interne"}')
            if kind == "429":
                return self._send(429, b"{}", {"Retry-After": str(int(value))})
            if kind == "timeout":
                time.sleep(value)
            if kind == "truncated":
                body = json.dumps({"resultats": state.offers[:3]}).encode()
                return self._send(206, body[: len(body) // 2])
        url = urlparse(self.path)
        if url.path == "/membres":
            return self._send(200, json.dumps(state.members).encode())
        match = re.match(r"^(\d+)-(\d+)$", parse_qs(url.query).get("range", ["0-149"])[0])
        if not match:
            return self._send(400, b'{"message": "range invalide"}')
        start, end = int(match[1]), int(match[2])
        if end - start + 1 > 150:
            return self._send(400, b'{"message": "150 offres au plus par page"}')
        page = state.offers[start : end + 1]
        if not page:
            return self._send(204, b"")
        last = start + len(page) - 1
        status = 200 if last + 1 >= len(state.offers) else 206
        body = json.dumps({"resultats": page, "filtresPossibles": []}, ensure_ascii=False).encode()
        self._send(status, body, {"Content-Range": f"offres {start}-{last}/{len(state.offers)}"})


class FeedServer:
    """A threaded HTTP server on 127.0.0.1 serving a `FeedState`; use as a context manager."""

    def __init__(self, state: FeedState) -> None:
        handler = type("Handler", (_Handler,), {"state": state})
        self.state = state
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        # Request threads are joined on close: no thread outlives the server.
        self.httpd.daemon_threads = False
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="lee-feed", daemon=True)

    @property
    def url(self) -> str:
        """Base URL of the server."""
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self) -> FeedServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)
