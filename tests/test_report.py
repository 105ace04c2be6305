"""Report figures (artists on small data), the HTML/Excel writer, the CLI, real sweep and compare-modes
sections, and a headless-Chromium render (chromedriver) of the demo report."""

from __future__ import annotations

import base64
import contextlib
import html as htmllib
import json
import re
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from procurement import report as R
from procurement.commands.report import report as report_cmd

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "tenders" / "demo"

BIDS = pd.DataFrame({"lot_id": ["L1", "L1", "L1", "L2", "L2"], "supplier_id": ["A", "B", "C", "A", "D"],
                     "spec_id": ["s"] * 5, "price": [1.0, 1.5, 3.0, 0.2, 0.3],
                     "comparable_price": [1.0, 1.5, 3.0, 0.2, 0.3], "ceiling_price": [4.0] * 3 + [1.0] * 2,
                     "won": [True, True, False, True, False], "reason": ["won", "won", "lost: 1.8x", "won", "lost: cap"]})
ALLOC = pd.DataFrame({"lot_id": ["L1", "L1", "L2"], "region_id": ["X", "Y", "X"],
                      "primary_supplier_id": ["A", "B", "A"], "backup_supplier_id": ["B", "A", None],
                      "agreed_volume": [100.0, 200.0, 300.0]})
AWARDS = pd.DataFrame({"lot_id": ["L1", "L1", "L2"], "supplier_id": ["A", "B", "A"], "rank": [1, 2, 1]})


def _gid_patches(ax, prefix: str) -> list:
    return [p for p in ax.patches if (p.get_gid() or "").startswith(prefix)]


def test_bid_ladder_one_marker_per_bid():
    fig = R.bid_ladder(BIDS)
    gids = [a.get_gid() for a in fig.axes[0].lines if a.get_gid()]
    assert gids == [f"bid-{i}" for i in range(5)]
    filled = [a for a in fig.axes[0].lines if a.get_gid() and a.get_markerfacecolor() != "none"]
    assert len(filled) == 3
    # per lot: the 1-1.8x band, the ceiling and the 0.10-yuan line
    assert len([a for a in fig.axes[0].lines if not a.get_gid()]) == 3 * 2


def test_price_cut_and_grid():
    lots = pd.DataFrame({"lot_id": ["L1", "L2"], "cut": [0.5, 0.7]})
    ax = R.price_cut(lots).axes[0]
    assert len(ax.patches) == 2
    assert [t.get_text() for t in ax.texts] == ["50%", "70%"]  # sorted, labelled
    ax = R.province_grid(ALLOC, AWARDS).axes[0]
    assert [p.get_gid() for p in ax.patches] == ["cell-0", "cell-1", "cell-2"]
    assert sorted(t.get_text() for t in ax.texts) == ["1/-", "1/2", "2/1"]


def test_grid_tooltips_one_title_per_cell():
    from procurement.report.html import grid_tooltips, svg_with_titles

    tips = grid_tooltips(ALLOC, AWARDS)
    assert tips["cell-0"] == "lot L1, province X: primary A (rank 1), backup B (rank 2); agreed volume 100"
    assert tips["cell-2"].startswith("lot L2, province X: primary A (rank 1), backup -")
    svg = svg_with_titles(R.province_grid(ALLOC, AWARDS), tips)
    for i in range(3):
        assert re.search(rf'<g id="cell-{i}"[^>]*><title>lot ', svg)


BY_STAKEHOLDER = pd.DataFrame({
    "lot_id": ["L1"] * 5 + ["TOTAL"] * 5,
    "stakeholder": ["insurance_fund", "patients", "makers", "logistics_cost", "hospital_payment_timing"] * 2,
    "group": ["payer", "payer", "party", "cost", "memo"] * 2,
    "before": [0.0] * 10, "after": [0.0] * 10,
    "change": [6.0, 4.0, -7.0, 3.0, -50.0] * 2})


def test_savings_waterfall_identity_rows_only():
    ax = R.savings_waterfall(BY_STAKEHOLDER).axes[0]
    steps = _gid_patches(ax, "step-")
    assert [p.get_gid() for p in steps] == ["step-makers", "step-logistics_cost"]  # no payer, memo rows
    assert sum(p.get_width() for p in steps) == pytest.approx(10.0)  # TOTAL rows only, not doubled
    total = _gid_patches(ax, "total-")
    assert [p.get_width() for p in total] == [6.0, 4.0]
    assert steps[-1].get_x() + steps[-1].get_width() == pytest.approx(10.0)  # the steps end at the total
    # without TOTAL rows the lot rows are summed
    lots_only = BY_STAKEHOLDER[BY_STAKEHOLDER["lot_id"] != "TOTAL"]
    assert R.payer_saving(lots_only) == R.payer_saving(BY_STAKEHOLDER) == 10.0


def test_cut_compare_sweep_figures():
    cd = pd.DataFrame({"lot_id": ["L1", "L2"], "agreed_volume": [1, 2], "x_share": [0.4, 0.5],
                       "y_share": [0.6, 0.5]})
    assert len(R.cut_decomposition(cd).axes[0].patches) == 4
    # shares weighted by the cut in yuan (d_pat x volume), NaN rows (no price change) ignored
    cd2 = pd.DataFrame({"lot_id": ["L1"] * 3, "agreed_volume": [1.0, 1.0, 5.0], "d_pat": [1.0, 3.0, 0.0],
                        "x_share": [1.0, 0.0, np.nan], "y_share": [0.0, 1.0, np.nan]})
    shares = R.cut_shares_by_lot(cd2)
    assert shares.loc[0, "x_share"] == pytest.approx(0.25) and shares.loc[0, "y_share"] == pytest.approx(0.75)
    cl = pd.DataFrame({"lot_id": ["L1", "L2"], "difference": [-5.0, 0.0]})
    reg = pd.DataFrame({"lot_id": ["L1", "L1", "L2"], "region_id": ["X", "Y", "X"], "changed": [True, False, False]})
    fig = R.mode_comparison(cl, reg)
    assert len(fig.axes) == 2 and len(fig.axes[0].patches) == 2
    assert [p.get_width() for p in fig.axes[1].patches] == [1, 2, 0, 1]  # regions, then changed (L2, L1)
    sw = pd.DataFrame({"scenario": ["a"] * 3 + ["b"] * 3, "seed": [0, 1, 2] * 2, "cut": [0.1, 0.2, 0.3, 0.5, 0.6, 0.4]})
    ax = R.sweep_comparison(sw, "cut").axes[0]
    assert len(ax.containers) == 2  # one errorbar (mean, 95% interval) per scenario
    ticks = [ln for ln in ax.lines if (ln.get_gid() or "").startswith("draws-")]
    assert [len(ln.get_xdata()) for ln in ticks] == [3, 3]  # a tick per run, per scenario


@pytest.fixture(scope="module")
def demo_result():
    from procurement.api import load_tender, run

    return run(load_tender(DEMO))


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory, demo_result):
    from procurement.analysis.savings import savings, write_savings
    from procurement.io.results import write_result

    out = tmp_path_factory.mktemp("demo") / "res"
    write_result(demo_result, out)
    write_savings(savings(demo_result), out / "savings")
    return out


def test_waterfall_bars_sum_to_payer_saving_on_demo(demo_result):
    from procurement.analysis.savings import savings

    s = savings(demo_result)
    payer = s.summary["payer_saving"]
    assert payer > 0
    ax = R.savings_waterfall(s.by_stakeholder).axes[0]
    steps = _gid_patches(ax, "step-")
    groups = s.by_stakeholder.drop_duplicates("stakeholder").set_index("stakeholder")["group"]
    assert {p.get_gid().removeprefix("step-") for p in steps} == set(groups[groups.isin(["party", "cost"])].index)
    scale = 1e6  # the axis is in millions for the demo's ~14 million saving
    assert "million" in ax.get_xlabel()
    assert sum(p.get_width() for p in steps) * scale == pytest.approx(payer, rel=1e-9)
    assert (steps[-1].get_x() + steps[-1].get_width()) * scale == pytest.approx(payer, rel=1e-9)
    assert sum(p.get_width() for p in _gid_patches(ax, "total-")) * scale == pytest.approx(payer, rel=1e-9)


def test_cli_html_excel_and_refuse_overwrite(demo_dir, tmp_path):
    xlsx = tmp_path / "r.xlsx"
    r = CliRunner().invoke(report_cmd, [str(demo_dir), "--excel", str(xlsx)])
    assert r.exit_code == 0, r.output
    page = (demo_dir / "report.html").read_text()
    # No external fetches: no src/href/url() pointing at the network (xmlns URIs are only names).
    assert not re.search(r"""(src|href)=["']https?:|url\(https?:""", page)
    assert "<script" not in page
    assert page.count("<title>") >= 1 + 13 + 15  # page title + one tooltip per bid + one per grid cell
    assert "Savings by stakeholder" in page and "payer saving (fund + patients)" in page
    assert (demo_dir / "report.html").stat().st_mode & 0o777 == 0o666 & ~_umask()
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.load_workbook(xlsx)
    assert {"lots", "bids", "awards", "allocation", "supply", "savings_by_stakeholder"} <= set(wb.sheetnames)
    assert wb["bids"]["A1"].font.bold and wb["bids"].freeze_panes == "A2"
    r = CliRunner().invoke(report_cmd, [str(demo_dir)])
    assert r.exit_code != 0 and "exists" in r.output
    r = CliRunner().invoke(report_cmd, [str(demo_dir), "--force"])
    assert r.exit_code == 0, r.output


def _umask() -> int:
    from procurement.io.atomic import _umask

    return _umask()


def _section(page: str, title: str) -> str:
    start = page.index(f">{title}</h2>")
    end = page.find("<h2", start)
    return page[start:end if end >= 0 else len(page)]


def test_grid_titles_for_every_allocated_cell_in_html(demo_dir, demo_result, tmp_path):
    page, _ = R.build_report(demo_dir)
    grid = _section(page, "Province allocation")
    assert "<svg" in grid and "<img" not in grid
    titles = [htmllib.unescape(t) for t in re.findall(r"<title>(.*?)</title>", grid, flags=re.S)]
    alloc = demo_result.allocation
    assert len(alloc) == 15
    for r in alloc.itertuples():
        want = f"lot {r.lot_id}, province {r.region_id}: primary {r.primary_supplier_id}"
        hits = [t for t in titles if t.startswith(want)]
        assert len(hits) == 2, want  # the cell and its label
        assert f"agreed volume {r.agreed_volume:,.0f}" in hits[0]
        if isinstance(r.backup_supplier_id, str):
            assert f"backup {r.backup_supplier_id}" in hits[0]


@pytest.fixture(scope="module")
def full_dir(tmp_path_factory, demo_dir):
    """The demo result folder plus compare-modes output (the CLI's --out) and a real 3-seed x 2-scenario
    sweep written by procurement.simulate."""
    from procurement.commands.optimize import compare_modes as compare_cmd
    from procurement.simulate import simulate

    root = tmp_path_factory.mktemp("full")
    out = root / "res"
    shutil.copytree(demo_dir, out)
    (out / "report.html").unlink(missing_ok=True)
    r = CliRunner().invoke(compare_cmd, [str(DEMO), "--out", str(out / "compare")])
    assert r.exit_code == 0, r.output
    scenarios = {"scenarios": {"batch4": {"description": "the tender's rules"},
                               "thin-margins": {"market": {"markup": 0.2}}}}
    simulate(DEMO, scenarios, seeds=3, out=root / "sweep.csv")
    return out, root / "sweep.csv"


def test_report_with_real_sweep_and_compare_modes_cli(full_dir, tmp_path):
    out, sweep = full_dir
    page_path, xlsx = tmp_path / "full.html", tmp_path / "full.xlsx"
    t0 = time.perf_counter()
    r = CliRunner().invoke(report_cmd, [str(out), "--out", str(page_path), "--sweep", str(sweep),
                                        "--excel", str(xlsx)])
    assert r.exit_code == 0, r.output
    assert time.perf_counter() - t0 < 30
    page = page_path.read_text()
    summary = json.loads((out / "compare" / "summary.json").read_text())
    assert "optimal vs rules: regions changing hands" in page
    assert f"{summary['regions_changed']} of {summary['regions']}" in page
    cmp = _section(page, "Optimal vs rules")
    assert "<img" in cmp and "regions_changed" in cmp
    for m in ("price_cut", "spend", "hhi"):
        sec = _section(page, f"Scenarios: {m}")
        assert "<img" in sec and "thin-margins" in sec and "batch4" in sec
        assert "ci_low" in sec and "95% interval" in sec
    assert page.count("<img ") == 1 + 2 + 1 + 3  # price cut, savings x2, compare, 3 sweeps (ladder, grid: SVG)
    import openpyxl

    wb = openpyxl.load_workbook(xlsx)
    assert {"compare_lots", "compare_regions", "compare_concentration", "sweep", "sweep_draws"} <= set(wb.sheetnames)
    assert wb["sweep_draws"].max_row == 1 + 2 * 3  # one row per scenario x seed


def test_build_report_from_objects(demo_result, full_dir):
    """The Python path: a TenderResult, a SavingsResult, a ComparisonResult and a sweep frame."""
    from procurement.analysis.savings import savings
    from procurement.api import load_tender
    from procurement.optimize import compare_modes
    from procurement.simulate import simulate

    tender = load_tender(DEMO)
    cmp = compare_modes(tender)
    sweep = simulate(tender, {"scenarios": {"a": {}, "b": {"rules": {"fuse_ratio": 1.5}}}}, seeds=3)
    page, tables = R.build_report(demo_result, savings=savings(demo_result), compare=cmp, sweep=sweep,
                                  sweep_metric="price_cut")
    assert "Scenarios: price_cut" in page and "Scenarios: spend" not in page
    assert "Optimal vs rules" in page and "Cut decomposition" in page
    assert len(tables["compare_regions"]) == len(cmp.regions)
    draws = tables["sweep_draws"]
    assert list(draws.groupby("scenario", sort=False).size()) == [3, 3]
    fig = R.sweep_comparison(sweep, "price_cut")
    assert len(fig.axes[0].containers) == 2
    ticks = [ln for ln in fig.axes[0].lines if (ln.get_gid() or "").startswith("draws-")]
    assert sorted(len(ln.get_xdata()) for ln in ticks) == [3, 3]  # one tick per draw, not per lot
    with pytest.raises(ValueError, match="not found"):
        R.build_report(demo_result, sweep=sweep, sweep_metric="nope")


# --- headless Chromium, driven through chromedriver's W3C WebDriver HTTP API (no Python dependency) ---

def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _chromedriver() -> str | None:
    return shutil.which("chromedriver")


class _WebDriver:
    """Minimal WebDriver client: one headless Chromium session via a chromedriver child process."""

    def __init__(self, profile: str):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self.base = f"http://127.0.0.1:{port}"
        self.proc = subprocess.Popen([_chromedriver(), f"--port={port}"], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 20
            while True:
                try:
                    if self._call("GET", "/status").get("ready"):
                        break
                except OSError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError("chromedriver did not start")
                time.sleep(0.1)
            args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                    "--no-first-run", f"--user-data-dir={profile}", "--window-size=1280,1000", "--hide-scrollbars"]
            caps = {"browserName": "chrome", "goog:chromeOptions": {"binary": _chromium(), "args": args}}
            self.session = self._call("POST", "/session", {"capabilities": {"alwaysMatch": caps}})["sessionId"]
        except BaseException:
            self.close()
            raise

    def _call(self, method: str, path: str, body: dict | None = None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=60) as r:
            return json.loads(r.read())["value"]

    def __call__(self, method: str, path: str, body: dict | None = None):
        return self._call(method, f"/session/{self.session}{path}", body)

    def script(self, js: str):
        return self("POST", "/execute/sync", {"script": js, "args": []})

    def close(self) -> None:
        if getattr(self, "session", None):
            with contextlib.suppress(OSError):
                self._call("DELETE", f"/session/{self.session}")
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


@pytest.mark.skipif(_chromium() is None or _chromedriver() is None,
                    reason="headless Chromium not available: apt-get install chromium chromium-driver")
def test_html_renders_in_headless_chromium(full_dir, tmp_path):
    out, sweep = full_dir
    page = tmp_path / "report.html"
    R.write_report(out, page, sweep=sweep)
    text = page.read_text()
    with tempfile.TemporaryDirectory() as profile:
        wd = _WebDriver(profile)
        try:
            wd("POST", "/url", {"url": page.as_uri()})  # returns once the page (and its images) loaded
            images = wd.script("return Array.from(document.images).map(i => [i.complete, i.naturalWidth])")
            titles = wd.script("return document.querySelectorAll('svg title').length")
            height = wd.script("return document.documentElement.scrollHeight + outerHeight - innerHeight")
            wd("POST", "/window/rect", {"width": 1280, "height": int(height)})
            shot = base64.b64decode(wd("GET", "/screenshot"))
        finally:
            wd.close()
    (tmp_path / "shot.png").write_bytes(shot)
    n_img = text.count("<img ")
    assert n_img >= 7 and len(images) == n_img
    assert all(done and width > 0 for done, width in images), images
    assert titles >= 13 + 2 * 15  # bids, grid cells and their labels
    import matplotlib.image

    img = matplotlib.image.imread(tmp_path / "shot.png")
    assert img.shape[0] > 2000 and img.shape[1] >= 1000
    assert img.std() > 0.05  # not blank
    ink = (img[..., :3].min(axis=2) < 0.9).mean()
    assert ink > 0.05, f"only {ink:.1%} of the page is drawn"
