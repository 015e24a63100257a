"""A small world for access tests: two structures, their advisers and admins, two companies with keys."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import psycopg

from matching.auth.tokens import sign_local_token
from matching.config import Settings
from matching.referentiels.lookup import find_qpv
from matching.storage.advisers import upsert_adviser
from matching.storage.companies import create_key
from matching.storage.offers import CompanyRecord, upsert_company

FIND_QPV_POINT = """
SELECT q.communes[1] AS insee, q.centroid_lat AS lat, q.centroid_lon AS lon
FROM qpv q JOIN communes c ON c.insee = q.communes[1]
ORDER BY q.code LIMIT 200
"""
FIND_ROME = "SELECT code_rome FROM rome_fiches ORDER BY code_rome LIMIT 2"


@dataclass
class World:
    """Identities (headers per caller) and reference values that tests use."""

    structures: dict[str, uuid.UUID]
    advisers: dict[str, uuid.UUID]
    headers: dict[str, dict[str, str]]
    companies: dict[str, int]
    key_prefixes: dict[str, str] = field(default_factory=dict)
    insee: str = ""
    lat: float = 0.0
    lon: float = 0.0
    rome_codes: tuple[str, ...] = ()


def build_world(conn: psycopg.Connection, settings: Settings) -> World:
    """Structures A and B, advisers of each, a structure admin of A, a platform admin, companies 1 and 2."""
    structures = {}
    for name, kind in (("A", "mission_locale"), ("B", "france_travail"), ("P", "other")):
        row = conn.execute("INSERT INTO structures (kind, name) VALUES (%s, %s) RETURNING id",
                           (kind, f"Structure {name}")).fetchone()  # fmt: skip
        structures[name] = row["id"]
    people = {"adviser_a": ("A", "adviser"), "adviser_b": ("B", "adviser"), "admin_a": ("A", "structure_admin"),
              "admin_b": ("B", "structure_admin"), "platform": ("P", "platform_admin")}  # fmt: skip
    advisers, headers = {}, {"anonymous": {}}
    for name, (structure, role) in people.items():
        email = f"{name}@example.org"
        row = upsert_adviser(conn, structures[structure], email, role, subject=f"local:{email}")
        advisers[name] = row["id"]
        headers[name] = {"Authorization": f"Bearer {sign_local_token(settings, f'local:{email}', email)}"}
    companies, prefixes = {}, {}
    for n in (1, 2):
        company_id = upsert_company(conn, CompanyRecord(name=f"Entreprise {n}", siret=f"1234567890000{n}"))
        key = create_key(conn, company_id)
        companies[f"company_{n}"], prefixes[f"company_{n}"] = company_id, key.prefix
        headers[f"company_{n}"] = {"X-API-Key": key.secret}
    # A QPV centroid can fall outside its own contour: keep the first that lies inside one.
    point = next(p for p in conn.execute(FIND_QPV_POINT).fetchall() if find_qpv(conn, p["lat"], p["lon"]))
    rome = tuple(r["code_rome"] for r in conn.execute(FIND_ROME))
    conn.commit()
    return World(structures=structures, advisers=advisers, headers=headers, companies=companies,
                 key_prefixes=prefixes, insee=point["insee"], lat=point["lat"], lon=point["lon"],
                 rome_codes=rome)  # fmt: skip


def candidate_payload(world: World, reference: str, **changes: Any) -> dict[str, Any]:
    """A valid candidate profile."""
    payload = {
        "reference": reference, "commune_insee": world.insee, "lat": world.lat, "lon": world.lon,
        "target_rome_codes": [world.rome_codes[0]], "skills": [{"label": "Accueil du public"}],
        "languages": [{"label": "Français", "level": "C1"}], "licences": ["B"], "has_vehicle": False,
        "max_commute_km": 15.0, "transport_mode": "public_transport", "unavailable_schedules": ["early", "late"],
        "part_time_only": True, "desired_contracts": ["CDI", "CDD"], "desired_hours_min": 20.0,
        "desired_hours_max": 30.0, "available_from": "2026-12-01", "eligibility": ["QPV", "RSA"],
        "birth_year": 1990, "summary": "Parent isolé, cherche un poste d'accueil sans horaires décalés.",
        "consent": True,
    }  # fmt: skip
    payload.update(changes)
    return payload


def offer_payload(world: World, title: str = "Agent d'accueil", **changes: Any) -> dict[str, Any]:
    """A valid company offer."""
    payload = {
        "title": title, "description": "Accueil physique et téléphonique des visiteurs, orientation, courrier.",
        "contract_type": "CDD", "contract_duration_months": 6.0, "hours_per_week": 24.0,
        "commune_insee": world.insee, "rome_code": world.rome_codes[0], "skills": [{"label": "Accueil"}],
        "positions": 2, "apply_email": "rh@example.org",
    }  # fmt: skip
    payload.update(changes)
    return payload


def field_errors(response) -> dict[str, str]:
    """The field-level messages of a 422 answer, keyed by dotted location (body prefix dropped)."""
    assert response.status_code == 422, response.text
    return {".".join(str(p) for p in e["loc"][1:]): e["msg"] for e in response.json()["detail"]}
