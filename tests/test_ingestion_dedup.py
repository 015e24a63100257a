"""De-duplication across sources: true duplicates linked to one kept offer, look-alikes kept apart."""

from __future__ import annotations

import numpy as np
from psycopg.types.json import Jsonb

from ingestion.dedup import DedupCandidate, duplicate_reason, keeper, title_similarity
from ingestion.pipeline import ingest_records
from ingestion.samples import ft_offers

ADD_SOURCE = "INSERT INTO sources (id, kind, label, config, priority) VALUES (%s, %s, %s, %s, %s)"
SIRET = "44306184100047"


def _sources(conn) -> None:
    for source_id, kind, priority in (("lee", "lee", 20), ("eq2030", "eq2030", 30), ("api", "api", 50)):
        conn.execute(ADD_SOURCE, (source_id, kind, source_id, Jsonb({}), priority))


def _ft(external_id: str, title: str, siret: str | None, postal: str, insee: str, company: str = "Atelier du Canal"):
    offer = ft_offers(1, seed=9)[0]
    offer.update(id=external_id, intitule=title, lieuTravail={"libelle": "x", "codePostal": postal, "commune": insee},
                 entreprise={"nom": company, **({"siret": siret} if siret else {})})  # fmt: skip
    return offer


def _eq(title: str, siret: str | None, postal: str, company: str = "Atelier du Canal") -> dict:
    return {"Intitulé du poste": title, "SIRET": siret or "", "Entreprise": company, "Code postal": postal,
            "Description": "Service en salle, accueil des clients.", "Type de contrat": "CDI"}  # fmt: skip


def _statuses(conn) -> dict[str, tuple[str, str | None]]:
    rows = conn.execute(
        "SELECT o.source_id || ':' || o.external_id AS key, o.status, k.source_id || ':' || k.external_id AS kept "
        "FROM offers o LEFT JOIN offers k ON k.id = o.duplicate_of"
    )
    return {r["key"]: (r["status"], r["kept"]) for r in rows}


def test_true_duplicates_across_sources_are_linked_to_one_kept_offer(conn):
    _sources(conn)
    ingest_records(conn, "lee", [_ft("L1", "Serveur en restauration (H/F)", SIRET, "93200", "93066")])
    report = ingest_records(conn, "eq2030", [_eq("Serveur / Serveuse en restauration", SIRET, "93200")],
                            parser="eq2030")  # fmt: skip
    assert report.duplicates == 1
    statuses = _statuses(conn)
    eq_key = next(k for k in statuses if k.startswith("eq2030:"))
    assert statuses["lee:L1"] == ("active", None)
    assert statuses[eq_key] == ("duplicate", "lee:L1")
    # The company's own offer (API) wins the cluster; the others are linked to it, none deleted.
    api = {
        "external_id": "A1",
        "title": "Serveur en restauration",
        "description": "Service en salle.",
        "contract_type": "CDI",
        "postal_code": "93200",
        "company_siret": SIRET,
        "company_name": "Atelier du Canal",
    }
    ingest_records(conn, "api", [api], parser="maillage")
    statuses = _statuses(conn)
    assert statuses["api:A1"] == ("active", None)
    assert statuses["lee:L1"] == ("duplicate", "api:A1") and statuses[eq_key] == ("duplicate", "api:A1")
    history = conn.execute("SELECT count(*) AS n FROM offer_status_history WHERE new_status = 'duplicate'")
    assert history.fetchone()["n"] == 2


def test_look_alikes_are_kept_apart(conn):
    _sources(conn)
    ingest_records(conn, "lee", [
        _ft("L1", "Serveur en restauration (H/F)", SIRET, "93200", "93066"),
        # Same job and place, another company: two real jobs.
        _ft("L2", "Serveur en restauration (H/F)", "55210055400013", "93200", "93066", company="Atelier du Canal"),
        # Same company and job, another town.
        _ft("L3", "Serveur en restauration (H/F)", SIRET, "69100", "69266"),
        # Same company and place, another job.
        _ft("L4", "Commis de cuisine (H/F)", SIRET, "93200", "93066"),
        # Same company, place and trade but a different post.
        _ft("L5", "Serveur de nuit", SIRET, "93200", "93066"),
    ])  # fmt: skip
    # No SIRET and another company name: never merged on title alone.
    ingest_records(conn, "eq2030", [_eq("Serveur en restauration", None, "93200", company="Brasserie du Port")],
                   parser="eq2030")  # fmt: skip
    assert {status for status, _ in _statuses(conn).values()} == {"active"}


def test_a_company_without_siret_matches_on_its_normalised_name(conn):
    _sources(conn)
    ingest_records(conn, "lee", [_ft("L1", "Commis de cuisine H/F", SIRET, "93200", "93066")])
    report = ingest_records(conn, "eq2030", [_eq("COMMIS DE CUISINE", None, "93200", company="ATELIER DU CANAL")],
                            parser="eq2030")  # fmt: skip
    assert report.duplicates == 1


def _candidate(offer_id: int, **kw) -> DedupCandidate:
    base = {
        "source_kind": "lee",
        "source_priority": 20,
        "postal_code": "93200",
        "company_siret": SIRET,
        "company_name_key": "atelier du canal",
        "title_key": "serveur en restauration",
        "completeness": 3,
    }
    return DedupCandidate(offer_id=offer_id, **{**base, **kw})  # fmt: skip


def test_rules_for_similarity_and_the_kept_offer():
    assert title_similarity("serveur en restauration", "serveur restauration") >= 0.88
    assert title_similarity("serveur", "serveur de nuit") < 0.88
    assert duplicate_reason(_candidate(1), _candidate(2)) == "same_employer_place_title"
    assert duplicate_reason(_candidate(1), _candidate(2, company_siret="55210055400013")) is None
    assert duplicate_reason(_candidate(1), _candidate(2, postal_code=None)) is None
    # Same boilerplate, near-identical vectors: merged only when the job (ROME code) is the same too.
    vector = np.ones(4, dtype=np.float32) / 2
    alike = {"title_key": "commis de cuisine", "embedding": vector}
    assert duplicate_reason(_candidate(1, embedding=vector, rome_code="G1803"),
                            _candidate(2, rome_code="G1602", **alike)) is None  # fmt: skip
    assert duplicate_reason(_candidate(1, embedding=vector, rome_code="G1602"),
                            _candidate(2, rome_code="G1602", **alike)) == "same_employer_place_embedding"  # fmt: skip
    cluster = [_candidate(1, completeness=2), _candidate(2, source_kind="api", source_priority=50),
               _candidate(3, completeness=6)]  # fmt: skip
    assert keeper(cluster).offer_id == 2
    assert keeper([cluster[0], cluster[2]]).offer_id == 3
