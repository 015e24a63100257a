"""Reference-data lookups for ingestion and the API: QPV membership, communes, ROME codes, autocomplete."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import psycopg
from psycopg.rows import class_row, tuple_row

from matching.referentiels.text import normalize_label, normalize_text
from matching.storage.database import fetch_on_custom_plan

DEFAULT_SEARCH_LIMIT = 10
MAX_SEARCH_LIMIT = 50
_POSTAL_PREFIX = re.compile(r"^\d{2,5}$")
_ROME_CODE = re.compile(r"^[A-N]\d{4}$")
# Abbreviations users type for commune names ("St-Denis", "Ste Foy").
_COMMUNE_ABBREVIATIONS = {"st": "saint", "ste": "sainte", "sts": "saints", "stes": "saintes"}

# Rings are in micro-degrees (see the migration). The GiST index serves "polygon contains polygon"
# but not "polygon contains point": the degenerate box polygon selects candidate rings through the
# index, then `@> point` decides. A point is in a QPV part when the outer ring contains it and no
# hole of that part does.
FIND_QPV = """
WITH p AS (SELECT point(%(lon)s * 1e6, %(lat)s * 1e6) AS pt)
SELECT r.qpv_code
FROM qpv_rings r, p
WHERE r.shape_microdeg @> polygon(box(p.pt, p.pt))
  AND r.shape_microdeg @> p.pt
GROUP BY r.qpv_code, r.part
HAVING bool_and(NOT r.is_hole)
ORDER BY r.qpv_code
LIMIT 1
"""

COMMUNE_NAMES = "SELECT insee, name FROM communes WHERE insee = ANY (%(insees)s::text[])"
ROME_LABELS = "SELECT code_rome::text AS code, label FROM rome_fiches WHERE code_rome = ANY (%(codes)s::bpchar[])"

_COMMUNE_COLUMNS = """
    c.insee, c.name, c.dept, c.lat, c.lon,
    (SELECT p.postal_code FROM commune_postal_codes p WHERE p.insee = c.insee AND p.is_main) AS postal_code,
    c.kind, c.parent_insee, c.centre_reliable
"""
SELECT_COMMUNE = f"""
SELECT {_COMMUNE_COLUMNS}
FROM communes c
WHERE c.insee = COALESCE((SELECT a.insee FROM commune_aliases a WHERE a.old_insee = %(insee)s), %(insee)s)
"""
SELECT_COMMUNES_FOR_POSTAL_CODE = f"""
SELECT {_COMMUNE_COLUMNS}
FROM commune_postal_codes cp
JOIN communes c ON c.insee = cp.insee
WHERE cp.postal_code = %(postal_code)s
ORDER BY cp.is_main DESC, c.kind = 'arrondissement' DESC, c.name_normalized, c.insee
"""
SEARCH_COMMUNES_BY_NAME = f"""
SELECT {_COMMUNE_COLUMNS}
FROM communes c
WHERE c.name_normalized LIKE %(prefix)s OR %(query)s <%% c.name_normalized
ORDER BY c.name_normalized = %(query)s DESC,
         c.name_normalized LIKE %(prefix)s DESC,
         word_similarity(%(query)s, c.name_normalized) DESC,
         c.kind = 'commune' DESC,
         length(c.name_normalized),
         c.insee
LIMIT %(limit)s
"""
SEARCH_COMMUNES_BY_POSTAL_CODE = f"""
SELECT {_COMMUNE_COLUMNS}
FROM communes c
JOIN (
    SELECT insee, min(postal_code) AS postal_code, bool_or(is_main) AS is_main
    FROM commune_postal_codes
    WHERE postal_code LIKE %(prefix)s
    GROUP BY insee
) m ON m.insee = c.insee
ORDER BY m.postal_code, m.is_main DESC, c.kind = 'arrondissement' DESC, c.name_normalized
LIMIT %(limit)s
"""

_APPELLATION_COLUMNS = """
    a.code_ogr, a.label, a.short_label, a.code_rome, f.label AS rome_label,
    a.classification, a.peu_usite, a.label_normalized
"""
SELECT_APPELLATIONS_BY_NORMALIZED_LABEL = f"""
SELECT {_APPELLATION_COLUMNS}
FROM rome_appellations a
JOIN rome_fiches f ON f.code_rome = a.code_rome
WHERE a.label_normalized = %(label)s
ORDER BY a.peu_usite, a.classification = 'principale' DESC, a.code_ogr
"""
SEARCH_APPELLATIONS = f"""
SELECT {_APPELLATION_COLUMNS}
FROM rome_appellations a
JOIN rome_fiches f ON f.code_rome = a.code_rome
WHERE a.label_search LIKE %(contains)s OR %(query)s <%% a.label_search
ORDER BY a.label_normalized = %(exact)s DESC,
         a.label_search LIKE %(prefix)s DESC,
         a.label_search LIKE %(contains)s DESC,
         word_similarity(%(query)s, a.label_search) DESC,
         a.peu_usite,
         a.classification = 'principale' DESC,
         length(a.label_search),
         a.code_ogr
LIMIT %(limit)s
"""

SELECT_ROME_FICHE = """
SELECT f.code_rome, f.label, f.domaine, d.label AS domaine_label, f.grand_domaine,
       g.label AS grand_domaine_label, f.code_rome_parent, f.emploi_cadre, f.emploi_reglemente,
       f.transition_eco, f.transition_num, f.transition_demo, f.riasec_majeur, f.riasec_mineur,
       (SELECT t.text FROM rome_texts t WHERE t.code_rome = f.code_rome AND t.kind = 'definition')
           AS definition,
       (SELECT t.text FROM rome_texts t WHERE t.code_rome = f.code_rome AND t.kind = 'acces_metier')
           AS acces_metier
FROM rome_fiches f
JOIN rome_domaines d ON d.code = f.domaine
JOIN rome_grand_domaines g ON g.code = f.grand_domaine
WHERE f.code_rome = %(code)s
"""
SELECT_MOBILITY_TARGETS = """
SELECT code_rome_cible
FROM rome_mobilites
WHERE code_rome = %(code)s
ORDER BY ordre, code_rome_cible
"""


@dataclass(frozen=True, slots=True)
class Commune:
    """A commune (or municipal arrondissement) with its centre and main postal code."""

    insee: str
    name: str
    dept: str
    lat: float
    lon: float
    postal_code: str | None
    kind: str = "commune"
    parent_insee: str | None = None
    centre_reliable: bool = True


@dataclass(frozen=True, slots=True)
class Appellation:
    """A ROME job title, with its fiche."""

    code_ogr: int
    label: str
    short_label: str
    code_rome: str
    rome_label: str
    classification: str
    peu_usite: bool
    label_normalized: str


@dataclass(frozen=True, slots=True)
class RomeFiche:
    """A ROME job sheet with its domain and texts."""

    code_rome: str
    label: str
    domaine: str
    domaine_label: str
    grand_domaine: str
    grand_domaine_label: str
    code_rome_parent: str | None
    emploi_cadre: bool | None
    emploi_reglemente: bool | None
    transition_eco: str | None
    transition_num: bool | None
    transition_demo: bool | None
    riasec_majeur: str | None
    riasec_mineur: str | None
    definition: str | None
    acces_metier: str | None


def _limit(limit: int) -> int:
    return max(1, min(int(limit), MAX_SEARCH_LIMIT))


def _rome_code(code: str) -> str:
    return code.strip().upper()


def find_qpv(conn: psycopg.Connection, lat: float, lon: float) -> str | None:
    """Code of the QPV containing the WGS84 point, or None."""
    row = conn.execute(FIND_QPV, {"lat": float(lat), "lon": float(lon)}).fetchone()
    if row is None:
        return None
    return row["qpv_code"] if isinstance(row, dict) else row[0]


def commune(conn: psycopg.Connection, insee: str) -> Commune | None:
    """The commune of an INSEE code (a merged commune's former code gives the current commune), or None."""
    with conn.cursor(row_factory=class_row(Commune)) as cursor:
        return cursor.execute(SELECT_COMMUNE, {"insee": insee.strip().upper()}).fetchone()


def commune_names(conn: psycopg.Connection, insees: Iterable[str]) -> dict[str, str]:
    """Names of communes by INSEE code, for display (unknown codes are left out)."""
    wanted = sorted({code.strip().upper() for code in insees if code})
    if not wanted:
        return {}
    with conn.cursor(row_factory=tuple_row) as cursor:
        return dict(cursor.execute(COMMUNE_NAMES, {"insees": wanted}).fetchall())


def rome_labels(conn: psycopg.Connection, codes: Iterable[str]) -> dict[str, str]:
    """Labels of ROME fiches by code, for display (unknown codes are left out)."""
    wanted = sorted({_rome_code(code) for code in codes if code})
    if not wanted:
        return {}
    with conn.cursor(row_factory=tuple_row) as cursor:
        return {code.strip(): label for code, label in cursor.execute(ROME_LABELS, {"codes": wanted}).fetchall()}


def communes_for_postal_code(conn: psycopg.Connection, postal_code: str) -> list[Commune]:
    """Communes served by a postal code, those whose main code it is first (arrondissements before cities)."""
    with conn.cursor(row_factory=class_row(Commune)) as cursor:
        return cursor.execute(
            SELECT_COMMUNES_FOR_POSTAL_CODE, {"postal_code": postal_code.strip()}
        ).fetchall()


def search_communes(conn: psycopg.Connection, text: str, limit: int = DEFAULT_SEARCH_LIMIT) -> list[Commune]:
    """Autocomplete communes by name (accent- and case-insensitive, typo-tolerant) or postal-code prefix."""
    text = text.strip()
    if _POSTAL_PREFIX.match(text):
        statement, params = SEARCH_COMMUNES_BY_POSTAL_CODE, {"prefix": f"{text}%"}
    else:
        query = " ".join(_COMMUNE_ABBREVIATIONS.get(word, word) for word in normalize_text(text).split())
        if not query:
            return []
        statement, params = SEARCH_COMMUNES_BY_NAME, {"query": query, "prefix": f"{query}%"}
    with conn.cursor(row_factory=class_row(Commune)) as cursor:
        # A LIKE pattern's index use depends on its value.
        return fetch_on_custom_plan(cursor, statement, {**params, "limit": _limit(limit)})


def search_appellations(
    conn: psycopg.Connection, text: str, limit: int = DEFAULT_SEARCH_LIMIT
) -> list[Appellation]:
    """Autocomplete ROME job titles (either gender, accent- and case-insensitive, typo-tolerant)."""
    query = normalize_text(text)
    if not query:
        return []
    params = {
        "query": query,
        "exact": normalize_label(text),
        "prefix": f"{query}%",
        "contains": f"%{query}%",
        "limit": _limit(limit),
    }
    with conn.cursor(row_factory=class_row(Appellation)) as cursor:
        return fetch_on_custom_plan(cursor, SEARCH_APPELLATIONS, params)


def appellation_by_normalized_label(conn: psycopg.Connection, label: str) -> list[Appellation]:
    """Appellations whose `normalize_label` key equals the label's (usually one; most usual first)."""
    key = normalize_label(label)
    if not key:
        return []
    with conn.cursor(row_factory=class_row(Appellation)) as cursor:
        return cursor.execute(SELECT_APPELLATIONS_BY_NORMALIZED_LABEL, {"label": key}).fetchall()


def rome_fiche(conn: psycopg.Connection, code: str) -> RomeFiche | None:
    """The ROME fiche of a code such as 'J1501', or None."""
    code = _rome_code(code)
    if not _ROME_CODE.match(code):
        return None
    with conn.cursor(row_factory=class_row(RomeFiche)) as cursor:
        return cursor.execute(SELECT_ROME_FICHE, {"code": code}).fetchone()


def mobility_targets(conn: psycopg.Connection, code: str) -> list[str]:
    """ROME codes a person in fiche ``code`` can move to, in the publisher's order."""
    with conn.cursor() as cursor:
        rows = cursor.execute(SELECT_MOBILITY_TARGETS, {"code": _rome_code(code)}).fetchall()
    return [row["code_rome_cible"] if isinstance(row, dict) else row[0] for row in rows]
