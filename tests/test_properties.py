"""Property tests (hypothesis) of rules mode on random small tenders."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import procurement
from procurement.model.validate import tender_from_frames
from procurement.synthetic import synthetic_frames

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def tenders(draw):
    frames = synthetic_frames(lots=draw(st.integers(1, 4)), regions=draw(st.integers(1, 7)),
                              suppliers=draw(st.integers(1, 9)), bids_per_lot=draw(st.floats(1, 8)),
                              seed=draw(st.integers(0, 10_000)))
    policy = draw(st.sampled_from(["largest-volume", "nearest", "random"]))
    overrides = draw(st.fixed_dictionaries({}, optional={
        "fuse_ratio": st.floats(1.05, 3.0),
        "selection_order": st.sampled_from(["cap-then-conditions", "conditions-then-cap"]),
        "min_cut_vs_ceiling": st.sampled_from([None, 0.3, 0.5]),
        "count_related_as_one": st.booleans(),
        "anchor": st.sampled_from(["lowest", "max-lowest-mean-fraction"]),
    }))
    config = {"name": "random", "rules": {"preset": "batch4", "overrides": overrides},
              "allocation": {"pick_policy": policy, "seed": draw(st.integers(0, 100))}}
    return tender_from_frames(frames, config)


@SETTINGS
@given(tenders())
def test_rules_mode_invariants(tender):
    result = procurement.run(tender)
    bids, lots, rules = result.bids, result.lots.set_index("lot_id"), tender.rules
    won = bids[bids["won"]]
    # winners never exceed the cap of the lot's bidders (all bidders or valid ones: rules.cap_bidders)
    per_lot = won.groupby("lot_id").size()
    for lot_id, count in per_lot.items():
        bidders = lots.loc[lot_id, "bidders" if rules.cap_bidders == "all" else "valid_bidders"]
        assert count <= rules.max_winners(int(bidders))
    # every winner is under its ceiling and passes a price condition
    assert (won["price"] <= won["ceiling_price"] * (1 + 1e-9)).all()
    assert won["price_condition"].all()
    # each region's demand of each awarded lot is allocated exactly once, at the lot's share
    awarded = set(lots.index[lots["status"] == "awarded"])
    demand = tender.demand.assign(lot_id=tender.demand["spec_id"].map(tender.specs.set_index("spec_id")["lot_id"]))
    demand = demand[demand["lot_id"].isin(awarded)]
    supply = result.supply
    assert len(supply) == len(demand)
    assert not supply.duplicated(["lot_id", "region_id", "spec_id"]).any()
    merged = demand.merge(supply, on=["lot_id", "region_id", "spec_id"], validate="one_to_one")
    share = merged["lot_id"].map(lots["volume_share"])
    np.testing.assert_allclose(merged["agreed_volume"], merged["volume"] * share)
    assert not result.allocation.duplicated(["lot_id", "region_id"]).any()
    # primaries are winners of the lot; backups differ from primaries
    winners = set(zip(won["lot_id"], won["supplier_id"], strict=True))
    alloc = result.allocation
    assert all(pair in winners for pair in zip(alloc["lot_id"], alloc["primary_supplier_id"], strict=True))
    has_backup = alloc["backup_supplier_id"].notna()
    assert (alloc.loc[has_backup, "backup_supplier_id"] != alloc.loc[has_backup, "primary_supplier_id"]).all()
    # every winner gets a region when winners <= regions with demand
    regions_of_lot = alloc.groupby("lot_id")["region_id"].nunique()
    for lot_id, group in won.groupby("lot_id"):
        if len(group) <= regions_of_lot.get(lot_id, 0):
            got = set(alloc.loc[alloc["lot_id"] == lot_id, "primary_supplier_id"])
            assert set(group["supplier_id"]) <= got


@SETTINGS
@given(tenders())
def test_same_input_same_output(tender):
    first, second = procurement.run(tender), procurement.run(tender)
    for name in ("bids", "awards", "allocation", "supply", "lots"):
        pd.testing.assert_frame_equal(first.table(name), second.table(name))
    assert first.summary == second.summary
