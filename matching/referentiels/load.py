"""Load ROME 4.0, communes and QPV contours into PostgreSQL, replacing what was there, in one transaction."""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from operator import attrgetter
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from matching.referentiels import geo, rome

logger = logging.getLogger(__name__)

Progress = Callable[[str, int], None]

SOURCES = {
    "rome": (
        "France Travail, Répertoire Opérationnel des Métiers et des Emplois (ROME 4.0): data.gouv.fr "
        '"Répertoire Opérationnel des Métiers et des Emplois (ROME)" or the francetravail.io ROME 4.0 APIs'
    ),
    "communes": (
        "INSEE Code officiel géographique and geo.api.gouv.fr commune centres and postal codes "
        "(Licence Ouverte)"
    ),
    "qpv": (
        'ANCT, data.gouv.fr "Quartiers prioritaires de la politique de la ville (QPV)", '
        "QPV 2024 contours (decree 2023-1314)"
    ),
}
QPV_VERSION = "QPV 2024 (decree 2023-1314)"

# Columns copied into each table, in load order (parents before children).
TABLE_COLUMNS: dict[str, tuple[str, ...]] = {
    "rome_grand_domaines": ("code", "label"),
    "rome_domaines": ("code", "label", "grand_domaine"),
    "rome_fiches": (
        "code_rome", "code_ogr", "code_fiche_metier", "label", "label_search", "code_rome_parent",
        "domaine", "grand_domaine", "emploi_cadre", "emploi_reglemente", "transition_eco", "transition_num",
        "transition_demo", "riasec_majeur", "riasec_mineur",
    ),
    "rome_appellations": (
        "code_ogr", "label", "short_label", "label_normalized", "label_search", "code_rome",
        "code_rome_parent", "classification", "peu_usite", "emploi_cadre", "emploi_reglemente",
        "transition_eco", "transition_num", "transition_demo",
    ),
    "rome_competences": (
        "code_ogr", "label", "kind", "is_macro", "macro_code", "macro_code_ogr", "category", "subcategory",
        "definition", "transition_eco", "transition_num", "origin",
    ),
    "rome_fiche_items": ("code_rome", "code_ogr", "block", "rubric", "principal", "emergent"),
    "rome_texts": ("code_rome", "kind", "text"),
    "rome_mobilites": ("code_rome", "code_rome_cible", "ordre"),
    "rome_naf_divisions": ("code", "label"),
    "rome_fiche_naf": ("code_rome", "naf_division"),
    "communes": (
        "insee", "name", "name_normalized", "dept", "kind", "parent_insee", "lat", "lon", "centre_reliable",
    ),
    "commune_postal_codes": ("insee", "postal_code", "is_main"),
    "commune_aliases": ("old_insee", "insee", "effective_on", "reason"),
    "qpv": (
        "code", "label", "dept", "communes", "communes_published", "centroid_lat", "centroid_lon",
    ),
    "qpv_rings": ("qpv_code", "part", "ring", "is_hole", "shape_microdeg"),
}  # fmt: skip
DATASET_TABLES = {
    "rome": [name for name in TABLE_COLUMNS if name.startswith("rome_")],
    "communes": ["communes", "commune_postal_codes", "commune_aliases"],
    "qpv": ["qpv", "qpv_rings"],
}
DATASET_MAIN_TABLE = {"rome": "rome_fiches", "communes": "communes", "qpv": "qpv"}
DATASET_GEO_FILES = {"communes": ("communes", "postal_codes"), "qpv": ("qpv", "qpv_centroids")}
REFERENCE_TABLES = [*TABLE_COLUMNS, "reference_data_versions"]

TRUNCATE = sql.SQL("TRUNCATE {}").format(sql.SQL(", ").join(map(sql.Identifier, REFERENCE_TABLES)))
COPY = "COPY {table} ({columns}) FROM STDIN"
ANALYZE = sql.SQL("ANALYZE {}").format(sql.SQL(", ").join(map(sql.Identifier, REFERENCE_TABLES)))
# Bulk-load pattern: foreign keys and secondary indexes of the reference tables are dropped before
# COPY and recreated after it from their catalog definitions, in the same transaction; row-by-row
# foreign-key triggers and incremental GIN/GiST inserts would double the load time.
SELECT_FOREIGN_KEYS = """
SELECT n.nspname AS schema, t.relname AS table_name, c.conname AS name,
       pg_get_constraintdef(c.oid) AS definition
FROM pg_constraint c
JOIN pg_class t ON t.oid = c.conrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
WHERE c.contype = 'f' AND c.conrelid = ANY(%(tables)s::text[]::regclass[])
ORDER BY t.relname, c.conname
"""
SELECT_SECONDARY_INDEXES = """
SELECT n.nspname AS schema, i.relname AS name, pg_get_indexdef(x.indexrelid) AS definition
FROM pg_index x
JOIN pg_class i ON i.oid = x.indexrelid
JOIN pg_namespace n ON n.oid = i.relnamespace
WHERE x.indrelid = ANY(%(tables)s::text[]::regclass[])
  AND NOT x.indisunique
  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)
ORDER BY i.relname
"""
DROP_CONSTRAINT = "ALTER TABLE {table} DROP CONSTRAINT {name}"
ADD_CONSTRAINT = "ALTER TABLE {table} ADD CONSTRAINT {name} {definition}"
DROP_INDEX = "DROP INDEX {name}"
LOADED_DATASETS = "SELECT count(*) AS n FROM reference_data_versions"

INSERT_VERSION = """
INSERT INTO reference_data_versions (dataset, version, source, row_count, table_counts, files)
VALUES (%(dataset)s, %(version)s, %(source)s, %(row_count)s, %(table_counts)s, %(files)s)
"""


class ReferenceDataMissing(FileNotFoundError):
    """Reference files are missing from the configured directory; the message says where to get them."""


def _required_files(directory: Path) -> tuple[dict[str, dict[str, Path]], list[str]]:
    """Every file the loader reads, per dataset and logical name, and the missing ones."""
    files: dict[str, dict[str, Path]] = {"rome": {}, "communes": {}, "qpv": {}}
    missing: list[str] = []
    release = rome.find_rome_release(directory)
    if release is None:
        missing.append("rome-vNNN/ (a ROME 4.0 CSV release folder, e.g. rome-v460/)")
    else:
        files["rome"] = release.paths()
    for dataset, names in DATASET_GEO_FILES.items():
        files[dataset] = {name: directory / geo.GEO_FILES[name] for name in names}
    missing.extend(
        str(path.relative_to(directory))
        for paths in files.values()
        for path in paths.values()
        if not path.is_file()
    )
    return files, missing


def check_reference_directory(directory: Path) -> None:
    """Raise `ReferenceDataMissing`, naming the missing files and their official sources, if any is absent."""
    directory = Path(directory)
    _, missing = _required_files(directory)
    if not missing:
        return
    listing = "\n".join(f"  - {name}" for name in missing)
    raise ReferenceDataMissing(
        f"Reference data incomplete in {directory}; missing:\n{listing}\n"
        "Download them from the official publishers (Licence Ouverte / Etalab 2.0):\n"
        f"  - ROME 4.0 CSV files: {SOURCES['rome']}\n"
        f"  - QPV 2024 contours: {SOURCES['qpv']}\n"
        f"  - communes: {SOURCES['communes']}\n"
        "then set MAILLAGE_REFERENCE_DATA_DIR to the folder holding rome-vNNN/ and geo/."
    )


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _copy(conn: psycopg.Connection, table: str, rows: Iterable[Sequence[object]]) -> int:
    """COPY rows (tuples in `TABLE_COLUMNS` order) into a table; returns the row count."""
    statement = sql.SQL(COPY).format(
        table=sql.Identifier(table),
        columns=sql.SQL(", ").join(map(sql.Identifier, TABLE_COLUMNS[table])),
    )
    count = 0
    with conn.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)
            count += 1
    return count


def _drop_constraints_and_indexes(conn: psycopg.Connection) -> Callable[[], None]:
    """Drop the reference tables' foreign keys and secondary indexes; returns what recreates them."""
    params = {"tables": list(TABLE_COLUMNS)}
    with conn.cursor(row_factory=dict_row) as cursor:
        foreign_keys = cursor.execute(SELECT_FOREIGN_KEYS, params).fetchall()
        indexes = cursor.execute(SELECT_SECONDARY_INDEXES, params).fetchall()
    for fk in foreign_keys:
        conn.execute(
            sql.SQL(DROP_CONSTRAINT).format(
                table=sql.Identifier(fk["schema"], fk["table_name"]), name=sql.Identifier(fk["name"])
            )
        )
    for index in indexes:
        conn.execute(sql.SQL(DROP_INDEX).format(name=sql.Identifier(index["schema"], index["name"])))

    def recreate() -> None:
        for index in indexes:
            conn.execute(sql.SQL(index["definition"]))  # catalog text, no parameters
        for fk in foreign_keys:
            conn.execute(
                sql.SQL(ADD_CONSTRAINT).format(
                    table=sql.Identifier(fk["schema"], fk["table_name"]),
                    name=sql.Identifier(fk["name"]),
                    definition=sql.SQL(fk["definition"]),
                )
            )

    return recreate


def _ring_rows(records: list[geo.QpvRecord]) -> Iterator[tuple[str, int, int, bool, str]]:
    for record in records:
        for part_index, rings in enumerate(record.parts):
            for ring_index, ring in enumerate(rings):
                yield record.code, part_index, ring_index, ring_index > 0, geo.polygon_literal(ring)


def load_reference_data(
    conn: psycopg.Connection, directory: Path, *, progress: Progress | None = None
) -> dict[str, int]:
    """Replace all reference tables with the files of ``directory``; returns the row count per table."""
    directory = Path(directory)
    check_reference_directory(directory)
    files, _ = _required_files(directory)
    release = rome.find_rome_release(directory)
    assert release is not None  # checked above
    started = time.perf_counter()
    counts: dict[str, int] = {}

    def copy(table: str, records: Iterable[object]) -> None:
        # Dataclass fields carry the column names, so one getter turns a record into a row.
        row = attrgetter(*TABLE_COLUMNS[table])
        counts[table] = _copy(conn, table, map(row, records))
        if progress:
            progress(table, counts[table])

    communes = list(geo.read_communes(files["communes"]["communes"]))
    known = {commune.insee for commune in communes}
    mergers = [m for m in geo.KNOWN_MERGERS if m.old_insee not in known and m.insee in known]
    renamed = {merger.old_insee: merger.insee for merger in mergers}
    postal_codes = geo.read_postal_codes(files["communes"]["postal_codes"], communes)
    centroids = geo.read_qpv_centroids(files["qpv"]["qpv_centroids"])
    qpvs = list(geo.read_qpv(files["qpv"]["qpv"], centroids, renamed))
    unknown = sorted({insee for qpv in qpvs for insee in qpv.communes} - known)
    if unknown:
        logger.warning("QPV refer to commune codes absent from the commune file: %s", ", ".join(unknown))

    with conn.transaction():
        conn.execute(TRUNCATE)
        recreate_constraints_and_indexes = _drop_constraints_and_indexes(conn)
        copy("rome_grand_domaines", rome.read_grands_domaines(release))
        copy("rome_domaines", rome.read_domaines(release))
        copy("rome_fiches", rome.read_fiches(release))
        copy("rome_appellations", rome.read_appellations(release))
        copy("rome_competences", rome.read_competences(release))
        copy("rome_fiche_items", rome.read_fiche_items(release))
        copy("rome_texts", rome.read_texts(release))
        copy("rome_mobilites", rome.read_mobilites(release))
        copy("rome_naf_divisions", rome.read_naf_divisions(release))
        copy("rome_fiche_naf", rome.read_fiche_naf(release))
        copy("communes", communes)
        copy("commune_postal_codes", (code for code in postal_codes if code.insee in known))
        copy("commune_aliases", mergers)
        copy("qpv", qpvs)
        counts["qpv_rings"] = _copy(conn, "qpv_rings", _ring_rows(qpvs))
        if progress:
            progress("qpv_rings", counts["qpv_rings"])
        recreate_constraints_and_indexes()
        versions = {
            "rome": " ".join(filter(None, [release.version, rome.read_version_note(release)])),
            "communes": f"sha256:{_sha256(files['communes']['communes'])[:12]}",
            "qpv": QPV_VERSION,
        }
        for dataset, tables in DATASET_TABLES.items():
            conn.execute(
                INSERT_VERSION,
                {
                    "dataset": dataset,
                    "version": versions[dataset],
                    "source": SOURCES[dataset],
                    "row_count": counts[DATASET_MAIN_TABLE[dataset]],
                    "table_counts": Jsonb({table: counts[table] for table in tables}),
                    "files": Jsonb({path.name: _sha256(path) for path in files[dataset].values()}),
                },
            )
        conn.execute(ANALYZE)
    logger.info("reference data loaded in %.1f s: %s", time.perf_counter() - started, counts)
    return counts


def reference_data_loaded(conn: psycopg.Connection) -> bool:
    """Whether ROME, communes and QPV have all been loaded into this database."""
    return conn.execute(LOADED_DATASETS).fetchone()["n"] == 3
