"""Geodesy helpers for radius filters on `ll_to_earth` cubes (pure)."""

from __future__ import annotations

import math

# Radius used by PostgreSQL's earthdistance extension (`earth()`), in metres.
EARTH_RADIUS_M = 6_378_168.0


def chord_for_arc(distance_m: float) -> float:
    """Straight-line chord between two points of the sphere that are `distance_m` apart on its surface.

    `cube_distance` between two `ll_to_earth` points is this chord, so comparing it with the chord of
    the radius selects the same rows as `earth_distance < radius`, without per-row trigonometry.
    """
    return 2 * EARTH_RADIUS_M * math.sin(min(distance_m, math.pi * EARTH_RADIUS_M) / (2 * EARTH_RADIUS_M))


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in kilometres on the earthdistance sphere."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a)) / 1000


# Offers carry the cell of a 0.05° × 0.05° grid (about 5.6 km × 3.8 km in metropolitan France) as `place_cell`,
# the leading place key of the exact plan's B-tree (migration 0009): a radius search reads the cells that cover its
# circle. The arithmetic is the SQL function `maillage_place_cell`'s, operation for operation (same floats).
CELLS_PER_DEGREE = 20
_CELL_LAT_OFFSET = 90 * CELLS_PER_DEGREE
_CELL_LON_OFFSET = 200 * CELLS_PER_DEGREE
_CELL_ROW_WIDTH = 400 * CELLS_PER_DEGREE


def place_cell(lat: float, lon: float) -> int:
    """The grid cell of a point (the value of `maillage_place_cell(lat, lon)` in PostgreSQL)."""
    return int(
        (math.floor(lat * CELLS_PER_DEGREE) + _CELL_LAT_OFFSET) * _CELL_ROW_WIDTH
        + (math.floor(lon * CELLS_PER_DEGREE) + _CELL_LON_OFFSET)
    )


def _half_width(phi: float, phi_c: float, delta: float) -> float:
    """Longitude half-width (radians) of a spherical cap of angular radius `delta` centred at latitude `phi_c`."""
    denominator = math.cos(phi) * math.cos(phi_c)
    if denominator <= 0:
        return math.pi
    value = (math.cos(delta) - math.sin(phi) * math.sin(phi_c)) / denominator
    if value <= -1:
        return math.pi
    return math.acos(min(value, 1.0))


def place_cells(lat: float, lon: float, radius_m: float) -> list[int]:
    """Every grid cell that meets the circle of `radius_m` around the point (a superset: cells are filtered after).

    Per row of cells, the circle's widest longitude span over the row's latitudes (at the row's edges, or at the
    cap's widest latitude when it falls inside the row).
    """
    delta = min(radius_m / EARTH_RADIUS_M, math.pi)
    phi_c = math.radians(lat)
    lat_lo, lat_hi = math.degrees(phi_c - delta), math.degrees(phi_c + delta)
    widest = math.asin(max(-1.0, min(1.0, math.sin(phi_c) / math.cos(delta)))) if delta < math.pi / 2 else phi_c
    step = 1 / CELLS_PER_DEGREE
    cells: list[int] = []
    first_row = math.floor(max(lat_lo, -90.0) * CELLS_PER_DEGREE)
    last_row = math.floor(min(lat_hi, 90.0) * CELLS_PER_DEGREE)
    for row in range(first_row, last_row + 1):
        lo, hi = max(row * step, lat_lo), min((row + 1) * step, lat_hi)
        candidates = [lo, hi] + ([math.degrees(widest)] if lo <= math.degrees(widest) <= hi else [])
        # A small margin keeps rounding at the cap's edge on the inclusive side.
        half = max(_half_width(math.radians(p), phi_c, delta) for p in candidates) + 1e-9
        west, east = lon - math.degrees(half), lon + math.degrees(half)
        if half >= math.pi or west < -180 or east >= 180:
            first_col, last_col = -180 * CELLS_PER_DEGREE, 180 * CELLS_PER_DEGREE
        else:
            first_col, last_col = math.floor(west * CELLS_PER_DEGREE), math.floor(east * CELLS_PER_DEGREE)
        base = (row + _CELL_LAT_OFFSET) * _CELL_ROW_WIDTH + _CELL_LON_OFFSET
        cells.extend(range(base + first_col, base + last_col + 1))
    return cells
