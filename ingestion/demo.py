"""A realistic, seeded demo set: LEE and EQ2030 companies around QPV, their offers, and candidates.

Offers are written from ROME 4.0 fiches (appellations, definitions, skills); places are real communes
and QPV. Everything goes through the same storage functions as real ingestion.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import psycopg

from matching.domain import OfferRecord, Skill
from matching.referentiels.lookup import find_qpv
from matching.storage.audit import SYSTEM_ACTOR
from matching.storage.candidates import CandidateAccessor, CandidateRecord
from matching.storage.offers import CompanyRecord, ensure_source, upsert_company, upsert_offer

# Entry-level jobs often open to QPV residents, across sectors (ROME 4.0 codes).
DEMO_ROME_CODES = (
    "G1603", "G1602", "G1803", "D1505", "D1106", "D1507", "K1304", "K2204", "J1501", "K1302",
    "N1103", "N1105", "N4101", "N4105", "H3302", "F1703", "F1602", "I1203", "M1607", "D1214",
    "G1801", "K1303", "N4102", "H2909", "M1203",
)  # fmt: skip

# Metropolitan areas, each a hub commune whose QPV host the demo (INSEE codes).
DEMO_AREAS = {
    "Seine-Saint-Denis": ("93066", "93008", "93001", "93048", "93005"),
    "Lyon": ("69266", "69259", "69290", "69383"),
    "Marseille": ("13215", "13214", "13213", "13216"),
    "Lille": ("59512", "59599", "59350"),
    "Toulouse": ("31555",),
}

STRUCTURES = (
    ("france_travail", "France Travail Saint-Denis", "93066"),
    ("mission_locale", "Mission locale de Vaulx-en-Velin", "69256"),
    ("cite_emploi", "Cité de l'emploi de Marseille Nord", "13215"),
)

FIRST_WORDS = ("Atelier", "Groupe", "Maison", "Services", "Compagnie", "Société", "Réseau", "Coopérative")
SECOND_WORDS = ("du Canal", "des Quartiers", "Horizon", "Bel Air", "Saint-Martin", "des Lilas", "Rive Gauche",
                "Grand Sud", "Les Tilleuls", "Confluence", "Nord Solidaire", "Bellevue")  # fmt: skip
LEE_COMMITMENTS = ("recrutement_qpv", "apprentissage", "stages", "parrainage", "achats_inclusifs")
CONTRACTS = (("CDI", 0.45), ("CDD", 0.3), ("MIS", 0.1), ("APPRENTISSAGE", 0.1), ("IAE", 0.05))

FICHES = """
SELECT f.code_rome, f.label,
       (SELECT t.text FROM rome_texts AS t WHERE t.code_rome = f.code_rome AND t.kind = 'definition')
           AS definition,
       ARRAY(SELECT c.label FROM rome_fiche_items AS i JOIN rome_competences AS c ON c.code_ogr = i.code_ogr
             WHERE i.code_rome = f.code_rome AND i.block = 'competences'
             ORDER BY i.principal DESC, i.code_ogr LIMIT 30) AS skills
FROM rome_fiches AS f WHERE f.code_rome = ANY(%(codes)s)
"""
APPELLATIONS = """
SELECT code_ogr, label, code_rome FROM rome_appellations
WHERE code_rome = ANY(%(codes)s) AND NOT peu_usite ORDER BY code_ogr
"""
QPV_OF_COMMUNES = """
SELECT code, label, centroid_lat AS lat, centroid_lon AS lon, communes[1] AS insee
FROM qpv WHERE communes && %(communes)s ORDER BY code
"""
COMMUNE_CENTRE = "SELECT insee, name, lat, lon FROM communes WHERE insee = ANY(%(codes)s)"
DEMO_CANDIDATE_COUNT = "SELECT count(*) AS n FROM candidates"
DEMO_OFFER_COUNT = "SELECT count(*) AS n FROM offers WHERE source_id IN ('lee-demo', 'eq2030-demo')"


@dataclass(frozen=True, slots=True)
class DemoCounts:
    """What the demo loader created."""

    structures: int
    companies: int
    offers: int
    candidates: int


def _siret(rng: random.Random) -> str:
    """A random SIRET that passes the Luhn check, as real ones do."""
    digits = [rng.randrange(10) for _ in range(13)]
    for check in range(10):
        candidate = [*digits, check]
        total = 0
        for i, d in enumerate(reversed(candidate)):
            total += (d * 2 - 9 if d * 2 > 9 else d * 2) if i % 2 else d
        if total % 10 == 0:
            return "".join(map(str, candidate))
    raise AssertionError("unreachable: one check digit always fits")


def _jitter(rng: random.Random, lat: float, lon: float, km: float) -> tuple[float, float]:
    return lat + rng.uniform(-km, km) / 111.0, lon + rng.uniform(-km, km) / 75.0


def _title(label: str) -> str:
    """'Serveur / Serveuse en restauration' → 'Serveur en restauration (H/F)'."""
    if " / " in label:
        first, rest = label.split(" / ", 1)
        # The feminine form repeats as many words as the masculine one; what follows is shared.
        tail = " ".join(rest.split()[len(first.split()) :])
        label = f"{first} {tail}".strip()
    return f"{label} (H/F)"


def _weighted(rng: random.Random, choices) -> str:
    return rng.choices([c for c, _ in choices], weights=[w for _, w in choices])[0]


def demo_present(conn: psycopg.Connection) -> bool:
    """Whether demo offers were already loaded."""
    return conn.execute(DEMO_OFFER_COUNT).fetchone()["n"] > 0


def load_demo(
    conn: psycopg.Connection,
    *,
    offers: int = 400,
    candidates: int = 45,
    seed: int = 2026,
    progress: Callable[[int, int], None] | None = None,
) -> DemoCounts:
    """Create demo structures, companies, offers and candidates (not yet embedded), in one transaction."""
    rng = random.Random(seed)
    codes = list(DEMO_ROME_CODES)
    fiches = {r["code_rome"]: r for r in conn.execute(FICHES, {"codes": codes})}
    appellations: dict[str, list[dict]] = {}
    for row in conn.execute(APPELLATIONS, {"codes": codes}):
        appellations.setdefault(row["code_rome"], []).append(row)
    codes = [c for c in codes if c in fiches and c in appellations]
    if not codes:
        raise RuntimeError("reference data not loaded: run `maillage referentiels load` first")
    all_communes = [c for area in DEMO_AREAS.values() for c in area]
    qpvs = conn.execute(QPV_OF_COMMUNES, {"communes": all_communes}).fetchall()
    centres = {r["insee"]: r for r in conn.execute(COMMUNE_CENTRE, {"codes": all_communes})}

    ensure_source(conn, "lee-demo", "demo", "Les entreprises s'engagent (démo)", priority=20)
    ensure_source(conn, "eq2030-demo", "demo", "Entrepreneuriat Quartiers 2030 (démo)", priority=30)

    companies = []
    for i in range(60):
        area = rng.choice(list(DEMO_AREAS.values()))
        insee = rng.choice([c for c in area if c in centres])
        eq2030 = i % 4 == 0
        lee = not eq2030 and rng.random() < 0.7
        record = CompanyRecord(
            name=f"{rng.choice(FIRST_WORDS)} {rng.choice(SECOND_WORDS)}",
            siret=_siret(rng),
            commune_insee=insee,
            size_band=rng.choice(("1-9", "10-49", "50-249", "250+")) if not eq2030 else "1-9",
            lee_member=lee,
            lee_commitments=tuple(rng.sample(LEE_COMMITMENTS, rng.randint(1, 3))) if lee else (),
            eq2030=eq2030,
            qpv_clause=lee and rng.random() < 0.5,
        )
        companies.append((upsert_company(conn, record), record))

    now = datetime.now(UTC)
    for n in range(offers):
        company_id, company = rng.choice(companies)
        code = rng.choice(codes)
        fiche = fiches[code]
        appellation = rng.choice(appellations[code])
        centre = centres[company.commune_insee]
        lat, lon = _jitter(rng, centre["lat"], centre["lon"], 4)
        skills = tuple(Skill(label=s) for s in rng.sample(list(fiche["skills"]), min(5, len(fiche["skills"]))))
        contract = _weighted(rng, CONTRACTS)
        hours = rng.choice((35.0, 35.0, 35.0, 24.0, 28.0, 39.0))
        schedule = tuple(sorted(rng.sample(("early", "late", "weekend", "night"), rng.choice((0, 0, 1, 2)))))
        definition = " ".join((fiche["definition"] or fiche["label"]).split())
        employer = "Entreprise engagée « Les entreprises s'engagent »" if company.lee_member else company.name
        description = (
            f"{company.name} recrute : {appellation['label']}. {definition} "
            f"Vos missions : {'; '.join(s.label.lower() for s in skills[:3])}. "
            f"Contrat {contract}, {hours:g} h par semaine. {employer}. "
            "Débutants acceptés, formation assurée en interne."
        )
        created = now - timedelta(days=rng.randint(0, 40))
        record = OfferRecord(
            source_id="eq2030-demo" if company.eq2030 else "lee-demo",
            external_id=f"DEMO-{n:05d}",
            title=_title(appellation["label"]),
            description=description,
            contract_type=contract,
            rome_code=code,
            rome_code_source=code,
            appellation_code=appellation["code_ogr"],
            appellation_label=appellation["label"],
            hours_per_week=hours,
            part_time=hours < 35,
            work_schedule=schedule,
            experience_required=rng.choice(("D", "D", "S", "E")),
            skills=skills,
            licences=("B",) if code.startswith("N41") or rng.random() < 0.1 else (),
            commune_insee=company.commune_insee,
            workplace_label=centre["name"],
            lat=lat,
            lon=lon,
            qpv_code=find_qpv(conn, lat, lon),
            company_siret=company.siret,
            company_name=company.name,
            source_created_at=created,
            expires_at=created + timedelta(days=60),
        )
        upsert_offer(conn, record, company_id)
        if progress:
            progress(n + 1, offers + candidates)

    structure_ids = []
    for kind, name, insee in STRUCTURES:
        row = conn.execute(
            "INSERT INTO structures (kind, name, commune_insee) VALUES (%s, %s, %s) RETURNING id",
            (kind, name, insee),
        ).fetchone()
        structure_ids.append(row["id"])
    all_appellations = [a for code in codes for a in appellations[code]]
    for n in range(candidates):
        qpv = rng.choice(qpvs)
        structure_id = structure_ids[n % len(structure_ids)]
        lat, lon = _jitter(rng, qpv["lat"], qpv["lon"], 0.3)
        target = rng.choice(all_appellations)
        fiche = fiches[target["code_rome"]]
        childcare = rng.random() < 0.3
        skills = rng.sample(list(fiche["skills"]), min(4, len(fiche["skills"])))
        summary = (
            f"Souhaite travailler comme {target['label'].lower()}. "
            + ("Expérience en " + skills[0].lower() + ". " if skills else "")
            + ("Parent isolé, pas d'horaires tôt le matin ni tard le soir. " if childcare else "")
            + rng.choice(("Motivé, disponible rapidement.", "Cherche un premier emploi stable.",
                          "Reprise d'activité après une formation.", "Souhaite un contrat long."))
        )  # fmt: skip
        record = CandidateRecord(
            structure_id=structure_id,
            reference=f"DEMO-{n:04d}",
            commune_insee=qpv["insee"],
            lat=lat,
            lon=lon,
            qpv_code=find_qpv(conn, lat, lon) or qpv["code"],
            target_rome_codes=(target["code_rome"],),
            target_appellations=(target["code_ogr"],),
            skills=tuple({"label": s} for s in skills),
            experience_months=rng.choice((0, 6, 12, 36)),
            education_level=rng.choice((3, 3, 4, 5)),
            licences=("B",) if rng.random() < 0.4 else (),
            has_vehicle=rng.random() < 0.3,
            max_commute_km=float(rng.choice((8, 10, 15, 20, 30))),
            transport_mode=rng.choice(("public_transport", "public_transport", "walk", "car")),
            unavailable_schedules=("early", "late") if childcare else (),
            part_time_only=childcare and rng.random() < 0.5,
            desired_contracts=tuple(rng.sample(("CDI", "CDD", "MIS", "APPRENTISSAGE"), 2)),
            eligibility=tuple(sorted({"QPV", *rng.sample(("RSA", "DELD", "jeune", "RQTH"), 1)})),
            birth_year=rng.randint(1970, 2006),
            summary=summary,
        )
        CandidateAccessor(conn, SYSTEM_ACTOR, structure_id).create(record)
        if progress:
            progress(offers + n + 1, offers + candidates)
    conn.commit()
    return DemoCounts(len(structure_ids), len(companies), offers, candidates)
