"""Report figures (artists on small data), the HTML/Excel writer, the CLI and a headless-Chromium render."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from procurement import report as R
from procurement.commands.report import report as report_cmd

ROOT = Path(__file__).resolve().parents[1]

BIDS = pd.DataFrame({"lot_id": ["L1", "L1", "L1", "L2", "L2"], "supplier_id": ["A", "B", "C", "A", "D"],
                     "spec_id": ["s"] * 5, "price": [1.0, 1.5, 3.0, 0.2, 0.3],
                     "comparable_price": [1.0, 1.5, 3.0, 0.2, 0.3], "ceiling_price": [4.0] * 3 + [1.0] * 2,
                     "won": [True, True, False, True, False], "reason": ["won", "won", "lost: 1.8x", "won", "lost: cap"]})


def test_bid_ladder_one_marker_per_bid():
    fig = R.bid_ladder(BIDS)
    gids = [a.get_gid() for a in fig.axes[0].lines if a.get_gid()]
    assert gids == [f"bid-{i}" for i in range(5)]
    filled = [a for a in fig.axes[0].lines if a.get_gid() and a.get_markerfacecolor() != "none"]
    assert len(filled) == 3


def test_price_cut_and_grid():
    lots = pd.DataFrame({"lot_id": ["L1", "L2"], "cut": [0.5, 0.7]})
    assert len(R.price_cut(lots).axes[0].patches) == 2
    alloc = pd.DataFrame({"lot_id": ["L1", "L1", "L2"], "region_id": ["X", "Y", "X"],
                          "primary_supplier_id": ["A", "B", "A"], "backup_supplier_id": ["B", "A", None]})
    awards = pd.DataFrame({"lot_id": ["L1", "L1", "L2"], "supplier_id": ["A", "B", "A"], "rank": [1, 2, 1]})
    ax = R.province_grid(alloc, awards).axes[0]
    assert len(ax.patches) == 3
    assert sorted(t.get_text() for t in ax.texts) == ["1/-", "1/2", "2/1"]


def test_savings_compare_sweep():
    by = pd.DataFrame({"stakeholder": ["a", "b", "a"], "change": [1.0, -2.0, 3.0]})
    assert len(R.savings_waterfall(by).axes[0].patches) == 2
    cd = pd.DataFrame({"lot_id": ["L1", "L2"], "agreed_volume": [1, 2], "x_share": [0.4, 0.5],
                       "y_share": [0.6, 0.5]})
    assert len(R.cut_decomposition(cd).axes[0].patches) == 4
    cl = pd.DataFrame({"lot_id": ["L1", "L2"], "difference": [-5.0, 0.0]})
    reg = pd.DataFrame({"lot_id": ["L1", "L1", "L2"], "region_id": ["X", "Y", "X"], "changed": [True, False, False]})
    fig = R.mode_comparison(cl, reg)
    assert len(fig.axes[0].patches) == 2 and len(fig.axes) == 2
    sw = pd.DataFrame({"scenario": ["a"] * 3 + ["b"] * 3, "seed": [0, 1, 2] * 2, "cut": [0.1, 0.2, 0.3, 0.5, 0.6, 0.4]})
    ax = R.sweep_comparison(sw, "cut").axes[0]
    assert len(ax.containers) == 2  # one errorbar (mean, 95% interval) per scenario


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory):
    from procurement.analysis.savings import savings, write_savings
    from procurement.api import load_tender, run
    from procurement.io.results import write_result

    out = tmp_path_factory.mktemp("demo") / "res"
    result = run(load_tender(ROOT / "tenders" / "demo"))
    write_result(result, out)
    write_savings(savings(result), out / "savings")
    return out


def test_cli_html_excel_and_refuse_overwrite(demo_dir, tmp_path):
    xlsx = tmp_path / "r.xlsx"
    r = CliRunner().invoke(report_cmd, [str(demo_dir), "--excel", str(xlsx)])
    assert r.exit_code == 0, r.output
    page = (demo_dir / "report.html").read_text()
    # No external fetches: no src/href/url() pointing at the network (xmlns URIs are only names).
    assert not re.search(r"""(src|href)=["']https?:|url\(https?:""", page)
    assert page.count("<title>") >= 14  # page title + one tooltip per bid
    assert "Savings by stakeholder" in page
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.load_workbook(xlsx)
    assert {"lots", "bids", "awards", "allocation", "supply"} <= set(wb.sheetnames)
    assert wb["bids"]["A1"].font.bold
    r = CliRunner().invoke(report_cmd, [str(demo_dir)])
    assert r.exit_code != 0 and "exists" in r.output
    r = CliRunner().invoke(report_cmd, [str(demo_dir), "--force"])
    assert r.exit_code == 0, r.output


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(_chromium() is None, reason="chromium not installed (apt-get install chromium chromium-driver)")
def test_html_renders_in_headless_chromium(demo_dir, tmp_path):
    page = tmp_path / "report.html"
    R.write_report(demo_dir, page)
    text = page.read_text()
    # Probe copy: a script records each image's decoded width in the DOM for --dump-dom.
    probe = tmp_path / "probe.html"
    probe.write_text(text.replace("</body>", "<script>addEventListener('load',()=>{for(const i of document.images)"
                                  "{i.setAttribute('data-decoded',i.naturalWidth)}})</script></body>"))
    base = [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--disable-quic", "--no-first-run"]
    with tempfile.TemporaryDirectory() as prof:
        shot = tmp_path / "shot.png"
        subprocess.run(base + [f"--user-data-dir={prof}", f"--screenshot={shot}", "--window-size=1280,3000",
                               page.as_uri()], capture_output=True, timeout=60, check=False)
    with tempfile.TemporaryDirectory() as prof:
        dom = subprocess.run(base + [f"--user-data-dir={prof}", "--virtual-time-budget=5000", "--dump-dom",
                                     probe.as_uri()], capture_output=True, text=True, timeout=60).stdout
    assert shot.exists() and shot.stat().st_size > 10_000
    import matplotlib.image

    img = matplotlib.image.imread(shot)
    assert img.std() > 0.01  # not blank
    n_img = text.count("<img ")
    decoded = re.findall(r'data-decoded="(\d+)"', dom)
    assert n_img >= 4 and len(decoded) == n_img and all(int(w) > 0 for w in decoded)
