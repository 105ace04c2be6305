"""Province allocation by rank-order picking, and backup suppliers.

The cheapest winner first takes ``first_pick_regions`` regions; then, round after round, every winner in
price-rank order takes one region, until every region of the lot is taken (vbp-rules.md section 6.1: this
reproduces every published 31-province split, e.g. 16/15, 11/10/10, 9/8/7/7). Which region a winner
takes is the pick policy's choice:

- ``largest-volume``: the remaining region with the largest agreed volume of the lot (ties: table order);
- ``nearest``: the remaining region closest to the winner's production site (great-circle distance;
  ties: larger volume, then table order);
- ``random``: uniformly among the remaining regions, from the tender's seeded generator.

Backups: regions are visited in the order they were picked, and each gets as backup the winner other
than its primary with the fewest backup regions so far (ties: better rank), so backups differ from the
primary and spread evenly. A lot with one winner has no backup.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from procurement.geo import great_circle_km  # noqa: F401  (re-exported for older imports)


@dataclass(frozen=True)
class Picks:
    """Allocation of one lot's regions; arrays align with the regions passed in.

    Attributes:
        primary: index (into the ranked winners) of each region's primary supplier.
        pick_round: 0 for the first pick(s) of the cheapest winner, then 1, 2, ...
        pick_order: position of the region in the overall picking sequence.
        backup: index of each region's backup supplier, -1 if none.
    """

    primary: np.ndarray
    pick_round: np.ndarray
    pick_order: np.ndarray
    backup: np.ndarray


def pick_regions(n_winners: int, volume: np.ndarray, policy: str = "largest-volume", *,
                 distance: np.ndarray | None = None, rng: np.random.Generator | None = None,
                 first_pick_regions: int = 1, backup: bool = True) -> Picks:
    """Allocate regions to ranked winners by rank-order picking.

    Args:
        n_winners: winners, ranked cheapest first (index 0).
        volume: agreed volume of the lot per region (regions in table order).
        policy: ``largest-volume``, ``nearest`` or ``random``.
        distance: winners x regions distance matrix (km), required by ``nearest``.
        rng: generator used by ``random``.
        first_pick_regions: regions the cheapest winner takes before the rounds.
        backup: whether to assign backup suppliers.

    Returns:
        :class:`Picks`.

    Raises:
        ValueError: unknown policy, or a policy's input missing.
    """
    n_regions = len(volume)
    primary = np.full(n_regions, -1, dtype=np.int64)
    pick_round = np.zeros(n_regions, dtype=np.int64)
    pick_order = np.zeros(n_regions, dtype=np.int64)
    if n_winners <= 0 or n_regions == 0:
        return Picks(primary, pick_round, pick_order, np.full(n_regions, -1, dtype=np.int64))
    if policy == "nearest" and distance is None:
        raise ValueError("pick policy 'nearest' needs a distance matrix")
    if policy == "random" and rng is None:
        raise ValueError("pick policy 'random' needs a random generator")
    if policy not in ("largest-volume", "nearest", "random"):
        raise ValueError(f"unknown pick policy {policy!r}; valid: largest-volume, nearest, random")
    # static preference orders: positions are ranks of regions per winner, lower picks first
    by_volume = np.lexsort((np.arange(n_regions), -volume))
    taken = np.zeros(n_regions, dtype=bool)

    if policy == "nearest":
        preference = [np.lexsort((np.arange(n_regions), -volume, distance[w])) for w in range(n_winners)]
    else:
        preference = [by_volume] * n_winners
    cursor = [0] * n_winners

    def take(w: int, rnd: int, seq: int) -> None:
        if policy == "random":
            free = np.flatnonzero(~taken)
            r = int(free[rng.integers(len(free))])
        else:
            pref = preference[w]
            while taken[pref[cursor[w]]]:
                cursor[w] += 1
            r = int(pref[cursor[w]])
        taken[r] = True
        primary[r], pick_round[r], pick_order[r] = w, rnd, seq

    seq = 0
    # the extra first pick never costs another winner its region: with as many regions as winners,
    # round 1 alone gives each winner one
    for _ in range(min(first_pick_regions, max(n_regions - n_winners, 0))):
        take(0, 0, seq)
        seq += 1
    rnd = 1
    while seq < n_regions:
        for w in range(n_winners):
            if seq == n_regions:
                break
            take(w, rnd, seq)
            seq += 1
        rnd += 1
    backup_of = np.full(n_regions, -1, dtype=np.int64)
    if backup and n_winners > 1:
        load = np.zeros(n_winners, dtype=np.int64)
        for r in np.argsort(pick_order, kind="stable"):
            candidates = [w for w in range(n_winners) if w != primary[r]]
            b = min(candidates, key=lambda w: (load[w], w))
            backup_of[r] = b
            load[b] += 1
    return Picks(primary, pick_round, pick_order, backup_of)
