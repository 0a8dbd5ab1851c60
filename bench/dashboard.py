"""Benchmark the dashboard: time to render each page at 100k and 1M patients (target: p95 under 1 s at 1M).

    .venv/bin/python bench/dashboard.py                                   # 100k and 1M patients, from scratch
    .venv/bin/python bench/dashboard.py --patients 100000 --runs 30
    .venv/bin/python bench/dashboard.py --warehouse /tmp/kow-1m/kow.duckdb   # reuse a built warehouse
    .venv/bin/python bench/dashboard.py --patients 100000 --browser       # also time pages in Chromium

Per size: generate, ingest and build (unless --warehouse), then publish (timed, peak memory). Then, per page,
``--runs`` renders, each a new session with random filters (site, indication, route, period) and Streamlit's
data cache cleared, so every render runs its queries: the worst case a user meets on changing a filter. The
first render of all (opening the file) is reported apart. Renders run through AppTest, which executes the
page script exactly as the server does; --browser adds the time from navigation to drawn charts in Chromium
against a real `streamlit run` server (clicks between pages in one session, as a user moves).
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from measure import python, run_measured  # noqa: E402

PAGES = ("overview", "outcomes", "durability", "safety", "sites", "data-quality")
TARGET_SECONDS = 1.0


def build(patients: int, workdir: Path, seed: int) -> Path:
    """A built warehouse of ``patients`` generated patients (generate, ingest, dbt build)."""
    folder = workdir / f"clinic_{patients}"
    shutil.rmtree(folder, ignore_errors=True)
    warehouse = folder / "kow.duckdb"
    kow = str(Path(sys.executable).with_name("kow"))
    for label, argv in (
        ("generate", [kow, "generate", "--patients", str(patients), "--seed", str(seed), "--out", str(folder / "src")]),
        ("ingest", [kow, "ingest", str(folder / "src"), "--warehouse", str(warehouse)]),
        ("build", python("import sys; from core.config import resolve_settings; from kow.build import build_models; "
                         f"build_models(resolve_settings({str(warehouse)!r}, environ={{}}))")),
    ):
        print(run_measured(f"{label} {patients:,} patients", argv).line())
    return warehouse


def publish(warehouse: Path) -> Path:
    code = ("from core.config import resolve_settings; from analysis.publish import publish_aggregates; "
            f"print(publish_aggregates(resolve_settings({str(warehouse)!r}, environ={{}})).describe())")
    print(run_measured("publish_aggregates", python(code)).line())
    published = warehouse.with_name("published.duckdb")
    print(f"published file: {published.stat().st_size / 2**20:,.1f} MiB")
    return published


def filter_choices(published: Path) -> dict[str, list[str]]:
    import duckdb

    con = duckdb.connect(str(published), read_only=True)
    try:
        rows = con.execute("SELECT dimension, value FROM filter_options").fetchall()
    finally:
        con.close()
    out: dict[str, list[str]] = {}
    for dimension, value in rows:
        out.setdefault(dimension, []).append(value)
    return out


def render_times(published: Path, runs: int, seed: int) -> tuple[float, dict[str, list[float]]]:
    """Seconds per render, per page (AppTest, new session each, data cache cleared)."""
    import streamlit as st

    rng = random.Random(seed)
    choices = filter_choices(published)
    started = time.perf_counter()
    _render(page_app(published, "overview"))  # opens the file: reported apart
    first = time.perf_counter() - started
    times: dict[str, list[float]] = {page: [] for page in PAGES}
    for i in range(runs):
        for page in PAGES:
            st.cache_data.clear()
            at = page_app(published, page)
            if i:  # the first run of each page is the unfiltered view
                for dimension, values in choices.items():
                    at.session_state[f"filter_{dimension}"] = rng.choice(values)
            started = time.perf_counter()
            _render(at)
            times[page].append(time.perf_counter() - started)
    return first, times


def page_app(published: Path, page: str) -> object:
    """The app as `streamlit run` starts it (the same script tests/dashboards/clinic.py builds; not imported
    from there because this folder's ingest.py would shadow the ingest package)."""
    from streamlit.testing.v1 import AppTest

    script = ("from pathlib import Path\nfrom dashboards.app import main\n"
              f"main(Path({str(published)!r}), start={page!r})\n")
    return AppTest.from_string(script, default_timeout=120)


def _render(at: object) -> None:
    at.run()
    if at.exception:
        sys.exit(f"page failed: {[e.value for e in at.exception]}")


def browser_times(published: Path, runs: int) -> tuple[float, dict[str, list[float]]]:
    """Seconds from a click in the sidebar to the page's charts drawn, in Chromium against `streamlit run`
    (the first page load, which boots Streamlit's front end, is returned apart)."""
    import socket
    import urllib.request

    from playwright.sync_api import sync_playwright

    from dashboards.serve import streamlit_command

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(streamlit_command(published, port=port), stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    titles = {"overview": "Overview", "outcomes": "Outcomes", "durability": "Durability", "safety": "Safety",
              "sites": "Sites", "data-quality": "Data quality"}
    charts = {"overview": 1, "outcomes": 2, "durability": 1, "safety": 3, "sites": 2, "data-quality": 3}
    times: dict[str, list[float]] = {page: [] for page in PAGES}
    try:
        for _ in range(300):
            try:
                if urllib.request.urlopen(f"http://localhost:{port}/_stcore/health").read() == b"ok":
                    break
            except OSError:
                time.sleep(0.2)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium")
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            started = time.perf_counter()
            page.goto(f"http://localhost:{port}/")
            _drawn(page, titles["overview"], charts["overview"])
            first = time.perf_counter() - started
            for _ in range(runs):
                for slug in (*PAGES[1:], PAGES[0]):
                    started = time.perf_counter()
                    page.get_by_test_id("stSidebarNav").get_by_role("link", name=titles[slug]).click()
                    _drawn(page, titles[slug], charts[slug])
                    times[slug].append(time.perf_counter() - started)
            browser.close()
    finally:
        server.terminate()
        server.wait()
    return first, times


def _drawn(page: object, title: str, charts: int) -> None:
    page.locator("h1", has_text=title).first.wait_for(timeout=60_000)
    page.wait_for_function("n => document.querySelectorAll('.vega-embed canvas, .vega-embed svg').length >= n",
                           arg=charts, timeout=60_000)
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=60_000)


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[-1] if len(values) > 1 else values[0]


def report(title: str, times: dict[str, list[float]]) -> None:
    print(f"\n{title}")
    print(f"{'page':<14} {'runs':>5} {'p50 s':>8} {'p95 s':>8} {'max s':>8}  target p95 < {TARGET_SECONDS:.0f} s")
    for page, values in times.items():
        verdict = "ok" if p95(values) < TARGET_SECONDS else "SLOW"
        print(f"{page:<14} {len(values):>5} {statistics.median(values):>8.3f} {p95(values):>8.3f} "
              f"{max(values):>8.3f}  {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--patients", type=int, action="append", help="sizes to build (default 100k and 1M)")
    parser.add_argument("--warehouse", type=Path, action="append", help="reuse a built warehouse instead")
    parser.add_argument("--runs", type=int, default=20, help="renders per page (default 20)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--workdir", type=Path, default=None, help="where to build (default: a temp folder)")
    parser.add_argument("--browser", action="store_true", help="also time each page in Chromium")
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="kow-bench-dashboard-"))
    warehouses = list(args.warehouse or [])
    if not warehouses:
        warehouses = [build(n, workdir, args.seed) for n in (args.patients or [100_000, 1_000_000])]
    for warehouse in warehouses:
        print(f"\n== {warehouse} ==")
        published = publish(warehouse)
        first, times = render_times(published, args.runs, args.seed)
        print(f"first render (opens the file, cold caches): {first:.3f} s")
        report("AppTest renders, new session, random filters, data cache cleared", times)
        if args.browser:
            first_load, clicks = browser_times(published, max(args.runs // 2, 3))
            print(f"\nChromium, first page load (boots the front end): {first_load:.3f} s")
            report("Chromium: click in the sidebar to charts drawn (streamlit run)", clicks)
    if args.workdir is None and not args.warehouse:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
