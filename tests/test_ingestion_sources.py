"""Parsing of each source shape, file and EQ2030 exports, the CLI and the procrastinate worker."""

from __future__ import annotations

import json

import pytest
import typer
from psycopg.types.json import Jsonb
from typer.testing import CliRunner

from ingestion.parsing import RecordError, parse_eq2030_row, parse_france_travail_offer, parse_maillage_offer
from ingestion.runner import run_source
from ingestion.samples import ft_offers
from matching.config import get_settings

ADD_SOURCE = "INSERT INTO sources (id, kind, label, config, priority) VALUES (%s, %s, %s, %s, %s)"


def test_france_travail_offer_maps_to_one_vocabulary_and_drops_the_recruiter():
    payload = ft_offers(1, seed=3)[0]
    payload.update(typeContrat="CDD", natureContrat="Contrat apprentissage", codeNAF="56.10A",
                   dureeTravailLibelle="24H30 Travail en journée", experienceLibelle="2 An(s)",
                   formations=[{"niveauLibelle": "Bac+2 ou équivalents"}],
                   description="<p>Vos  missions</p>")  # fmt: skip
    offer = parse_france_travail_offer(payload, "lee")
    assert offer.contract_type == "APPRENTISSAGE" and offer.naf_code == "5610A"
    assert offer.hours_per_week == 24.5 and offer.experience_months == 24 and offer.education_level == 5
    assert offer.description == "Vos missions"
    assert offer.raw["contact"] == {"urlPostulation": "https://exemple.fr/p"}
    assert offer.company_name and offer.postal_code == payload["lieuTravail"]["codePostal"]


def test_maillage_offer_refuses_unknown_fields_with_french_messages():
    with pytest.raises(RecordError) as error:
        parse_maillage_offer({"external_id": "1", "title": "Serveur", "description": "x", "contract_type": "CDI",
                              "rome_code": "serveur", "salaire": 3}, "api")  # fmt: skip
    assert error.value.reason_code == "invalid_fields"
    assert "salaire : champ inconnu" in error.value.message and "code ROME invalide" in error.value.message
    offer = parse_maillage_offer({"external_id": "1", "title": "Serveur", "description": "x", "contract_type": "cdi",
                                  "commune_insee": "93066", "skills": ["Accueil"]}, "api")  # fmt: skip
    assert offer.contract_type == "CDI" and offer.skills[0].label == "Accueil"


def test_eq2030_rows_accept_french_headers_and_dates():
    offer = parse_eq2030_row({"Intitulé du poste": "Vendeuse", "Entreprise": "Boutique des Lilas", "SIRET": "",
                              "Code INSEE": "13215", "Type de contrat": "Intérim", "Heures hebdo": "24,5h",
                              "Date de début": "05/01/2027", "Email candidature": "rh@lilas.fr",
                              "Description": "Vente et conseil."}, "eq2030")  # fmt: skip
    assert (offer.contract_type, offer.hours_per_week, str(offer.starts_on)) == ("MIS", 24.5, "2027-01-05")
    assert offer.external_id.startswith("eq-") and offer.apply_email == "rh@lilas.fr"


def test_files_and_eq2030_exports_ingest_through_the_same_pipeline(conn, tmp_path):
    dump = tmp_path / "dump.json"
    dump.write_text(json.dumps({"resultats": ft_offers(4, seed=8)}), encoding="utf-8")
    csv_export = tmp_path / "eq2030.csv"
    csv_export.write_text(
        "Identifiant;SIRET;Entreprise;Code postal;Intitulé;Description;Contrat;Date de début\n"
        "E1;38012986600027;Maison Bel Air;13015;Agent d'entretien du bâtiment;Entretien des locaux;CDI;01/02/2027\n"
        "E2;;Traiteur Confluence;69100;Commis de cuisine;Préparations froides;CDD;\n"
        "E3;;Sans Lieu;;Aide-cuisinier;Plonge;CDD;\n",
        encoding="utf-8",
    )
    json_export = tmp_path / "eq2030.json"
    json_export.write_text(json.dumps({"offres": [{"id": "J1", "intitule": "Secrétaire", "entreprise": "Cabinet A",
                                                   "code_postal": "93200", "contrat": "CDI",
                                                   "description": "Accueil."}]}), encoding="utf-8")  # fmt: skip
    conn.execute(ADD_SOURCE, ("file", "file", "dump", Jsonb({"path": str(dump), "format": "francetravail"}), 100))
    conn.execute(ADD_SOURCE, ("eq-csv", "eq2030", "EQ", Jsonb({"path": str(csv_export), "format": "csv"}), 30))
    conn.execute(ADD_SOURCE, ("eq-json", "eq2030", "EQ", Jsonb({"path": str(json_export), "format": "json"}), 30))
    conn.commit()
    assert run_source(conn, "file").created == 4
    report = run_source(conn, "eq-csv")
    assert (report.created, report.quarantined) == (2, 1)
    assert run_source(conn, "eq-json").created == 1
    row = conn.execute("SELECT commune_insee, qpv_code, lat, starts_on FROM offers WHERE external_id = 'E1'").fetchone()
    assert row["commune_insee"] == "13215" and row["lat"] is not None and str(row["starts_on"]) == "2027-02-01"
    reason = conn.execute("SELECT reason_code FROM quarantine WHERE source_id = 'eq-csv'").fetchone()
    assert reason["reason_code"] == "unknown_place"


def test_cli_lists_quarantine_and_sweeps(conn, database_url, monkeypatch, tmp_path):
    from maillage.commands.ingest import app as ingest_app

    conn.execute(ADD_SOURCE, ("lee", "lee", "LEE", Jsonb({}), 20))
    conn.execute(
        "INSERT INTO quarantine (source_id, external_id, step, reason_code, reason, payload) "
        "VALUES ('lee', 'X1', 'validate', 'missing_intitule', 'intitule : champ obligatoire manquant', '{}')"
    )
    conn.commit()
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("MAILLAGE_HOME", str(tmp_path))
    get_settings.cache_clear()
    root = typer.Typer()
    root.add_typer(ingest_app, name="ingest")
    try:
        result = CliRunner().invoke(root, ["ingest", "quarantine"])
        assert result.exit_code == 0, result.output
        assert "X1 [validate/missing_intitule] intitule : champ obligatoire manquant" in result.output
        result = CliRunner().invoke(root, ["ingest", "sweep"])
        assert result.exit_code == 0 and "expired 0 offer(s)" in result.output
    finally:
        get_settings.cache_clear()


def test_worker_runs_the_expiry_sweep_job_from_the_queue(conn, database_url, monkeypatch, tmp_path):
    from ingestion.worker import create_app, due

    conn.execute(ADD_SOURCE, ("lee", "lee", "LEE", Jsonb({}), 20))
    conn.commit()
    from ingestion.pipeline import ingest_records

    offer = {**ft_offers(1, seed=2)[0], "dateExpiration": "2021-01-01T00:00:00Z"}
    ingest_records(conn, "lee", [offer])
    kept = ft_offers(2, seed=3)[1]
    ingest_records(conn, "lee", [kept])
    # An embedded active offer, for the per-cell counts the worker refreshes.
    conn.execute("UPDATE offers SET embedding = %s, embedding_model = 'test' WHERE external_id = %s",
                  ("[" + ",".join(["0.05"] * 384) + "]", kept["id"]))  # fmt: skip
    conn.commit()
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("MAILLAGE_HOME", str(tmp_path))
    get_settings.cache_clear()
    app = create_app(database_url)
    try:
        with app.open():
            app.tasks["maillage:expiry_sweep"].defer(timestamp=0)
            app.tasks["maillage:refresh_place_counts"].defer(timestamp=0)
            # The embedding queue is left out: loading the model is not what this test is about.
            app.run_worker(wait=False, install_signal_handlers=False, listen_notify=False, queues=["ingestion"])
    finally:
        get_settings.cache_clear()
    jobs = {r["task_name"]: r["status"] for r in conn.execute("SELECT task_name, status FROM procrastinate_jobs")}
    assert jobs["maillage:expiry_sweep"] == jobs["maillage:refresh_place_counts"] == "succeeded"
    status = {r["external_id"]: r["status"] for r in conn.execute("SELECT external_id, status FROM offers")}
    assert status == {offer["id"]: "expired", kept["id"]: "active"}
    assert conn.execute("SELECT sum(offers) AS n FROM offer_place_counts").fetchone()["n"] == 1
    assert {"maillage:ingest_source", "maillage:dispatch_sources", "maillage:embed_pending"} <= set(app.tasks)
    from datetime import UTC, datetime, timedelta

    now = datetime(2026, 11, 1, tzinfo=UTC)
    assert due(None, 60, now) and due(now - timedelta(minutes=61), 60, now) and not due(now, 60, now)
