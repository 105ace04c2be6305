"""Winner selection of one lot, on plain arrays (fast enough to sit inside simulation loops).

Procedure, with the rule set's parameters (defaults of the batch-4 family in brackets):

1. validity: declared price <= its spec's ceiling;
2. bidders N (``cap_bidders = "all"``: every firm that bid, over-ceiling bids included, as the batch-2
   and batch-4 results show; ``"valid"``: valid bids only; related-party groups as one bidder where the
   preset says so) give the winner cap from the cap table;
3. valid bids are ranked by unit comparable price; ties break by the documented key (supplier id);
4. price conditions, any one suffices: comparable price <= fuse_ratio x anchor [1.8 x lowest], or
   <= low_price_threshold [0.10], or a declared-price cut >= min_cut_vs_ceiling against the ceiling [50%];
   with every condition disabled (``ext-2019``, ``pilot-4+7``) every valid bid qualifies. Anchors:
   ``lowest``; ``max-lowest-mean-fraction`` = max(lowest, f x mean) (batch 11);
   ``max-lowest-mean-minus-sd`` = max(lowest, mean - k x SD) (batch 12 double anchor; population SD);
   with ``no_volume_below_sd`` = m (batch 12), valid bids below mean - m x SD win without agreed volume
   and take no shortlist slot;
5. ``cap-then-conditions``: the first ``cap`` ranked bids are shortlisted and win if they meet a price
   condition; ``conditions-then-cap``: the first ``cap`` ranked bids that meet one win;
6. optional revival (batch 10): shortlisted bids that fail every condition win at the highest Rule-1
   winning price (or revival_sole_winner_ratio x a sole Rule-1 winner's price);
7. optional ``highest_bid_loses`` (a reading of the garbled batch 7-9 extra rule, off by default): the
   highest-priced valid bid of a lot with at least 2 valid bidders cannot win.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from procurement.rules.ruleset import RuleSet

_TOL = 1e-9


@dataclass(frozen=True)
class LotSelection:
    """Outcome of winner selection for one lot; arrays align with the lot's bids.

    Attributes:
        valid: bid at or under its ceiling.
        counted: bid counts as a bidder and competes (False for a related party's weaker bid).
        valid_bidders: valid bidders (related parties as one where the preset says so).
        cap: maximum winners.
        anchor: comparable price the fuse multiplies (NaN without valid bids).
        rank: 1-based rank among competing valid bids by comparable price, 0 if not ranked.
        within_fuse, under_low_price, cut_vs_ceiling: each price condition.
        price_condition: any enabled condition holds.
        shortlisted: within the cap by rank (cap-then-conditions) or among the first cap eligible.
        won: selected.
        revived: won through the revival route.
        award_comparable: comparable price the winner is paid (its own, or the revival price); NaN if lost.
        cap_bidders: N used for the cap table (``rules.cap_bidders``: all bidders or valid ones).
        no_volume: won below mean - m x SD (batch 12): selected without agreed volume, no shortlist slot;
            None when the rule is off.
    """

    valid: np.ndarray
    counted: np.ndarray
    valid_bidders: int
    cap: int
    anchor: float
    rank: np.ndarray
    within_fuse: np.ndarray
    under_low_price: np.ndarray
    cut_vs_ceiling: np.ndarray
    price_condition: np.ndarray
    shortlisted: np.ndarray
    won: np.ndarray
    revived: np.ndarray
    award_comparable: np.ndarray
    cap_bidders: int = 0
    no_volume: np.ndarray | None = None


def select_lot(rules: RuleSet, price: np.ndarray, ceiling: np.ndarray, comparable: np.ndarray,
               order_key: np.ndarray, group: np.ndarray | None = None,
               low_price_applies: bool = True) -> LotSelection:
    """Select the winners of one lot.

    Args:
        rules: the rule set.
        price: declared price per smallest unit of each bid's own spec.
        ceiling: ceiling price per smallest unit of each bid's spec.
        comparable: unit comparable price of each bid on the representative spec.
        order_key: tie-break key per bid (an integer rank of the supplier id); lower goes first.
        group: related-party group code per bid (used when ``rules.count_related_as_one``).
        low_price_applies: whether the lot's dosage form may use the low-price route.

    Returns:
        A :class:`LotSelection` with one entry per bid.
    """
    n = len(price)
    valid = price <= ceiling * (1 + _TOL)
    if rules.tie_break == "declared-price":
        order = np.lexsort((order_key, price, comparable))
    else:
        order = np.lexsort((order_key, comparable))
    counted = valid.copy()
    related = rules.count_related_as_one and group is not None
    if related:
        seen: set = set()
        for i in order:
            if valid[i]:
                if group[i] in seen:
                    counted[i] = False
                seen.add(group[i])
    ranked = order[counted[order]]
    valid_bidders = int(counted.sum())
    if rules.cap_bidders == "all":
        cap_bidders = len(set(group.tolist())) if related else n
    else:
        cap_bidders = valid_bidders
    cap = rules.max_winners(cap_bidders)
    rank = np.zeros(n, dtype=np.int64)
    rank[ranked] = np.arange(1, len(ranked) + 1)
    no_volume = None
    if len(ranked):
        ranked_prices = comparable[ranked]
        lowest = float(ranked_prices.min())
        anchor = lowest
        if rules.anchor == "max-lowest-mean-fraction":
            anchor = max(lowest, rules.anchor_mean_fraction * float(ranked_prices.mean()))
        elif rules.anchor == "max-lowest-mean-minus-sd":
            anchor = max(lowest, float(ranked_prices.mean() - rules.anchor_sd_multiple * ranked_prices.std()))
        if rules.no_volume_below_sd is not None:
            floor = float(ranked_prices.mean() - rules.no_volume_below_sd * ranked_prices.std())
            no_volume = np.zeros(n, dtype=bool)
            no_volume[ranked[ranked_prices < floor * (1 - _TOL)]] = True
    else:
        anchor = float("nan")
    false = np.zeros(n, dtype=bool)
    within_fuse = (comparable <= rules.fuse_ratio * anchor * (1 + _TOL)) if rules.fuse_ratio else false
    if rules.low_price_threshold is not None and low_price_applies:
        under_low = comparable <= rules.low_price_threshold * (1 + _TOL)
    else:
        under_low = false
    if rules.min_cut_vs_ceiling is not None:
        cut_ok = price <= (1 - rules.min_cut_vs_ceiling) * ceiling * (1 + _TOL)
    else:
        cut_ok = false
    if rules.fuse_ratio is None and rules.low_price_threshold is None and rules.min_cut_vs_ceiling is None:
        condition = counted.copy()  # no price condition configured: every valid bid qualifies
    else:
        condition = counted & (within_fuse | under_low | cut_ok)
    if rules.highest_bid_loses and len(ranked) >= 2:
        top = comparable[ranked].max()
        condition = condition & ~(counted & (comparable >= top * (1 - _TOL)))
    # no-volume winners (batch 12) take no shortlist slot
    slotted = ranked[~no_volume[ranked]] if no_volume is not None and no_volume.any() else ranked
    shortlisted = np.zeros(n, dtype=bool)
    won = np.zeros(n, dtype=bool)
    if rules.selection_order == "cap-then-conditions":
        shortlisted[slotted[:cap]] = True
        won = shortlisted & condition
        revival_pool = slotted[:cap][~condition[slotted[:cap]]]
    else:
        eligible = slotted[condition[slotted]]
        won[eligible[:cap]] = True
        shortlisted = won.copy()
        revival_pool = slotted[~condition[slotted]][: max(cap - int(won.sum()), 0)]
    if no_volume is not None:
        extra = no_volume & condition
        won = won | extra
        shortlisted = shortlisted | extra
        no_volume = no_volume & won
    award = np.where(won, comparable, np.nan)
    revived = np.zeros(n, dtype=bool)
    if rules.revival == "highest-rule1-price" and won.any() and len(revival_pool):
        rule1 = comparable[won]
        revival_price = rule1.max() if len(rule1) > 1 else rules.revival_sole_winner_ratio * rule1[0]
        revived[revival_pool] = True
        shortlisted[revival_pool] = True
        won = won | revived
        award[revival_pool] = np.minimum(revival_price, comparable[revival_pool])
    return LotSelection(valid=valid, counted=counted, valid_bidders=valid_bidders, cap=cap, anchor=anchor,
                        rank=rank, within_fuse=within_fuse & counted, under_low_price=under_low & counted,
                        cut_vs_ceiling=cut_ok & counted, price_condition=condition,
                        shortlisted=shortlisted, won=won, revived=revived, award_comparable=award,
                        cap_bidders=cap_bidders, no_volume=no_volume)


def explain(rules: RuleSet, sel: LotSelection, i: int, price: float, ceiling: float,
            comparable: float) -> str:
    """Human reason for bid ``i``'s outcome: the deciding rule, with the numbers."""
    if not sel.valid[i]:
        return f"invalid: price {price:.4g} > ceiling {ceiling:.4g}"
    if not sel.counted[i]:
        return "not counted: a related party of the same group bid lower"
    met = []
    if sel.within_fuse[i]:
        met.append(f"<= {rules.fuse_ratio:g}x anchor ({comparable:.4g} <= {rules.fuse_ratio * sel.anchor:.4g})")
    if sel.under_low_price[i]:
        met.append(f"<= {rules.low_price_threshold:g} per unit")
    if sel.cut_vs_ceiling[i]:
        met.append(f"cut {1 - price / ceiling:.0%} >= {rules.min_cut_vs_ceiling:.0%} vs ceiling")
    place = f"rank {sel.rank[i]} of {sel.valid_bidders} valid, cap {sel.cap}"
    if sel.cap_bidders != sel.valid_bidders:
        place += f" for {sel.cap_bidders} bidders"
    if sel.revived[i]:
        return f"won by revival at comparable price {sel.award_comparable[i]:.4g}: {place}"
    if sel.no_volume is not None and sel.no_volume[i]:
        return f"won without agreed volume: below mean - {rules.no_volume_below_sd:g} SD; {place}"
    if sel.won[i]:
        if not met:
            return f"won: {place}; no price condition applies"
        return f"won: {place}; meets " + " and ".join(met)
    if not sel.price_condition[i] and rules.highest_bid_loses and (met or not _conditions_on(rules)):
        return f"lost: the highest valid bid cannot win; {place}"
    if not sel.price_condition[i]:
        failed = []
        if rules.fuse_ratio:
            failed.append(f"{comparable:.4g} > {rules.fuse_ratio:g}x anchor {sel.anchor:.4g}")
        if rules.low_price_threshold is not None:
            failed.append(f"> {rules.low_price_threshold:g} per unit")
        if rules.min_cut_vs_ceiling is not None:
            failed.append(f"cut {1 - price / ceiling:.0%} < {rules.min_cut_vs_ceiling:.0%} vs ceiling")
        return "lost: fails every price condition (" + "; ".join(failed) + f"); {place}"
    return f"lost: {place}: beyond the cap"


def _conditions_on(rules: RuleSet) -> bool:
    return not (rules.fuse_ratio is None and rules.low_price_threshold is None
                and rules.min_cut_vs_ceiling is None)
