"""Parametric drug price chain before and after volume-based procurement (circulation.md section 5).

The chain runs from the factory up to the payer, per smallest unit::

    COGS -> maker opex (sales & marketing, other, financing) -> maker pre-tax profit
         -> maker net revenue -> distributor gross margin (logistics + financing + profit)
         -> VAT -> bid price -> hospital markup -> patient/payer price -> fund / patient split

State 0 (before procurement) is calibrated from an observed bid price ``P_bid0`` (the tender's
reference price); state 1 (after) takes the award price ``P_bid1`` and keeps the *absolute* COGS of
state 0 less a scale economy. The maker's profit is the residual and may go negative: that is the
supply-risk signal, summarised by :func:`floor_price`.

Everything here is plain numpy on arrays that broadcast, so the same code evaluates one product, a
tender of thousands of rows, or a Monte-Carlo batch whose parameters are ``(draws, 1)`` arrays.
Parameters are read by attribute, so internal callers may pass any object with the attribute names
of :class:`ChainParams` (array-valued for vectorised sweeps).
"""

from __future__ import annotations

import dataclasses
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

DAYS_PER_YEAR = 365.0


def _p(default: float, symbol: str, doc: str, *, sweep: tuple[float, float] | None, tag: str,
       bounds: tuple[float, float] = (0.0, 1.0), unit: str = "share") -> Any:
    """A documented parameter: ``sweep`` is the section 5.5 sensitivity range, ``bounds`` the valid range."""
    return field(default=default, metadata={"symbol": symbol, "doc": doc, "sweep": sweep, "tag": tag,
                                            "bounds": bounds, "unit": unit})


@dataclass(frozen=True)
class ChainParams:
    """Parameters of the circulation price chain, defaults and ranges from circulation.md section 5.5.

    Shares of "net" are shares of the VAT-exclusive chain value (distributor net sales); shares of
    "maker revenue" are shares of the manufacturer's net revenue per unit. Source tags: [S] stated in
    a cited source, [D] derived, [R] assumption to verify. ``sweep`` ranges drive :mod:`sensitivity`
    sweeps; ``bounds`` are what :meth:`validate` accepts.
    """

    tau: float = _p(0.13, "τ", "VAT rate on drugs (17% -> 16% in 2018 -> 13% in 2019).",
                    sweep=(0.13, 0.17), tag="[R]")
    mu0: float = _p(0.0, "μ0", "Hospital markup on the bid price before procurement: 0 in the 2018 "
                    "zero-markup baseline, 0.15 in the pre-2017 regime (sweep = regime switch).",
                    sweep=(0.0, 0.15), tag="[S]")
    mu1: float = _p(0.0, "μ1", "Hospital markup after procurement (zero-markup).", sweep=None, tag="[S]")
    h0: float = _p(0.0, "h0", "Hidden rebate to the hospital before procurement, share of the bid price; "
                   "paid out of the maker's sales & marketing budget. Zero after procurement.",
                   sweep=(0.0, 0.05), tag="[R]")
    l0: float = _p(0.045, "l0", "Distributor logistics/operations before, share of net.",
                   sweep=(0.03, 0.06), tag="[S]/[D]")
    l1: float = _p(0.036, "l1", "Distributor logistics/operations after, share of net (national average; "
                   "replaced by the distance model where coordinates are known).",
                   sweep=(0.02, 0.05), tag="[S]/[D]")
    pi_d0: float = _p(0.0195, "π_d0", "Distributor profit before, share of net.", sweep=(0.015, 0.022),
                      tag="[S]")
    pi_d1: float = _p(0.010, "π_d1", "Distributor profit after, share of net.", sweep=(0.005, 0.02), tag="[R]")
    dso_h0: float = _p(150.0, "DSO_h0", "Hospital -> supplier payment days before.", sweep=(90.0, 640.0),
                       tag="[S]", bounds=(0.0, 3650.0), unit="days")
    dso_h1: float = _p(30.0, "DSO_h1", "Hospital -> supplier payment days after (30-day rule).",
                       sweep=(15.0, 60.0), tag="[S]", bounds=(0.0, 3650.0), unit="days")
    dso_m0: float = _p(90.0, "DSO_m0", "Distributor -> maker payment days before.", sweep=(60.0, 180.0),
                       tag="[R]", bounds=(0.0, 3650.0), unit="days")
    dso_m1: float = _p(45.0, "DSO_m1", "Distributor -> maker payment days after.", sweep=(30.0, 60.0),
                       tag="[R]", bounds=(0.0, 3650.0), unit="days")
    r_d: float = _p(0.05, "r_d", "Distributor financing rate per year.", sweep=(0.03, 0.10), tag="[R]/[S]",
                    unit="per year")
    r_m: float = _p(0.05, "r_m", "Maker financing rate per year.", sweep=(0.03, 0.10), tag="[R]/[S]",
                    unit="per year")
    r_h: float = _p(0.04, "r_h", "Hospital financing rate per year (values supplier credit and "
                    "prepayment float).", sweep=(0.02, 0.06), tag="[R]", unit="per year")
    r_f: float = _p(0.02, "r_f", "Insurance-fund financing rate per year (cost of prepayment).",
                    sweep=(0.01, 0.03), tag="[R]", unit="per year")
    gamma0: float = _p(0.26, "γ0", "COGS ratio before, share of maker revenue (74% gross margin).",
                       sweep=(0.10, 0.50), tag="[S]")
    e_scale: float = _p(0.05, "e_scale", "Scale economy: relative fall of unit COGS after procurement.",
                        sweep=(0.0, 0.15), tag="[R]")
    s0: float = _p(0.38, "s0", "Sales & marketing before, share of maker revenue.", sweep=(0.25, 0.45),
                   tag="[S]")
    s1: float = _p(0.05, "s1", "Sales & marketing after, share of maker revenue.", sweep=(0.02, 0.12),
                   tag="[R]")
    a0: float = _p(0.14, "a0", "Other opex (G&A, R&D, other) before, share of maker revenue.",
                   sweep=(0.10, 0.18), tag="[R]")
    a1: float = _p(0.10, "a1", "Other opex after, share of maker revenue.", sweep=(0.05, 0.20), tag="[R]")
    price_cut: float = _p(0.55, "δ", "Price cut P_bid1 = P_bid0 (1 - δ); used only where no award price "
                          "is given (the worked example). Batch averages 0.48-0.59, products 0.2-0.97.",
                          sweep=(0.48, 0.59), tag="[S]")
    rho: float = _p(0.60, "ρ", "Effective reimbursement rate: the fund pays ρ of the covered price.",
                    sweep=(0.50, 0.80), tag="[S]")
    v: float = _p(0.70, "v", "Agreed-volume share of reported use. A tender result's own agreed volumes "
                  "take precedence; sweeps scale them by v / (the value in use).",
                  sweep=(0.60, 0.90), tag="[S]")
    g_use: float = _p(0.0, "g_use", "Induced volume growth among winners from the price fall.",
                      sweep=(0.0, 0.4), tag="[S]", bounds=(0.0, 10.0))
    alpha: float = _p(0.30, "α", "Fund prepayment, share of the annual agreed purchase amount.",
                      sweep=(0.30, 0.50), tag="[S]")
    t_hold: float = _p(0.5, "t_hold", "Years the hospital holds the prepayment.", sweep=(0.1, 1.0),
                       tag="[R]", bounds=(0.0, 10.0), unit="years")
    phi_retain: float = _p(0.0, "φ_retain", "Share of the fund's saving retained by hospitals (结余留用).",
                           sweep=(0.0, 0.5), tag="[R]")
    standard_cap_multiple: float = _p(2.0, "-", "A non-winner priced at most this multiple of the winner's "
                                      "price is reimbursed at the winner's price.", sweep=None, tag="[S]",
                                      bounds=(1.0, 100.0), unit="ratio")
    standard_stepdown: float = _p(0.7, "-", "Above the cap, a non-winner's payment standard is this share "
                                  "of its own old price (first year; convergence not modelled).",
                                  sweep=None, tag="[S]")

    @property
    def g_d0(self) -> float:
        """Distributor gross margin before, share of net (derived: l0 + r_d DSO_h0/365 + π_d0)."""
        return self.l0 + self.r_d * self.dso_h0 / DAYS_PER_YEAR + self.pi_d0

    @property
    def g_d1(self) -> float:
        """Distributor gross margin after, share of net (derived: l1 + r_d DSO_h1/365 + π_d1)."""
        return self.l1 + self.r_d * self.dso_h1 / DAYS_PER_YEAR + self.pi_d1

    def replace(self, **changes: float) -> ChainParams:
        """A validated copy with some parameters changed.

        Raises:
            ValueError: unknown parameter name or invalid value (see :meth:`validate`).
        """
        unknown = sorted(set(changes) - set(PARAMETER_NAMES))
        if unknown:
            raise ValueError(f"unknown chain parameter(s) {', '.join(unknown)}; valid: "
                             f"{', '.join(PARAMETER_NAMES)}")
        out = dataclasses.replace(self, **changes)
        out.validate()
        return out

    def validate(self, source: str = "ChainParams") -> None:
        """Check every value is a finite number inside its bounds and the chain is well posed.

        Raises:
            ValueError: naming ``source``, the parameter, the value and the expected range.
        """
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            lo, hi = f.metadata["bounds"]
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                raise ValueError(f"{source}: parameter {f.name} = {value!r}: expected a finite number in "
                                 f"[{lo}, {hi}]")
            if not lo <= value <= hi:
                raise ValueError(f"{source}: parameter {f.name} = {value!r} is out of range: expected a "
                                 f"number in [{lo}, {hi}] ({f.metadata['unit']})")
        # The post-procurement floor divides by these; at or past 1 the chain has no positive price.
        for label, total in (("g_d0 = l0 + r_d*DSO_h0/365 + pi_d0", self.g_d0),
                             ("g_d1 = l1 + r_d*DSO_h1/365 + pi_d1", self.g_d1),
                             ("s1 + a1 + r_m*DSO_m1/365", self.s1 + self.a1 + self.r_m * self.dso_m1
                              / DAYS_PER_YEAR)):
            if total >= 1.0:
                raise ValueError(f"{source}: {label} = {total:.4f}; must be below 1")
        if self.h0 * (1 + self.tau) > self.s0 * (1 - self.g_d0):
            raise ValueError(f"{source}: h0 = {self.h0} exceeds the sales & marketing budget it is paid "
                             f"from (s0 (1 - g_d0) / (1 + tau) = "
                             f"{self.s0 * (1 - self.g_d0) / (1 + self.tau):.4f} of the bid price)")


PARAMETER_NAMES: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(ChainParams))


def parameter_table() -> list[dict[str, Any]]:
    """Describe every chain parameter: name, symbol, default, sweep range, bounds, unit, source tag, doc."""
    rows = []
    for f in dataclasses.fields(ChainParams):
        m = f.metadata
        rows.append({"name": f.name, "symbol": m["symbol"], "default": f.default,
                     "low": None if m["sweep"] is None else m["sweep"][0],
                     "high": None if m["sweep"] is None else m["sweep"][1],
                     "bounds": m["bounds"], "unit": m["unit"], "tag": m["tag"], "doc": m["doc"]})
    return rows


def sweep_ranges(exclude: tuple[str, ...] = ()) -> dict[str, tuple[float, float]]:
    """Section 5.5 sensitivity ranges by parameter name, skipping parameters without a range."""
    return {f.name: f.metadata["sweep"] for f in dataclasses.fields(ChainParams)
            if f.metadata["sweep"] is not None and f.name not in exclude}


def _read_toml_table(path: str | Path, table: str, valid_tables: tuple[str, ...]) -> dict[str, Any]:
    path = Path(path)
    try:
        with path.open("rb") as fh:
            doc = tomllib.load(fh)
    except FileNotFoundError:
        raise ValueError(f"{path}: parameter file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{path}: not valid TOML: {exc}") from None
    unknown = sorted(set(doc) - set(valid_tables))
    if unknown:
        raise ValueError(f"{path}: unknown table or key {', '.join(unknown)}; valid tables: "
                         f"{', '.join('[' + t + ']' for t in valid_tables)}")
    body = doc.get(table, {})
    if not isinstance(body, dict):
        raise ValueError(f"{path}: [{table}] must be a table of parameter = value")
    return body


#: Tables a parameter file may contain.
PARAM_FILE_TABLES = ("chain", "logistics")


def load_chain_params(path: str | Path, base: ChainParams | None = None) -> ChainParams:
    """Read chain-parameter overrides from the ``[chain]`` table of a TOML file.

    Keys are :class:`ChainParams` field names; absent keys keep the value of ``base`` (default:
    the section 5.5 defaults). A ``[logistics]`` table may sit in the same file (see
    :func:`procurement.analysis.logistics.load_logistics_params`).

    Args:
        path: TOML file.
        base: parameters to override; None for the defaults.

    Returns:
        The validated parameters.

    Raises:
        ValueError: file missing or not TOML; unknown table; unknown key (the message lists the valid
            keys); value of the wrong type or out of range (the message gives the expected range).
    """
    body = _read_toml_table(path, "chain", PARAM_FILE_TABLES)
    unknown = sorted(set(body) - set(PARAMETER_NAMES))
    if unknown:
        raise ValueError(f"{path}: [chain] unknown key {', '.join(unknown)}; valid keys: "
                         f"{', '.join(PARAMETER_NAMES)}")
    bounds = {f.name: f.metadata["bounds"] for f in dataclasses.fields(ChainParams)}
    values: dict[str, float] = {}
    for key, value in body.items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            lo, hi = bounds[key]
            raise ValueError(f"{path}: [chain] {key} = {value!r}: expected a number in [{lo}, {hi}], "
                             f"got {type(value).__name__}")
        values[key] = float(value)
    out = dataclasses.replace(base or ChainParams(), **values)
    out.validate(source=f"{path}: [chain]")
    return out


# ---------------------------------------------------------------------------------------------------
# The chain itself

#: Additive layers of the patient price, in chain order; they sum to ``p_pat``.
PRICE_LAYERS = ("cogs", "promotion", "other_opex", "maker_financing", "maker_profit", "logistics",
                "distributor_financing", "distributor_profit", "vat", "markup")


def pre_chain(p_bid0: Any, params: Any) -> dict[str, np.ndarray]:
    """Per-unit layers before procurement, calibrated from the observed bid price (section 5.2, state 0).

    Args:
        p_bid0: bid (hospital purchase) price per unit, VAT included; array-like.
        params: :class:`ChainParams` (or any object with its attribute names, possibly array-valued).

    Returns:
        dict of arrays: the :data:`PRICE_LAYERS` plus ``p_bid``, ``p_pat``, ``net``, ``maker_revenue``,
        ``distributor_margin`` and ``hidden_rebate`` (the part of ``promotion`` paid back to the hospital).
    """
    p = params
    p_bid = np.asarray(p_bid0, dtype=float)
    net = p_bid / (1 + p.tau)
    logistics = p.l0 * net
    dist_fin = p.r_d * p.dso_h0 / DAYS_PER_YEAR * net
    dist_profit = p.pi_d0 * net
    revenue = net - logistics - dist_fin - dist_profit
    cogs = p.gamma0 * revenue
    return _layers(p_bid, net, logistics, dist_fin, dist_profit, revenue, cogs,
                   promotion=p.s0 * revenue, other=p.a0 * revenue,
                   maker_fin=p.r_m * p.dso_m0 / DAYS_PER_YEAR * revenue,
                   rebate=p.h0 * p_bid, markup=p.mu0 * p_bid)


def post_chain(p_bid1: Any, cogs0: Any, params: Any, l1: Any = None) -> dict[str, np.ndarray]:
    """Per-unit layers after procurement (section 5.2, state 1).

    Args:
        p_bid1: award price per unit, VAT included.
        cogs0: unit COGS of state 0 (``pre_chain(...)["cogs"]``); state 1 keeps it less the scale economy.
        params: as for :func:`pre_chain`.
        l1: logistics share of net per row, overriding ``params.l1`` (e.g. from the distance model).

    Returns:
        dict of arrays, same keys as :func:`pre_chain`. ``maker_profit`` may be negative.
    """
    p = params
    p_bid = np.asarray(p_bid1, dtype=float)
    net = p_bid / (1 + p.tau)
    logistics = (p.l1 if l1 is None else l1) * net
    dist_fin = p.r_d * p.dso_h1 / DAYS_PER_YEAR * net
    dist_profit = p.pi_d1 * net
    revenue = net - logistics - dist_fin - dist_profit
    cogs = np.asarray(cogs0, dtype=float) * (1 - p.e_scale)
    return _layers(p_bid, net, logistics, dist_fin, dist_profit, revenue, cogs,
                   promotion=p.s1 * revenue, other=p.a1 * revenue,
                   maker_fin=p.r_m * p.dso_m1 / DAYS_PER_YEAR * revenue,
                   rebate=0.0 * p_bid, markup=p.mu1 * p_bid)


def _layers(p_bid, net, logistics, dist_fin, dist_profit, revenue, cogs, *, promotion, other, maker_fin,
            rebate, markup) -> dict[str, np.ndarray]:
    profit = revenue - cogs - promotion - other - maker_fin
    return {"p_bid": p_bid, "net": net, "vat": p_bid - net, "logistics": logistics,
            "distributor_financing": dist_fin, "distributor_profit": dist_profit,
            "distributor_margin": logistics + dist_fin + dist_profit, "maker_revenue": revenue,
            "cogs": cogs, "promotion": promotion, "hidden_rebate": rebate, "other_opex": other,
            "maker_financing": maker_fin, "maker_profit": profit, "markup": markup,
            "p_pat": p_bid + markup}


def floor_price(p_bid0: Any, params: Any, l1: Any = None) -> np.ndarray:
    """Lowest sustainable bid price: the award price at which the maker's pre-tax profit is zero.

    ``P_floor = (1 + tau) c1 / [(1 - g_d1) (1 - s1 - a1 - r_m DSO_m1/365)]`` with ``c1`` the state-1
    unit COGS calibrated from the reference price ``p_bid0`` (section 5.2).

    Args:
        p_bid0: reference (pre-procurement) bid price per unit.
        params: as for :func:`pre_chain`.
        l1: logistics share of net after procurement, overriding ``params.l1``.

    Returns:
        Floor price per unit, same shape as the broadcast inputs.
    """
    p = params
    cogs1 = pre_chain(p_bid0, p)["cogs"] * (1 - p.e_scale)
    g_d1 = (p.l1 if l1 is None else l1) + p.r_d * p.dso_h1 / DAYS_PER_YEAR + p.pi_d1
    keep = 1 - p.s1 - p.a1 - p.r_m * p.dso_m1 / DAYS_PER_YEAR
    return (1 + p.tau) * cogs1 / ((1 - g_d1) * keep)


#: Layer changes of the patient price grouped as in section 5.4; the groups add up to the whole cut.
CUT_GROUPS: dict[str, tuple[str, ...]] = {
    "circulation": ("promotion", "logistics", "distributor_financing", "distributor_profit",
                    "maker_financing", "markup"),
    "margin": ("maker_profit",),
    "tax": ("vat",),
    "opex": ("other_opex",),
    "production": ("cogs",),
}


def decompose_cut(pre: dict[str, np.ndarray], post: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Split the patient-price cut into layer changes and the section 5.4 shares.

    The circulation share counts sales & marketing (including hidden rebates, which are paid from it),
    the whole distributor margin, maker financing and the hospital markup. Shares of circulation,
    margin, tax, opex and production add up to 1; they are NaN where the price did not change.

    Args:
        pre: :func:`pre_chain` output.
        post: :func:`post_chain` output.

    Returns:
        dict with ``d_pat`` (the cut per unit), ``d_<layer>`` per :data:`PRICE_LAYERS` (positive = the
        layer shrank) and ``<group>_share`` per :data:`CUT_GROUPS`.
    """
    d_pat = pre["p_pat"] - post["p_pat"]
    out: dict[str, np.ndarray] = {"d_pat": d_pat}
    for layer in PRICE_LAYERS:
        out["d_" + layer] = pre[layer] - post[layer]
    safe = np.where(d_pat == 0, np.nan, d_pat)
    for group, layers in CUT_GROUPS.items():
        out[group + "_share"] = sum(out["d_" + layer] for layer in layers) / safe
    return out
