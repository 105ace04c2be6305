"""Geography shared by allocation (the `nearest` pick policy) and circulation costs."""

from __future__ import annotations

from typing import Any

import numpy as np

EARTH_RADIUS_KM = 6371.0088  # mean Earth radius (IUGG)


def great_circle_km(lat1: Any, lon1: Any, lat2: Any, lon2: Any) -> np.ndarray:
    """Great-circle (haversine) distance in km between points given in degrees.

    Inputs broadcast like numpy arrays: pass ``lat1[:, None]`` and ``lat2[None, :]`` for a matrix.
    NaN coordinates give NaN.
    """
    p1, l1 = np.radians(np.asarray(lat1, dtype=float)), np.radians(np.asarray(lon1, dtype=float))
    p2, l2 = np.radians(np.asarray(lat2, dtype=float)), np.radians(np.asarray(lon2, dtype=float))
    h = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin((l2 - l1) / 2) ** 2
    # clip: rounding can push h a hair above 1 for antipodal points
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


def distance_matrix_km(lat1: Any, lon1: Any, lat2: Any, lon2: Any) -> np.ndarray:
    """(n, m) great-circle distances from n points (lat1, lon1) to m points (lat2, lon2)."""
    return great_circle_km(np.atleast_1d(np.asarray(lat1, float))[:, None],
                           np.atleast_1d(np.asarray(lon1, float))[:, None],
                           np.atleast_1d(np.asarray(lat2, float))[None, :],
                           np.atleast_1d(np.asarray(lon2, float))[None, :])
