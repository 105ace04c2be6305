"""Batch-4 vs batch-10 vs batch-11 rules on tenders/national-demo: comparison table and figure.

Each rule family is looked up by preset name (``batch4``, ``batch10``, ``batch11``); a preset that is not
registered is skipped with a note. Every scenario sees the same seeds (common random numbers), so the
paired differences to batch 4 are tight. ``--strategy best-response`` lets the bidders respond to each
rule set (slower: a best response per lot is computed before the draws).

    python scripts/compare_rules.py [--seeds 0:300] [--jobs 2] [--figure compare_rules.png]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from procurement.io.tender_files import load_tender
from procurement.rules.presets import preset_names
from procurement.simulate import Scenario, compare, format_comparison, simulate

ROOT = Path(__file__).resolve().parent.parent
TENDER = ROOT / "tenders" / "national-demo"
PRESETS = ("batch4", "batch10", "batch11")
SHOWN = ["price_cut", "winners_per_lot", "win_share", "hhi", "failed_lots", "award_ratio"]


def scenarios(strategy: str) -> list[Scenario]:
    out = []
    for preset in PRESETS:
        if preset not in preset_names():
            print(f"note: preset {preset} is not registered; skipped")
            continue
        out.append(Scenario(preset, f"registered preset {preset}", preset=preset, market={"strategy": strategy}))
    return out


def figure(table: pd.DataFrame, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    metrics = ["price_cut", "winners_per_lot", "hhi", "failed_lots"]
    titles = {"price_cut": "price cut vs reference", "winners_per_lot": "winners per lot",
              "hhi": "HHI of agreed volume (0-10000)", "failed_lots": "failed lots"}
    fig, axes = plt.subplots(1, len(metrics), figsize=(4 * len(metrics), 3.6))
    colours = ["#4c72b0", "#dd8452", "#55a868", "#c44e52"]
    for ax, metric in zip(axes, metrics, strict=True):
        rows = table[table["metric"] == metric]
        err = [rows["mean"] - rows["ci_low"], rows["ci_high"] - rows["mean"]]
        ax.bar(rows["scenario"], rows["mean"], yerr=err, capsize=4, color=colours[:len(rows)])
        ax.set_title(titles[metric])
        ax.tick_params(axis="x", rotation=20)
    fig.suptitle("national-demo: rules of batch 4 / 10 / 11 (means, 95% intervals)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0:300")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--strategy", default="cost-plus", help="Market strategy of every scenario.")
    parser.add_argument("--figure", default="compare_rules.png")
    args = parser.parse_args()
    tender = load_tender(TENDER)
    scen = scenarios(args.strategy)
    for s in scen:
        print(f"{s.name:8s} {s.description}")
    sweep = simulate(tender, scen, args.seeds, jobs=args.jobs)
    table = compare(sweep, baseline=scen[0].name)
    print()
    print(format_comparison(table, SHOWN))
    print(f"\npaired differences vs {scen[0].name} (mean [95% interval]):")
    for _, r in table[(table["scenario"] != scen[0].name) & table["metric"].isin(SHOWN)].iterrows():
        print(f"  {r['scenario']:8s} {r['metric']:16s} {r['diff']:+.4g} [{r['diff_low']:+.4g}, {r['diff_high']:+.4g}]")
    figure(table, Path(args.figure))
    print(f"\nsaved {args.figure}")


if __name__ == "__main__":
    main()
