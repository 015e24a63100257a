"""Reference data: ROME 4.0, communes and QPV loaded from the real files into the real database."""

from __future__ import annotations

import math
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from matching.referentiels import geo, lookup
from matching.referentiels.load import (
    TABLE_COLUMNS,
    ReferenceDataMissing,
    check_reference_directory,
    load_reference_data,
)
from matching.referentiels.rome import RomeFormatError
from matching.referentiels.text import fix_doubled_apostrophes, normalize_label, normalize_text
from matching.storage.database import connect
from matching.storage.migrator import upgrade

# Clearly inside their QPV (checked with the pure helper, far from any edge), across territories.
KNOWN_QPV_POINTS = {
    "QN09336I": (48.95676, 2.35692),  # Pierrefitte-sur-Seine, commune merged into Saint-Denis
    "QN06932M": (45.72964, 4.86731),  # Lyon / Vénissieux
    "QN01316M": (43.52906, 5.4308),  # Aix-en-Provence
    "QN97411M": (-21.3376, 55.4629),  # Saint-Pierre, La Réunion
    "QN98735M": (-17.49077, -149.79889),  # Moorea, French Polynesia
}
# Open countryside (Boischaut, Indre) and the Atlantic.
POINTS_OUTSIDE_ANY_QPV = [(46.62, 1.95), (47.0, -5.0)]

COUNT_ROWS = "SELECT count(*) AS n FROM {}"
SCHEMA_OBJECTS = """
SELECT conrelid::regclass::text AS table_name, conname AS name, pg_get_constraintdef(oid) AS definition
FROM pg_constraint WHERE conrelid = ANY(%(tables)s::text[]::regclass[])
UNION ALL
SELECT indrelid::regclass::text, indexrelid::regclass::text, pg_get_indexdef(indexrelid)
FROM pg_index WHERE indrelid = ANY(%(tables)s::text[]::regclass[])
ORDER BY 1, 2, 3
"""


@pytest.fixture(scope="module")
def qpv_records(reference_data_dir: Path) -> list[geo.QpvRecord]:
    """QPV contours parsed from the files, independently of the database."""
    files = reference_data_dir / "geo"
    centroids = geo.read_qpv_centroids(files / "qpv_2024_centroids.csv")
    return list(geo.read_qpv(files / "qpv.json.gz", centroids, {}))


def _distance_to_edges(lon: float, lat: float, parts: list[geo.Polygon]) -> float:
    best = math.inf
    for rings in parts:
        for ring in rings:
            for (x1, y1), (x2, y2) in zip(ring, ring[1:] + ring[:1], strict=True):
                dx, dy = x2 - x1, y2 - y1
                t = max(0.0, min(1.0, ((lon - x1) * dx + (lat - y1) * dy) / ((dx * dx + dy * dy) or 1.0)))
                best = min(best, math.hypot(lon - (x1 + t * dx), lat - (y1 + t * dy)))
    return best


# Text normalisation -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("SERVEUR / SERVEUSE (H/F)", "serveur"),
        ("Aide-soignant(e) H/F", "aide soignant"),
        ("Vendeur / Vendeuse", "vendeur"),
        ("Serveur/Serveuse", "serveur"),
        ("Agent(e) d'accueil F/H", "agent d accueil"),
        ("Technicien(ne) de maintenance (H/F/X)", "technicien de maintenance"),
        ("Chef / Cheffe de rang", "chef de rang"),
        ("Conducteur / Conductrice d'engins agricoles", "conducteur d engins agricoles"),
        ("Auteur-compositeur / Auteure-compositrice", "auteur compositeur"),
        ("Opératrice / Opérateur de saisie", "operateur de saisie"),
        ("Infirmier·ère  diplômé.e", "infirmier diplome"),
        ("Cuisinier H / F", "cuisinier"),
        ("L''Employé d’étage", "l employe d etage"),
        ("Œnologue", "oenologue"),
        # Genuine alternatives are kept, not mistaken for gender forms.
        ("Steward / Hôtesse de l'air", "steward hotesse de l air"),
        ("Responsable achats / Responsable ventes", "responsable achats responsable ventes"),
    ],
)
def test_normalize_label(title: str, expected: str) -> None:
    assert normalize_label(title) == expected


def test_text_helpers() -> None:
    assert fix_doubled_apostrophes("L''Employé d''étage") == "L'Employé d'étage"
    assert normalize_text("Saint-Étienne-du-Rouvray") == "saint etienne du rouvray"
    assert normalize_label("") == ""


# Loading ----------------------------------------------------------------------------------


def test_counts_and_versions(conn) -> None:
    counts = {
        table: conn.execute(sql.SQL(COUNT_ROWS).format(sql.Identifier(table))).fetchone()["n"]
        for table in TABLE_COLUMNS
    }
    assert counts["rome_fiches"] == 1584
    assert counts["rome_appellations"] == 13120
    assert counts["rome_grand_domaines"] == 14
    # 18,317 skills + 15,354 knowledge items + 179 work contexts.
    assert counts["rome_competences"] == 18317 + 15354 + 179
    assert counts["rome_fiche_items"] == 104219
    assert counts["rome_mobilites"] == 14912
    assert counts["rome_texts"] == 1584 * 2
    assert 34_000 < counts["communes"] < 36_000
    assert counts["qpv"] == 1584
    assert counts["qpv_rings"] >= 1584
    versions = {row["dataset"]: row for row in conn.execute("SELECT * FROM reference_data_versions")}
    assert set(versions) == {"rome", "communes", "qpv"}
    assert versions["rome"]["version"].startswith("v460")
    assert versions["rome"]["row_count"] == 1584
    assert versions["qpv"]["table_counts"]["qpv_rings"] == counts["qpv_rings"]
    assert len(versions["rome"]["files"]) == 15


def test_rome_content(conn) -> None:
    assert conn.execute("SELECT count(*) AS n FROM rome_texts WHERE text LIKE '%''''%'").fetchone()["n"] == 0
    caces = conn.execute(
        "SELECT count(*) AS n FROM rome_texts WHERE text LIKE %s",
        ("%Certificat(s) d'Aptitude à la Conduite%",),
    ).fetchone()["n"]
    assert caces > 0  # published as "d''Aptitude"
    # The rubric of each fiche item agrees with the kind of the item it points to.
    mismatches = conn.execute(
        """
        SELECT count(*) AS n FROM rome_fiche_items i JOIN rome_competences c USING (code_ogr)
        WHERE i.rubric IS DISTINCT FROM CASE WHEN c.kind = 'contexte_travail' THEN NULL ELSE c.kind END
        """
    ).fetchone()["n"]
    assert mismatches == 0
    principal = conn.execute(
        "SELECT count(*) AS n FROM rome_fiche_items WHERE code_rome = 'J1501' AND principal"
    ).fetchone()["n"]
    assert principal > 0
    # The NAF file is Latin-1 despite its name; its links still load.
    divisions = conn.execute("SELECT naf_division FROM rome_fiche_naf WHERE code_rome = 'A1208'").fetchall()
    assert "01" in {row["naf_division"] for row in divisions}
    # Every stored normalised label is a fixed point of normalize_label.
    for row in conn.execute("SELECT label_normalized FROM rome_appellations"):
        assert normalize_label(row["label_normalized"]) == row["label_normalized"]


def _schema_objects(conn) -> list[dict]:
    return conn.execute(SCHEMA_OBJECTS, {"tables": list(TABLE_COLUMNS)}).fetchall()


def test_load_restores_constraints_and_indexes(conn, pg_server) -> None:
    # The loader drops foreign keys and secondary indexes around COPY: compare with a fresh migration.
    name = "referentiels_schema_only"
    with psycopg.connect(pg_server.get_uri(), autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        upgrade(pg_server.get_uri(name))
        with connect(pg_server.get_uri(name)) as fresh:
            expected = _schema_objects(fresh)
    finally:
        with psycopg.connect(pg_server.get_uri(), autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    assert len(expected) > 40
    assert _schema_objects(conn) == expected


def test_failed_load_keeps_previous_content(conn, reference_data_dir: Path, tmp_path: Path) -> None:
    release = tmp_path / "rome-v460"
    release.mkdir()
    for path in (reference_data_dir / "rome-v460").iterdir():
        (release / path.name).symlink_to(path)
    (tmp_path / "geo").symlink_to(reference_data_dir / "geo")
    broken = release / "unix_referentiel_appellation_v460_utf8.csv"
    broken.unlink()
    broken.write_text('"code_ogr","libelle"\n"1","Sans colonne code_rome"\n', encoding="utf-8")
    before = _schema_objects(conn)
    conn.commit()
    with pytest.raises(RomeFormatError, match="code_rome"):
        load_reference_data(conn, tmp_path)  # fails after the TRUNCATE and the first tables
    assert conn.execute("SELECT count(*) AS n FROM rome_fiches").fetchone()["n"] == 1584
    assert conn.execute("SELECT count(*) AS n FROM rome_appellations").fetchone()["n"] == 13120
    assert _schema_objects(conn) == before


def test_missing_files_are_named_with_sources(tmp_path: Path, reference_data_dir: Path) -> None:
    check_reference_directory(reference_data_dir)
    (tmp_path / "geo").mkdir()
    (tmp_path / "geo" / "france.csv").write_text("insee,dept,lon,lat,name\n", encoding="utf-8")
    with pytest.raises(ReferenceDataMissing) as excinfo:
        check_reference_directory(tmp_path)
    message = str(excinfo.value)
    assert "rome-vNNN/" in message and "geo/qpv.json.gz" in message and "geo/insee_cp.csv" in message
    assert "geo/france.csv" not in message
    assert "data.gouv.fr" in message and "francetravail.io" in message and "geo.api.gouv.fr" in message


# QPV membership -----------------------------------------------------------------------------


def test_known_qpv_contain_their_centroid(conn, qpv_records) -> None:
    by_code = {record.code: record for record in qpv_records}
    for code, (lat, lon) in KNOWN_QPV_POINTS.items():
        assert geo.point_in_multipolygon(lon, lat, by_code[code].parts)
        assert lookup.find_qpv(conn, lat, lon) == code
    for lat, lon in POINTS_OUTSIDE_ANY_QPV:
        assert not any(geo.point_in_multipolygon(lon, lat, record.parts) for record in qpv_records)
        assert lookup.find_qpv(conn, lat, lon) is None


def test_database_agrees_with_pure_point_in_polygon(conn, qpv_records) -> None:
    inside = outside = 0
    for record in qpv_records:
        lat, lon = record.centroid_lat, record.centroid_lon
        if _distance_to_edges(lon, lat, record.parts) < 1e-4:
            continue  # within ~10 m of an edge: boundary conventions may differ
        found = lookup.find_qpv(conn, lat, lon)
        if geo.point_in_multipolygon(lon, lat, record.parts):
            inside += 1
            assert found == record.code
        else:  # a concave QPV's centroid may fall outside it (or in a neighbour)
            outside += 1
            assert found != record.code
    assert inside > 1000 and outside > 100


def test_point_in_hole_is_not_in_qpv(conn) -> None:
    # The 2024 contours have no holes: add a square QPV with a square hole, in the open sea.
    outer = [(-30.0, 40.0), (-29.99, 40.0), (-29.99, 40.01), (-30.0, 40.01)]
    hole = [(-29.997, 40.003), (-29.993, 40.003), (-29.993, 40.007), (-29.997, 40.007)]
    conn.execute(
        "INSERT INTO qpv (code, label, dept, communes, communes_published, centroid_lat, centroid_lon)"
        " VALUES ('QN99901T', 'Test', '999', '{}', '{}', 40.005, -29.995)"
    )
    conn.execute(
        "INSERT INTO qpv_rings (qpv_code, part, ring, is_hole, shape_microdeg)"
        " VALUES ('QN99901T', 0, 0, false, %s), ('QN99901T', 0, 1, true, %s)",
        (geo.polygon_literal(outer), geo.polygon_literal(hole)),
    )
    assert geo.point_in_multipolygon(-29.999, 40.001, [[outer, hole]])
    assert lookup.find_qpv(conn, 40.001, -29.999) == "QN99901T"
    assert not geo.point_in_multipolygon(-29.995, 40.005, [[outer, hole]])
    assert lookup.find_qpv(conn, 40.005, -29.995) is None


# Communes ----------------------------------------------------------------------------------


def test_commune_by_insee(conn) -> None:
    lyon = lookup.commune(conn, "69123")
    assert lyon is not None and lyon.name == "Lyon" and lyon.postal_code == "69001"
    assert 45.7 < lyon.lat < 45.8 and 4.8 < lyon.lon < 4.9
    paris_11 = lookup.commune(conn, "75111")
    assert paris_11 is not None and paris_11.postal_code == "75011"
    assert paris_11.kind == "arrondissement" and paris_11.parent_insee == "75056"
    ajaccio = lookup.commune(conn, "2a004")
    assert ajaccio is not None and ajaccio.name == "Ajaccio" and ajaccio.dept == "2A"
    # Pierrefitte-sur-Seine (93059) merged into Saint-Denis (93066) in 2025.
    merged = lookup.commune(conn, "93059")
    assert merged is not None and merged.insee == "93066" and merged.name == "Saint-Denis"
    papeete = lookup.commune(conn, "98735")
    assert papeete is not None and not papeete.centre_reliable
    assert lookup.commune(conn, "99999") is None
    qpv = conn.execute("SELECT communes, communes_published FROM qpv WHERE code = 'QN09336I'").fetchone()
    assert qpv == {"communes": ["93066"], "communes_published": ["93059"]}


def test_communes_for_postal_code(conn) -> None:
    assert [c.insee for c in lookup.communes_for_postal_code(conn, "93380")] == ["93066"]
    paris_16 = [c.insee for c in lookup.communes_for_postal_code(conn, "75116")]
    assert paris_16 == ["75056", "75116"] or set(paris_16) == {"75056", "75116"}
    marseille_1 = lookup.communes_for_postal_code(conn, "13001")
    assert [c.insee for c in marseille_1][:2] == ["13201", "13055"]
    shared = lookup.communes_for_postal_code(conn, "01190")
    assert len(shared) > 1 and all(c.insee.startswith("01") for c in shared)
    assert lookup.communes_for_postal_code(conn, "00000") == []


def test_search_communes(conn) -> None:
    assert lookup.search_communes(conn, "st etienne")[0].insee == "42218"
    assert "93066" in {c.insee for c in lookup.search_communes(conn, "Saint-Denis")}
    assert lookup.search_communes(conn, "marseil", 3)[0].insee == "13055"
    assert lookup.search_communes(conn, "evry courcouronnes")[0].insee == "91228"
    assert lookup.search_communes(conn, "69003")[0].insee == "69383"
    assert lookup.search_communes(conn, "  ") == []


# ROME lookups -----------------------------------------------------------------------------


def test_appellation_lookups(conn) -> None:
    found = lookup.search_appellations(conn, "aide soign")
    assert found[0].label.startswith("Aide-soignant") and found[0].code_rome == "J1501"
    assert any(a.code_rome == "D1214" for a in lookup.search_appellations(conn, "vendeuse pret a porter"))
    assert lookup.search_appellations(conn, "infirmiere")[0].label.startswith("Infirmier")
    assert lookup.search_appellations(conn, "boulangre", 5)[0].code_rome == "D1102"  # typo-tolerant
    serveur = lookup.appellation_by_normalized_label(conn, "SERVEUR / SERVEUSE (H/F)")
    assert [a.code_rome for a in serveur] == ["G1803"]
    exact = lookup.appellation_by_normalized_label(conn, "Aide-soignant(e) H/F")
    assert [a.label for a in exact] == ["Aide-soignant / Aide-soignante"]
    assert lookup.appellation_by_normalized_label(conn, "Astronaute de la Lune") == []


def test_fiche_and_mobility(conn) -> None:
    fiche = lookup.rome_fiche(conn, "j1501")
    assert fiche is not None and fiche.label == "Aide-soignant / Aide-soignante"
    assert fiche.grand_domaine == "J" and fiche.domaine == "J15" and fiche.grand_domaine_label == "Santé"
    assert fiche.definition and fiche.acces_metier and "''" not in fiche.acces_metier
    assert lookup.rome_fiche(conn, "Z9999") is None
    targets = lookup.mobility_targets(conn, "J1501")
    assert targets and "J1501" not in targets and len(set(targets)) == len(targets)
    assert all(lookup.rome_fiche(conn, code) is not None for code in targets)
    assert lookup.mobility_targets(conn, "G1803")
