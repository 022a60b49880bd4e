"""Distances on the map: great-circle (haversine) distance between two points, in km."""

from __future__ import annotations

import math

from fleet_domain.models.car import Location

EARTH_RADIUS_KM = 6371.0088  # mean radius


def distance_km(a: Location, b: Location) -> float:
    """The great-circle distance from a to b, rounded to metres."""
    lat1, lon1, lat2, lon2 = map(math.radians, (a.lat, a.lon, b.lat, b.lon))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return round(2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h))), 3)
