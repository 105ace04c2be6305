"""Seeded synthetic tenders with realistic shapes, for examples, tests and benchmarks.

Shapes follow the published batch statistics (vbp-rules.md section 9.1): about 5-8 bidders per lot,
lowest bid near a quarter of the ceiling, some bids above the ceiling, one to three specs per lot, the
31 provincial units with demand proportional to population. Nothing here is published data.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from procurement.model.tender import Tender
from procurement.model.validate import tender_from_frames

#: The 31 provincial units of the national tenders (Xinjiang includes the XPCC): ISO 3166-2 code,
#: English name, capital latitude/longitude (rounded) and 2020 census population in millions.
PROVINCES = (
    ("CN-BJ", "Beijing", 39.90, 116.41, 21.9), ("CN-TJ", "Tianjin", 39.13, 117.20, 13.9),
    ("CN-HE", "Hebei", 38.04, 114.51, 74.6), ("CN-SX", "Shanxi", 37.87, 112.55, 34.9),
    ("CN-NM", "Inner Mongolia", 40.84, 111.75, 24.0), ("CN-LN", "Liaoning", 41.80, 123.43, 42.6),
    ("CN-JL", "Jilin", 43.82, 125.32, 24.1), ("CN-HL", "Heilongjiang", 45.80, 126.53, 31.9),
    ("CN-SH", "Shanghai", 31.23, 121.47, 24.9), ("CN-JS", "Jiangsu", 32.06, 118.80, 84.7),
    ("CN-ZJ", "Zhejiang", 30.27, 120.15, 64.6), ("CN-AH", "Anhui", 31.82, 117.23, 61.0),
    ("CN-FJ", "Fujian", 26.07, 119.30, 41.5), ("CN-JX", "Jiangxi", 28.68, 115.86, 45.2),
    ("CN-SD", "Shandong", 36.65, 117.12, 101.5), ("CN-HA", "Henan", 34.75, 113.63, 99.4),
    ("CN-HB", "Hubei", 30.59, 114.31, 57.8), ("CN-HN", "Hunan", 28.23, 112.94, 66.4),
    ("CN-GD", "Guangdong", 23.13, 113.26, 126.0), ("CN-GX", "Guangxi", 22.82, 108.37, 50.1),
    ("CN-HI", "Hainan", 20.04, 110.20, 10.1), ("CN-CQ", "Chongqing", 29.56, 106.55, 32.1),
    ("CN-SC", "Sichuan", 30.57, 104.07, 83.7), ("CN-GZ", "Guizhou", 26.65, 106.63, 38.6),
    ("CN-YN", "Yunnan", 25.04, 102.71, 47.2), ("CN-XZ", "Tibet", 29.65, 91.13, 3.6),
    ("CN-SN", "Shaanxi", 34.34, 108.94, 39.5), ("CN-GS", "Gansu", 36.06, 103.83, 25.0),
    ("CN-QH", "Qinghai", 36.62, 101.78, 5.9), ("CN-NX", "Ningxia", 38.49, 106.23, 7.2),
    ("CN-XJ", "Xinjiang", 43.83, 87.62, 25.9),
)

_FORMS = (("oral-solid", 0.65, "mg"), ("injection", 0.25, "mg"), ("modified-release", 0.10, "mg"))


def synthetic_frames(lots: int = 40, regions: int = 31, suppliers: int = 60, bids_per_lot: float = 7.5,
                     seed: int = 0) -> dict[str, pd.DataFrame]:
    """Draw the six tables of a synthetic tender.

    Args:
        lots: number of lots.
        regions: number of regions; up to 31 they are the provinces, beyond that synthetic regions
            scattered over the same territory.
        suppliers: number of suppliers.
        bids_per_lot: mean bidders per lot (at least 1 each, at most ``suppliers``).
        seed: seed of every draw.

    Returns:
        Table name -> frame, ready for :func:`procurement.model.validate.tender_from_frames`.
    """
    rng = np.random.default_rng(seed)
    if regions <= len(PROVINCES):
        prov = PROVINCES[:regions]
        region_df = pd.DataFrame({"region_id": [p[0] for p in prov], "name": [p[1] for p in prov],
                                  "latitude": [p[2] for p in prov], "longitude": [p[3] for p in prov]})
        weight = np.array([p[4] for p in prov])
    else:
        region_df = pd.DataFrame({
            "region_id": [f"R{i:05d}" for i in range(regions)], "name": [f"Region {i}" for i in range(regions)],
            "latitude": np.round(rng.uniform(21, 46, regions), 3),
            "longitude": np.round(rng.uniform(88, 127, regions), 3)})
        weight = rng.lognormal(0, 1, regions)
    weight = weight / weight.sum()

    sup_ids = [f"S{i:03d}" for i in range(1, suppliers + 1)]
    originator = rng.random(suppliers) < 0.15
    groups = [f"G{i:03d}" if rng.random() < 0.1 else "" for i in range(suppliers)]
    supplier_df = pd.DataFrame({
        "supplier_id": sup_ids, "name": [f"Maker {i}" for i in range(1, suppliers + 1)],
        "originator": originator, "group_id": groups,
        "capacity": np.round(rng.lognormal(np.log(3e8), 0.6, suppliers), -3),
        "latitude": np.round(rng.uniform(22, 41, suppliers), 2),
        "longitude": np.round(rng.uniform(103, 122, suppliers), 2)})

    lot_rows, spec_rows, bid_rows, demand_rows = [], [], [], []
    for k in range(1, lots + 1):
        lot_id = f"L{k:03d}"
        form = _FORMS[rng.choice(len(_FORMS), p=[f[1] for f in _FORMS])][0]
        n_specs = int(rng.choice([1, 2, 3], p=[0.6, 0.3, 0.1]))
        base_strength = float(rng.choice([5, 10, 20, 25, 50, 100, 250, 500]))
        strengths = base_strength * np.array([1, 2, 4][:n_specs], dtype=float)
        rep = int(rng.integers(n_specs))
        rep_ceiling = float(np.round(rng.lognormal(np.log(2.0), 1.2), 4)) + 0.05
        spec_ids = [f"{lot_id}-{int(s) if s == int(s) else s}mg" for s in strengths]
        for j, strength in enumerate(strengths):
            factor = 1.7 ** np.log2(strength / strengths[rep])
            ceiling = round(rep_ceiling * factor, 4)
            fill = float(strength / 10) if form == "injection" else None
            spec_rows.append({"spec_id": spec_ids[j], "lot_id": lot_id, "strength": strength, "unit": "mg",
                              "pack_size": 1 if form == "injection" else int(rng.choice([7, 14, 28, 30])),
                              "fill_volume": fill, "ceiling_price": ceiling,
                              "reference_price": round(ceiling * rng.uniform(1.05, 1.8), 4)})
        lot_rows.append({"lot_id": lot_id, "molecule": f"molecule-{k}", "dosage_form": form,
                         "rep_spec_id": spec_ids[rep], "share_class": "special" if rng.random() < 0.1 else
                         "general", "term_years": None})
        n_bidders = int(np.clip(rng.poisson(bids_per_lot - 1) + 1, 1, suppliers))
        bidders = rng.choice(suppliers, size=n_bidders, replace=False)
        # bid / ceiling ratios: a low common level per lot plus firm spread; ~3% above the ceiling
        level = rng.lognormal(np.log(0.3), 0.35)
        for s in bidders:
            j = int(rng.integers(n_specs))
            ratio = level * rng.lognormal(0, 0.45) * (1.8 if originator[s] else 1.0)
            if rng.random() < 0.03:
                ratio = rng.uniform(1.01, 1.3)
            ceiling = spec_rows[-n_specs + j]["ceiling_price"]
            bid_rows.append({"supplier_id": sup_ids[s], "spec_id": spec_ids[j],
                             "price": round(float(min(ratio, 1.3) * ceiling), 4)})
        lot_volume = rng.lognormal(np.log(5e7), 1.0)
        spec_share = rng.dirichlet(np.ones(n_specs) * 2)
        for r, region_id in enumerate(region_df["region_id"]):
            for j in range(n_specs):
                vol = float(np.round(lot_volume * weight[r] * spec_share[j] * rng.lognormal(0, 0.2), -2))
                if vol > 0:
                    demand_rows.append({"region_id": region_id, "spec_id": spec_ids[j], "volume": vol})
    return {"lots": pd.DataFrame(lot_rows), "specs": pd.DataFrame(spec_rows), "suppliers": supplier_df,
            "bids": pd.DataFrame(bid_rows), "regions": region_df, "demand": pd.DataFrame(demand_rows)}


def synthetic_tender(lots: int = 40, regions: int = 31, suppliers: int = 60, bids_per_lot: float = 7.5,
                     seed: int = 0, preset: str = "batch4", name: str | None = None) -> Tender:
    """A validated synthetic :class:`Tender` (see :func:`synthetic_frames` for the arguments)."""
    frames = synthetic_frames(lots, regions, suppliers, bids_per_lot, seed)
    config = {"name": name or f"synthetic-{lots}x{regions}x{suppliers}-seed{seed}", "currency": "CNY",
              "rules": {"preset": preset}}
    return tender_from_frames(frames, config, source=None)
