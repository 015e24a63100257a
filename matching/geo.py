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
