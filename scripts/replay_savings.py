"""Annual savings of the replayed national batches 2 and 4 on their first-year agreed volume.

Replays ``bids.csv`` + ``volumes.csv`` of the published-data folder (env ``PROCUREMENT_VBP_DATA``, default
``../shared/data/vbp`` next to the repository), prices every province's agreed volume at the pre-tender
median and at the award prices (published winners, and the replay's predicted awards), and prints one
row per batch with the published national figure it compares with (vbp-rules.md section 7) and the ratio.
The method and the comparison are in docs/circulation.md, "Savings on replayed batches 2 and 4".

    python scripts/replay_savings.py [--reimbursement 0.6] [--reference spec-median] [--lots]
                                     [--out DIR [--force]]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the checkout's package, even when an older copy is installed

from procurement.analysis.batch_savings import (  # noqa: E402
    BN,
    REFERENCE_BASES,
    batch_savings,
    format_batch_savings_table,
    write_batch_savings,
)
from procurement.errors import ProcurementError  # noqa: E402
from procurement.io.atomic import check_writable  # noqa: E402


def data_dir() -> Path:
    """The published-data folder: $PROCUREMENT_VBP_DATA, else ../shared/data/vbp beside the repository."""
    return Path(os.environ.get("PROCUREMENT_VBP_DATA", ROOT.parent / "shared" / "data" / "vbp"))


def lot_table(lots: pd.DataFrame) -> str:
    """Per-lot figures, money in million yuan per year."""
    table = pd.DataFrame({
        "batch": lots["batch"], "lot": lots["lot_id"], "name": lots["lot"], "winners": lots["winners"],
        "agreed (m units)": (lots["agreed_volume"] / 1e6).round(2),
        "before (m)": (lots["spend_before"] / 1e6).round(1), "after (m)": (lots["spend_after"] / 1e6).round(1),
        "saving (m)": (lots["saving"] / 1e6).round(1), "cut": lots["cut"].map(lambda c: "n/a" if pd.isna(c) else f"{c:.1%}"),
        "predicted saving (m)": (lots["saving_predicted"] / 1e6).round(1),
    })
    return table.to_string(index=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=None, help="published-data folder (default: "
                        "$PROCUREMENT_VBP_DATA or ../shared/data/vbp)")
    parser.add_argument("--reimbursement", type=float, default=0.6, help="fund share of the saving (0.6)")
    parser.add_argument("--reference", choices=REFERENCE_BASES, default="spec-median",
                        help="pre-tender price basis (default spec-median)")
    parser.add_argument("--lots", action="store_true", help="also print the per-lot table")
    parser.add_argument("--out", type=Path, default=None, help="write the CSV tables and summary here")
    parser.add_argument("--force", action="store_true", help="replace an existing --out folder")
    args = parser.parse_args(argv)

    folder = args.data or data_dir()
    bids, volumes = folder / "bids.csv", folder / "volumes.csv"
    if not bids.is_file() or not volumes.is_file():
        print(f"error: {folder} lacks bids.csv or volumes.csv (set PROCUREMENT_VBP_DATA)", file=sys.stderr)
        return 2
    try:
        if args.out is not None:
            check_writable(args.out, args.force)
        result = batch_savings(bids, volumes, reimbursement=args.reimbursement, reference=args.reference)
    except (ProcurementError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(format_batch_savings_table(result))
    if args.lots:
        print()
        print(lot_table(result.lots))
    b = result.batches
    print(f"\ntotal: saving {b['saving'].sum() / BN:.2f} bn yuan/yr on {b['spend_before'].sum() / BN:.2f} bn "
          f"of pre-tender spend (replay {result.summary['replay_seconds']:.2f} s)")
    if args.out is not None:
        write_batch_savings(result, args.out, force=args.force)
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
