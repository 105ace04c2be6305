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
    rep_of_lot = dict(zip(lots["lot_id"], lots["rep_spec_id"], strict=True))
    by_id = specs.set_index("spec_id")
    rep_ids = specs["lot_id"].map(rep_of_lot)
    strength = specs["strength"].to_numpy(float)
    rep_strength = by_id.loc[rep_ids, "strength"].to_numpy(float)
    if rules.normalisation == "none":
        factor = np.ones(len(specs))
    elif rules.normalisation == "linear":
        factor = rep_strength / strength
    else:
        pack = specs["pack_size"].to_numpy(float)
        rep_pack = by_id.loc[rep_ids, "pack_size"].to_numpy(float)
        fill = specs["fill_volume"].to_numpy(float) if "fill_volume" in specs else np.full(len(specs), np.nan)
        rep_fill = by_id.loc[rep_ids, "fill_volume"].to_numpy(float) if "fill_volume" in specs \
            else np.full(len(specs), np.nan)
        content = rules.content_ratio_base ** np.log2(rep_strength / strength)
        with np.errstate(invalid="ignore", divide="ignore"):
            same_concentration = np.isclose(strength / fill, rep_strength / rep_fill, rtol=1e-6)
            volume = rules.fill_ratio_base ** np.log2(rep_fill / fill)
        by_volume = same_concentration & np.isfinite(volume) & ~np.isclose(fill, rep_fill)
        ratio = pack / rep_pack
        pack_factor = ratio / rules.pack_ratio_base ** np.log2(ratio)
        factor = np.where(by_volume, volume, content) * pack_factor
    return pd.Series(factor, index=specs["spec_id"].to_numpy(), name="factor")
