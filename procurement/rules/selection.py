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

from dataclasses import dataclass, fields

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

    :func:`stack_selections` joins several lots' selections into one whose scalar fields are per-bid arrays.
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
    valid_bidders = int(np.count_nonzero(counted))
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
        # mean and population SD of the batch-12 rules, computed once (std() costs more than the rest)
        if rules.anchor == "max-lowest-mean-minus-sd" or rules.no_volume_below_sd is not None:
            mean, sd = ranked_prices.mean(), ranked_prices.std()
        if rules.anchor == "max-lowest-mean-fraction":
            anchor = max(lowest, rules.anchor_mean_fraction * float(ranked_prices.mean()))
        elif rules.anchor == "max-lowest-mean-minus-sd":
            anchor = max(lowest, float(mean - rules.anchor_sd_multiple * sd))
        if rules.no_volume_below_sd is not None:
            floor = float(mean - rules.no_volume_below_sd * sd)
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


_PER_LOT = ("valid_bidders", "cap", "anchor", "cap_bidders")  # the scalar fields of a LotSelection


def stack_selections(selections: list[LotSelection]) -> LotSelection:
    """The selections of one or more lots as one, their bids end to end in the order given.

    The per-lot scalars (``valid_bidders``, ``cap``, ``anchor``, ``cap_bidders``) become per-bid arrays
    (each bid carries its lot's value) and ``no_volume`` is all False for lots where it is None, so
    :func:`explain_bids` and the audit columns handle every bid of a tender in one pass.
    """
    sizes = [len(s.valid) for s in selections]
    stacked = {}
    for f in fields(LotSelection):
        values = [getattr(s, f.name) for s in selections]
        if f.name == "no_volume":
            values = [np.zeros(k, dtype=bool) if v is None else v for v, k in zip(values, sizes, strict=True)]
        if f.name in _PER_LOT:
            stacked[f.name] = np.repeat(np.array(values), sizes)
        else:
            stacked[f.name] = np.concatenate(values)
    return LotSelection(**stacked)


def explain(rules: RuleSet, sel: LotSelection, i: int, price: float, ceiling: float,
            comparable: float) -> str:
    """Human reason for bid ``i``'s outcome: the deciding rule, with the numbers.

    A wrapper of :func:`explain_bids` (which owns the texts) for one bid.
    """
    one = {f.name: getattr(sel, f.name) for f in fields(LotSelection)}
    for name, value in one.items():
        if isinstance(value, np.ndarray):
            one[name] = value[i:i + 1]
    return explain_bids(rules, LotSelection(**one), np.array([price], dtype=float),
                        np.array([ceiling], dtype=float), np.array([comparable], dtype=float))[0]


def explain_bids(rules: RuleSet, sel: LotSelection, price: np.ndarray, ceiling: np.ndarray,
                 comparable: np.ndarray) -> list[str]:
    """Human reason for every bid's outcome: the deciding rule, with the numbers.

    Args:
        rules: the rule set.
        sel: a lot's selection, or many lots' stacked by :func:`stack_selections` (whose per-lot scalars
            are per-bid arrays).
        price, ceiling, comparable: per bid, as given to :func:`select_lot`.

    Returns:
        One text per bid, by the first outcome category that applies to it (invalid, not counted,
        revived, no volume, won, highest loses, fails conditions, beyond cap), with its numbers.
    """
    # Written for speed (a call per bid took a third of evaluate_bids' time): each category is
    # formatted in one loop over plain Python values (formatted exactly as the numpy scalars would
    # be), the rule constants are formatted once, and a bid's place in its lot (rank, bidders, cap)
    # comes from a cache, since the same few recur.
    n = len(sel.valid)
    # per bid, as Python lists (scalars of a single lot's selection broadcast to every bid)
    rank, valid_bidders, cap, cap_bidders, anchor, award, p, c, comp = (
        np.broadcast_to(np.asarray(x), (n,)).tolist() for x in
        (sel.rank, sel.valid_bidders, sel.cap, sel.cap_bidders, sel.anchor, sel.award_comparable,
         price, ceiling, comparable))
    with np.errstate(divide="ignore", invalid="ignore"):
        cut = (1 - np.asarray(price, dtype=float) / np.asarray(ceiling, dtype=float)).tolist()
    within_fuse, under_low, cut_ok = (x.tolist() for x in (sel.within_fuse, sel.under_low_price,
                                                           sel.cut_vs_ceiling))
    # each bid's category: the first of these that holds, in this order ("beyond cap" if none does)
    no_volume = sel.no_volume if sel.no_volume is not None else np.zeros(n, dtype=bool)
    met_any = sel.within_fuse | sel.under_low_price | sel.cut_vs_ceiling
    tests = {"invalid": ~sel.valid, "not counted": ~sel.counted, "revived": sel.revived,
             "no volume": no_volume, "won": sel.won,
             "highest loses": (~sel.price_condition & rules.highest_bid_loses
                               & (met_any | (not _conditions_on(rules)))),
             "fails conditions": ~sel.price_condition}
    category = np.select(list(tests.values()), list(range(len(tests))), default=len(tests))
    members = {name: np.flatnonzero(category == k).tolist() for k, name in enumerate([*tests, "beyond cap"])}

    fuse, low, min_cut = rules.fuse_ratio, rules.low_price_threshold, rules.min_cut_vs_ceiling
    fuse_text = f"{fuse:g}x anchor" if fuse else ""
    low_text = f"{low:g} per unit" if low is not None else ""
    cut_text = f"{min_cut:.0%} vs ceiling" if min_cut is not None else ""
    fuse_limit = (fuse * np.asarray(anchor)).tolist() if fuse else []

    out = [""] * n
    for i in members["invalid"]:
        out[i] = f"invalid: price {p[i]:.4g} > ceiling {c[i]:.4g}"
    for i in members["not counted"]:
        out[i] = "not counted: a related party of the same group bid lower"
    # every other bid competes: its place in its lot
    place = [""] * n
    places: dict[tuple[int, int, int, int], str] = {}
    for i in np.flatnonzero(sel.counted).tolist():
        key = (rank[i], valid_bidders[i], cap[i], cap_bidders[i])
        text = places.get(key)
        if text is None:
            text = f"rank {key[0]} of {key[1]} valid, cap {key[2]}"
            if key[3] != key[1]:
                text += f" for {key[3]} bidders"
            places[key] = text
        place[i] = text
    for i in members["revived"]:
        out[i] = f"won by revival at comparable price {award[i]:.4g}: {place[i]}"
    for i in members["no volume"]:
        out[i] = f"won without agreed volume: below mean - {rules.no_volume_below_sd:g} SD; {place[i]}"
    for i in members["won"]:
        met = []
        if within_fuse[i]:
            met.append(f"<= {fuse_text} ({comp[i]:.4g} <= {fuse_limit[i]:.4g})")
        if under_low[i]:
            met.append(f"<= {low_text}")
        if cut_ok[i]:
            met.append(f"cut {cut[i]:.0%} >= {cut_text}")
        met_text = "meets " + " and ".join(met) if met else "no price condition applies"
        out[i] = f"won: {place[i]}; {met_text}"
    for i in members["highest loses"]:
        out[i] = f"lost: the highest valid bid cannot win; {place[i]}"
    for i in members["fails conditions"]:
        failed = []
        if fuse:
            failed.append(f"{comp[i]:.4g} > {fuse_text} {anchor[i]:.4g}")
        if low is not None:
            failed.append(f"> {low_text}")
        if min_cut is not None:
            failed.append(f"cut {cut[i]:.0%} < {cut_text}")
        out[i] = "lost: fails every price condition (" + "; ".join(failed) + f"); {place[i]}"
    for i in members["beyond cap"]:
        out[i] = f"lost: {place[i]}: beyond the cap"
    return out


def _conditions_on(rules: RuleSet) -> bool:
    return not (rules.fuse_ratio is None and rules.low_price_threshold is None
                and rules.min_cut_vs_ceiling is None)
