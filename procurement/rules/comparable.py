"""Unit comparable prices (单位可比价): every spec of a lot priced on its representative spec.

NDRC 差比价 rules (发改价格〔2011〕2452号) as implemented here, per smallest unit:

- content: doubling the content per unit multiplies the price by ``content_ratio_base`` (1.7), so a
  unit of content ``c`` priced ``p`` compares as ``p * base ** log2(c_rep / c)``;
- fill volume: between liquid specs of equal concentration, doubling the fill volume multiplies the
  price by ``fill_ratio_base`` (1.9); the volume rule replaces the content rule there, since both
  ratios describe the same difference;
- pack count: doubling the units per pack multiplies the pack price by ``pack_ratio_base`` (1.95), so
  a unit in a pack of ``n`` compares as ``p * X / base ** log2(X)`` with ``X = n / n_rep``.

``factor(spec)`` multiplies a spec's unit price into the representative spec's unit comparable price;
dividing a comparable price by it prices a winner's other specs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from procurement.rules.ruleset import RuleSet

_REL_TOL = 1e-9


def comparable_factors(specs: pd.DataFrame, lots: pd.DataFrame, rules: RuleSet) -> pd.Series:
    """Conversion factor of every spec to its lot's representative spec, indexed by spec_id.

    Args:
        specs: typed specs frame (spec_id, lot_id, strength, pack_size, fill_volume, ...).
        lots: typed lots frame (lot_id, rep_spec_id, ...).
        rules: supplies the normalisation method and ratio bases.

    Returns:
        Series of floats > 0; the representative spec has factor 1.
    """
    # positions, not labels: one get_indexer per key instead of Series.map and .loc on a string index
    # (same values, several times faster; every rules-mode and optimal-mode run calls this)
    spec_ids = pd.Index(specs["spec_id"].to_numpy())
    lot_of_spec = pd.Index(lots["lot_id"]).get_indexer(specs["lot_id"])
    if (lot_of_spec < 0).any():
        raise KeyError(f"spec of an unknown lot: {specs['lot_id'].to_numpy()[lot_of_spec < 0][0]!r}")
    rep_ids = lots["rep_spec_id"].to_numpy()[lot_of_spec]
    rep = spec_ids.get_indexer(rep_ids)
    if (rep < 0).any():
        raise KeyError(f"unknown representative spec: {rep_ids[rep < 0][0]!r}")
    strength = specs["strength"].to_numpy(float)
    rep_strength = strength[rep]
    if rules.normalisation == "none":
        factor = np.ones(len(specs))
    elif rules.normalisation == "linear":
        factor = rep_strength / strength
    else:
        pack = specs["pack_size"].to_numpy(float)
        rep_pack = pack[rep]
        fill = specs["fill_volume"].to_numpy(float) if "fill_volume" in specs else np.full(len(specs), np.nan)
        rep_fill = fill[rep]
        content = rules.content_ratio_base ** np.log2(rep_strength / strength)
        with np.errstate(invalid="ignore", divide="ignore"):
            same_concentration = np.isclose(strength / fill, rep_strength / rep_fill, rtol=1e-6)
            volume = rules.fill_ratio_base ** np.log2(rep_fill / fill)
        by_volume = same_concentration & np.isfinite(volume) & ~np.isclose(fill, rep_fill)
        ratio = pack / rep_pack
        pack_factor = ratio / rules.pack_ratio_base ** np.log2(ratio)
        factor = np.where(by_volume, volume, content) * pack_factor
    return pd.Series(factor, index=spec_ids, name="factor")
