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


# --- cells: where a car can be found ----------------------------------------------------------------
#
# Cars are findable by area: each car's item carries the geohash cell of its location (`cell`),
# the partition key of the Cars table's cell index, the pattern of DynamoDB's own geo library.
# Dispatch queries the pickup's cell, then the rings of cells around it, so what it reads depends
# on the cars near the pickup, not on the size of the fleet. At 6 characters a cell is about
# 1.2 km by 0.6 km at Berlin's latitude: a city holds a few thousand.

CELL_PRECISION = 6
# A coarser cell (5 characters: about 4.9 km by 4.9 km) for where cars are sparse: a dispatch
# that finds too few cars within two rings of fine cells looks at two rings of these instead.
AREA_PRECISION = 5
_BASE32 = "0123456789bcdefghjkmnpqrstuvwxyz"


def geohash(lat: float, lon: float, precision: int = CELL_PRECISION) -> str:
    """The geohash of a point (interleaved longitude/latitude bisection, base 32)."""
    lat_lo, lat_hi, lon_lo, lon_hi = -90.0, 90.0, -180.0, 180.0
    chars: list[str] = []
    bits, value, even = 0, 0, True
    while len(chars) < precision:
        if even:
            mid = (lon_lo + lon_hi) / 2
            value = value * 2 + (lon >= mid)
            lon_lo, lon_hi = (mid, lon_hi) if lon >= mid else (lon_lo, mid)
        else:
            mid = (lat_lo + lat_hi) / 2
            value = value * 2 + (lat >= mid)
            lat_lo, lat_hi = (mid, lat_hi) if lat >= mid else (lat_lo, mid)
        even, bits = not even, bits + 1
        if bits == 5:
            chars.append(_BASE32[value])
            bits, value = 0, 0
    return "".join(chars)


def cell_of(location: Location) -> str:
    return geohash(location.lat, location.lon)


def area_of(location: Location) -> str:
    return geohash(location.lat, location.lon, AREA_PRECISION)


def cell_size(precision: int = CELL_PRECISION) -> tuple[float, float]:
    """(degrees of latitude, degrees of longitude) a cell spans."""
    bits = 5 * precision
    return 180.0 / 2 ** (bits // 2), 360.0 / 2 ** ((bits + 1) // 2)


def ring(center: Location, k: int, precision: int = CELL_PRECISION) -> list[str]:
    """The cells at Chebyshev distance k from the cell holding `center` (k=0: that cell alone),
    each once, in a stable order."""
    dlat, dlon = cell_size(precision)
    lat0 = (math.floor((center.lat + 90) / dlat) + 0.5) * dlat - 90
    lon0 = (math.floor((center.lon + 180) / dlon) + 0.5) * dlon - 180
    cells: dict[str, None] = {}
    for i in range(-k, k + 1):
        for j in range(-k, k + 1):
            if max(abs(i), abs(j)) != k:
                continue
            lat = lat0 + i * dlat
            if not -90 < lat < 90:
                continue
            lon = (lon0 + j * dlon + 180) % 360 - 180
            cells[geohash(lat, lon, precision)] = None
    return list(cells)


def ring_reach_km(center: Location, k: int, precision: int = CELL_PRECISION) -> float:
    """How far from `center` every point within ring k is guaranteed to lie (the distance to the
    nearest edge of the square of rings 0..k): a car farther than this may sit in a later ring."""
    dlat, dlon = cell_size(precision)
    lat0 = math.floor((center.lat + 90) / dlat) * dlat - 90
    lon0 = math.floor((center.lon + 180) / dlon) * dlon - 180
    edges = [center.lat - (lat0 - k * dlat), (lat0 + (k + 1) * dlat) - center.lat]
    lon_edges = [center.lon - (lon0 - k * dlon), (lon0 + (k + 1) * dlon) - center.lon]
    km_lat = min(edges) * 111.32
    km_lon = min(lon_edges) * 111.32 * math.cos(math.radians(center.lat))
    return max(0.0, min(km_lat, km_lon))
