"""Parsers for communes, postal codes and QPV 2024 contours (pure: files in, dataclasses out)."""

from __future__ import annotations

import csv
import gzip
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from matching.referentiels.text import normalize_text

GEO_FILES = {
    "communes": "geo/france.csv",
    "postal_codes": "geo/insee_cp.csv",
    "qpv": "geo/qpv.json.gz",
    "qpv_centroids": "geo/qpv_2024_centroids.csv",
}

# Published commune centres known to be wrong (French Polynesia: off by 5 to 50 km).
UNRELIABLE_CENTRE_DEPTS = frozenset({"987"})

# Municipal arrondissements: INSEE range → (commune, first postal code). Their postal codes follow
# La Poste's rule (75111 → 75011, 69383 → 69003, 13205 → 13005).
ARRONDISSEMENTS = (
    (75101, 75120, "75056", 75001),
    (69381, 69389, "69123", 69001),
    (13201, 13216, "13055", 13001),
)
# Arrondissement INSEE code → postal codes it has besides the main one.
EXTRA_ARRONDISSEMENT_POSTAL_CODES = {"75116": ("75116",)}


@dataclass(frozen=True, slots=True)
class CommuneMerger:
    """A former commune code still used by other datasets, and the commune that absorbed it."""

    old_insee: str
    insee: str
    effective_on: date
    reason: str


# INSEE Code officiel géographique, "mouvements de communes": only those found in our datasets.
KNOWN_MERGERS = (
    CommuneMerger(
        "93059", "93066", date(2025, 1, 1), "Pierrefitte-sur-Seine merged into Saint-Denis (commune nouvelle)"
    ),
)

# qpv_rings.shape_microdeg holds degrees × 1e6: see the migration for why not plain degrees.
SHAPE_SCALE = 1e6

Ring = list[tuple[float, float]]  # (lon, lat) points, closing point omitted
Polygon = list[Ring]  # outer ring first, then holes


@dataclass(frozen=True, slots=True)
class CommuneRecord:
    """A commune or municipal arrondissement with its centre."""

    insee: str
    name: str
    name_normalized: str
    dept: str
    kind: str
    parent_insee: str | None
    lat: float
    lon: float
    centre_reliable: bool


@dataclass(frozen=True, slots=True)
class PostalCode:
    """One postal code serving a commune."""

    insee: str
    postal_code: str
    is_main: bool


@dataclass(frozen=True, slots=True)
class QpvRecord:
    """A QPV with its communes, centroid and MultiPolygon contour."""

    code: str
    label: str
    dept: str
    communes: list[str]
    communes_published: list[str]
    centroid_lat: float
    centroid_lon: float
    parts: list[Polygon]


def arrondissement_parent(insee: str) -> tuple[str, str] | None:
    """(parent commune, main postal code) of a municipal arrondissement, else None."""
    if not insee.isdigit():
        return None
    number = int(insee)
    for first, last, parent, first_postal_code in ARRONDISSEMENTS:
        if first <= number <= last:
            return parent, f"{first_postal_code + number - first:05d}"
    return None


def qpv_dept(code: str) -> str:
    """Department of a QPV code: 'QN00101M' → '01', 'QN02A01M' → '2A', 'QN97101M' → '971'."""
    digits = code[2:5]
    return digits[1:] if digits[0] == "0" else digits


def _read_rows(path: Path, required: tuple[str, ...]) -> Iterator[dict[str, str]]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        missing = [column for column in required if column not in (reader.fieldnames or ())]
        if missing:
            raise ValueError(f"{path.name}: missing column(s) {', '.join(missing)}")
        yield from reader


def read_communes(path: Path) -> Iterator[CommuneRecord]:
    """Communes and arrondissements from ``france.csv`` (insee, dept, lon, lat, name)."""
    for row in _read_rows(path, ("insee", "dept", "lon", "lat", "name")):
        insee = row["insee"].strip()
        arrondissement = arrondissement_parent(insee)
        yield CommuneRecord(
            insee=insee,
            name=row["name"].strip(),
            name_normalized=normalize_text(row["name"]),
            dept=row["dept"].strip(),
            kind="arrondissement" if arrondissement else "commune",
            parent_insee=arrondissement[0] if arrondissement else None,
            lat=float(row["lat"]),
            lon=float(row["lon"]),
            centre_reliable=row["dept"].strip() not in UNRELIABLE_CENTRE_DEPTS,
        )


def read_postal_codes(path: Path, communes: Iterable[CommuneRecord] = ()) -> Iterator[PostalCode]:
    """Postal codes from ``insee_cp.csv`` (main ``cp``, ``|``-separated alternates), plus arrondissements'."""
    for row in _read_rows(path, ("insee", "cp", "cps_alt")):
        insee, main = row["insee"].strip(), row["cp"].strip()
        if main:
            yield PostalCode(insee, main, True)
        alternates = dict.fromkeys(code.strip() for code in row["cps_alt"].replace(" ", "|").split("|"))
        for code in alternates:
            if code and code != main:
                yield PostalCode(insee, code, False)
    # The source lists arrondissements' postal codes under their commune only.
    for commune in communes:
        arrondissement = arrondissement_parent(commune.insee)
        if arrondissement:
            main = arrondissement[1]
            yield PostalCode(commune.insee, main, True)
            for code in EXTRA_ARRONDISSEMENT_POSTAL_CODES.get(commune.insee, ()):
                yield PostalCode(commune.insee, code, False)


def read_qpv_centroids(path: Path) -> dict[str, tuple[float, float]]:
    """QPV code → (lat, lon) of its area-weighted centroid."""
    return {
        row["code_qp"].strip(): (float(row["lat"]), float(row["lon"]))
        for row in _read_rows(path, ("code_qp", "lon", "lat"))
    }


def _ring(points: Sequence[Sequence[float]]) -> Ring:
    ring = [(float(point[0]), float(point[1])) for point in points]
    if len(ring) > 1 and ring[0] == ring[-1]:
        ring.pop()
    return ring


def read_qpv(
    path: Path, centroids: dict[str, tuple[float, float]], renamed: dict[str, str]
) -> Iterator[QpvRecord]:
    """QPV from ``qpv.json.gz``; commune codes of merged communes are mapped through ``renamed``."""
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        document = json.load(handle)
    for item in document["qpvs"]:
        code = item["code"]
        if code not in centroids:
            raise ValueError(f"QPV {code} has no centroid in {GEO_FILES['qpv_centroids']}")
        published = [str(insee) for insee in item["insee"]]
        lat, lon = centroids[code]
        yield QpvRecord(
            code=code,
            label=item["label"],
            dept=qpv_dept(code),
            communes=list(dict.fromkeys(renamed.get(insee, insee) for insee in published)),
            communes_published=published,
            centroid_lat=lat,
            centroid_lon=lon,
            parts=[[_ring(ring) for ring in polygon] for polygon in item["g"]],
        )


def polygon_literal(ring: Ring, scale: float = SHAPE_SCALE) -> str:
    """A ring as PostgreSQL ``polygon`` text ``((x1,y1),…)``: x = longitude × scale, y = latitude × scale."""
    # Whole micro-degrees (~0.1 m) are exact for the source's 4-decimal coordinates.
    return "(" + ",".join(f"({lon * scale:.0f},{lat * scale:.0f})" for lon, lat in ring) + ")"


def point_in_ring(lon: float, lat: float, ring: Ring) -> bool:
    """Even-odd rule: whether the point lies inside the ring (boundary cases undefined)."""
    inside = False
    count = len(ring)
    for i in range(count):
        x1, y1 = ring[i]
        x2, y2 = ring[(i + 1) % count]
        if (y1 > lat) != (y2 > lat) and lon < x1 + (lat - y1) * (x2 - x1) / (y2 - y1):
            inside = not inside
    return inside


def point_in_multipolygon(lon: float, lat: float, parts: Iterable[Polygon]) -> bool:
    """Whether the point is in some part's outer ring and in none of that part's holes."""
    return any(
        point_in_ring(lon, lat, rings[0]) and not any(point_in_ring(lon, lat, hole) for hole in rings[1:])
        for rings in parts
    )
