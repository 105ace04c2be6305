"""Distance-based distribution cost from a supplier's production site to a region's capital.

This is the one logistics model of the package: the circulation chain (post-procurement logistics
layer ``l1``) and the optimiser's circulation-cost term both call :func:`distribution_cost`.

Model, per smallest unit shipped from supplier ``i`` to region ``j``::

    road_km[i, j] = circuity * great_circle_km(site_i, capital_j)
    rate[i, j]    = base_rate + rate_per_1000km * road_km[i, j] / 1000      # share of net value
    cost[i, j]    = unit_value[i] * rate[i, j]                               # currency per unit

Why value-proportional: no source gives a freight cost per tablet; the observable is the
distributor's logistics/operations expense as a share of sales (MOFCOM 5-7% including financing;
circulation.md sections 1.4 and 5.5). The defaults make the rate 0.036 (the chain's ``l1``) at about
1,000 km great-circle, roughly the mean distance from a Chinese maker to a province capital, with
about 70% of the cost (warehousing, order handling, last-mile from the capital to hospitals)
independent of distance. All three parameters are [R] assumptions.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from procurement.geo import distance_matrix_km

#: Mean Earth radius (IUGG), km.


@dataclass(frozen=True)
class LogisticsParams:
    """Parameters of :func:`distribution_cost` (all [R]: assumptions to calibrate)."""

    base_rate: float = field(default=0.026, metadata={
        "doc": "Distance-independent logistics cost (warehousing, handling, last mile from the capital), "
               "share of net value.", "bounds": (0.0, 0.5)})
    rate_per_1000km: float = field(default=0.008, metadata={
        "doc": "Trunk-haulage cost per 1,000 road km, share of net value.", "bounds": (0.0, 0.5)})
    circuity: float = field(default=1.25, metadata={
        "doc": "Road km per great-circle km.", "bounds": (1.0, 3.0)})

    def validate(self, source: str = "LogisticsParams") -> None:
        """Check each value is a finite number inside its bounds.

        Raises:
            ValueError: naming ``source``, the parameter, the value and the expected range.
        """
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            lo, hi = f.metadata["bounds"]
            if (isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value)
                    or not lo <= value <= hi):
                raise ValueError(f"{source}: parameter {f.name} = {value!r}: expected a number in [{lo}, {hi}]")


LOGISTICS_PARAMETER_NAMES: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(LogisticsParams))


def load_logistics_params(path: str | Path, base: LogisticsParams | None = None) -> LogisticsParams:
    """Read overrides from the ``[logistics]`` table of a TOML parameter file (absent table: ``base``).

    Args:
        path: TOML file (the same file may hold a ``[chain]`` table).
        base: parameters to override; None for the defaults.

    Returns:
        The validated parameters.

    Raises:
        ValueError: file missing or invalid; unknown table or key (valid keys listed); bad value.
    """
    from procurement.analysis.chain import PARAM_FILE_TABLES, _read_toml_table

    body = _read_toml_table(path, "logistics", PARAM_FILE_TABLES)
    unknown = sorted(set(body) - set(LOGISTICS_PARAMETER_NAMES))
    if unknown:
        raise ValueError(f"{path}: [logistics] unknown key {', '.join(unknown)}; valid keys: "
                         f"{', '.join(LOGISTICS_PARAMETER_NAMES)}")
    for key, value in body.items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"{path}: [logistics] {key} = {value!r}: expected a number, "
                             f"got {type(value).__name__}")
    out = dataclasses.replace(base or LogisticsParams(), **{k: float(v) for k, v in body.items()})
    out.validate(source=f"{path}: [logistics]")
    return out


def distribution_rate(great_circle: Any, params: LogisticsParams | None = None) -> np.ndarray:
    """Logistics cost as a share of net value for given great-circle distances (km); NaN stays NaN."""
    p = params or LogisticsParams()
    return p.base_rate + p.rate_per_1000km * p.circuity * np.asarray(great_circle, dtype=float) / 1000.0


def distribution_cost(supplier_lat: Any, supplier_lon: Any, region_lat: Any, region_lon: Any,
                      unit_value: Any = 1.0, params: LogisticsParams | None = None) -> np.ndarray:
    """Distribution cost per unit from each supplier site to each region capital.

    Args:
        supplier_lat, supplier_lon: production-site coordinates in degrees, length n.
        region_lat, region_lon: capital coordinates in degrees, length m.
        unit_value: net (VAT-exclusive) value per unit: a scalar, a length-n array (per supplier) or an
            (n, m) array. The default 1.0 returns the cost as a share of value.
        params: :class:`LogisticsParams`; None for the defaults.

    Returns:
        (n, m) array, currency per unit (or share of value when ``unit_value`` is 1). NaN where a
        coordinate is unknown: callers fall back to the flat rate ``ChainParams.l1``.
    """
    rate = distribution_rate(distance_matrix_km(supplier_lat, supplier_lon, region_lat, region_lon), params)
    value = np.asarray(unit_value, dtype=float)
    if value.ndim == 1:
        value = value[:, None]
    return rate * value
