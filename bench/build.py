"""Benchmark `kow build`: time and peak memory at 100k and 1M patients, and dbt's overhead.

For each size the script generates a clinic (ingest.generate.generate_clinic, parquet) and loads it
(ingest.load.load_source) into a raw-only warehouse, then, each in a fresh child process:

1. ``build_models`` on a copy of it - the wall and CPU time of the whole `kow build` (Python and dbt
   start-up, full parse, seeds, models, unit and data tests) and the child's peak RSS; then again on the
   same warehouse (warm: dbt's partial parse, as every build after a user's first);
2. the same compiled SQL run directly in one DuckDB connection on another copy: the statements dbt ran
   (from its run_results.json, manifest.json and target/run/, in the order dbt finished them) with the
   same DuckDB settings as profiles.yml. Seeds are copied in untimed.

overhead ratio = (1) / (2), in wall time and in CPU time (CPU time is what to trust on a shared box:
other processes stretch wall times); scaling = cold build time at the largest size / at the smallest.
Targets (issue #4): 1M patients within 8 GiB peak, overhead ratio <= 1.3, 10x patients <= 12x time.

    .venv/bin/python bench/build.py                       # 100k and 1M, data under bench/out/
    .venv/bin/python bench/build.py --patients 20000 200000 --repeat 2

Generated data is reused between runs (--fresh to regenerate); bench/out/ is gitignored.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# Run as a script, bench/ is sys.path[0] and bench/ingest.py would shadow the ingest package.
sys.path[:] = [str(ROOT), *(p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench")]
GIB = 1024**3
TARGET_PEAK_GIB = 8.0
TARGET_OVERHEAD = 1.3
TARGET_SCALING_PER_10X = 12.0

CHILD_BUILD = """
import json, sys, time
from pathlib import Path
from core.config import resolve_settings
from kow.build import build_models
started = time.perf_counter()
summary = build_models(resolve_settings(Path(sys.argv[1]), environ={}))
print(json.dumps({"seconds": time.perf_counter() - started, "nodes": len(summary.nodes),
                  "marts": dict(summary.mart_rows)}))
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--patients", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workdir", type=Path, default=ROOT / "bench" / "out")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each measurement; the fastest is kept")
    parser.add_argument("--fresh", action="store_true", help="regenerate and reload the clinics")
    parser.add_argument("--replay", nargs=3, metavar=("WAREHOUSE", "DBT_TARGET", "BUILT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.replay:
        return _replay(*(Path(p) for p in args.replay))

    rows = []
    for patients in sorted(args.patients):
        raw = _raw_warehouse(args.workdir, patients, args.seed, fresh=args.fresh)
        best: dict[str, Any] | None = None
        for _ in range(args.repeat):
            run = _measure(args.workdir / f"run_{patients}", raw)
            if best is None or run["build_s"] < best["build_s"]:
                best = run
        assert best is not None
        rows.append({"patients": patients, **best})
        _print_row(rows[-1])
    _print_summary(rows)
    return 0


def _raw_warehouse(workdir: Path, patients: int, seed: int, *, fresh: bool) -> Path:
    """A warehouse holding only the raw layer of a generated clinic of this size (made once, reused)."""
    try:
        from core.config import resolve_settings
        from ingest.generate import generate_clinic
        from ingest.load import load_source
    except ImportError as exc:  # the generator and ingest are written in parallel with this script
        needs = "ingest.generate.generate_clinic and ingest.load.load_source"
        raise SystemExit(f"bench/build.py needs {needs}: {exc}") from exc
    folder = workdir / f"clinic_{patients}"
    raw = folder / "raw" / "kow.duckdb"
    if raw.exists() and not fresh:
        return raw
    shutil.rmtree(folder, ignore_errors=True)
    started = time.perf_counter()
    generate_clinic(folder / "source", patients=patients, seed=seed, fmt="parquet")
    load_source(folder / "source", resolve_settings(raw, environ={}))
    print(f"# generated and loaded {patients:,} patients in {time.perf_counter() - started:.0f} s", flush=True)
    return raw


def _measure(run_dir: Path, raw: Path) -> dict[str, Any]:
    shutil.rmtree(run_dir, ignore_errors=True)
    dbt_warehouse = _copy(raw, run_dir / "dbt" / "kow.duckdb")
    cold, cold_rss, cold_cpu, cold_wall = _child([sys.executable, "-c", CHILD_BUILD, str(dbt_warehouse)])
    # A second build of the same warehouse: dbt re-parses only what changed (nothing), as a user's
    # every build after the first; it rebuilds every table.
    _, warm_rss, warm_cpu, warm_wall = _child([sys.executable, "-c", CHILD_BUILD, str(dbt_warehouse)])
    direct_warehouse = _copy(raw, run_dir / "direct" / "kow.duckdb")
    target = run_dir / "dbt" / ".dbt" / "kow" / "target"
    replay_cmd = [sys.executable, str(Path(__file__).resolve()), "--replay", str(direct_warehouse), str(target),
                  str(dbt_warehouse)]
    replay, replay_rss, replay_cpu, _ = _child(replay_cmd)
    return {
        "build_s": cold_wall,
        "build_peak_gib": max(cold_rss, warm_rss) / GIB,
        "build_cpu_s": cold_cpu,
        "warm_s": warm_wall,
        "warm_cpu_s": warm_cpu,
        "direct_s": replay["seconds"],
        "direct_cpu_s": replay_cpu,
        "direct_peak_gib": replay_rss / GIB,
        "overhead_ratio": cold_wall / replay["seconds"],
        "warm_ratio": warm_wall / replay["seconds"],
        "cpu_ratio": cold_cpu / replay_cpu,
        "warm_cpu_ratio": warm_cpu / replay_cpu,
        "statements": replay["statements"],
        "nodes": cold["nodes"],
        "sessions": cold["marts"].get("marts.fct_sessions", 0),
    }


def _copy(source: Path, target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    return target


def _child(cmd: list[str]) -> tuple[dict[str, Any], int, float, float]:
    """Run a child to completion: its JSON result, its own peak RSS in bytes and CPU seconds (wait4), and
    its wall time."""
    env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DO_NOT_TRACK": "1",
           "PYTHONPATH": str(ROOT)}
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=err)  # noqa: S603
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[:3])} failed:\n{stderr[-4000:]}")
    cpu = usage.ru_utime + usage.ru_stime
    return json.loads(stdout.strip().splitlines()[-1]), usage.ru_maxrss * 1024, cpu, wall


def _replay(warehouse: Path, target: Path, built: Path) -> int:
    """Child: run dbt's statements of the last build directly in one connection; print seconds."""
    import duckdb
    import jinja2
    import yaml

    # The DuckDB settings of the shipped profile, rendered as dbt renders them.
    text = jinja2.Template((ROOT / "profiles.yml").read_text()).render(
        env_var=lambda name, default=None: os.environ.get(name, default))
    profile = yaml.safe_load(text)["kow"]["outputs"]["warehouse"]
    settings = {k: v for k, v in profile.get("settings", {}).items()}
    manifest = json.loads((target / "manifest.json").read_text())
    results = json.loads((target / "run_results.json").read_text())["results"]
    nodes = {**manifest["nodes"], **manifest.get("unit_tests", {})}
    con = duckdb.connect(str(warehouse), config=settings)
    con.execute("ATTACH ? AS built (READ_ONLY)", [str(built)])
    con.execute("CREATE SCHEMA IF NOT EXISTS seeds")
    for (name,) in con.execute("SELECT table_name FROM information_schema.tables "
                               "WHERE table_catalog = 'built' AND table_schema = 'seeds'").fetchall():
        con.execute(f'CREATE TABLE seeds."{name}" AS SELECT * FROM built.seeds."{name}"')  # noqa: S608
    con.execute("DETACH built")
    for schema in ("staging", "intermediate", "marts", "audit"):
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    statements = 0
    timings: dict[str, float] = {}
    started = time.perf_counter()
    for result in results:
        node_started = time.perf_counter()
        uid = result["unique_id"]
        kind = uid.split(".", 1)[0]
        node = nodes.get(uid)
        if kind in ("seed", "exposure") or node is None:
            continue
        if kind == "model":
            run_sql = (target / "run" / "kow" / node["original_file_path"]).read_text()
            relation = node["relation_name"]  # "kow"."schema"."name"
            con.execute(run_sql)
            tmp = relation[:-1] + '__dbt_tmp"'
            what = "VIEW" if node["config"]["materialized"] == "view" else "TABLE"
            con.execute(f"ALTER {what} {tmp} RENAME TO \"{node['alias']}\"")
        elif kind == "test":
            con.execute(f"CREATE OR REPLACE TABLE {node['relation_name']} AS {result['compiled_code']}")
            con.execute(f"SELECT count(*) FROM {node['relation_name']}").fetchall()  # noqa: S608
        elif kind == "unit_test":
            con.execute(result["compiled_code"]).fetchall()
        statements += 1
        timings[uid] = time.perf_counter() - node_started
    seconds = time.perf_counter() - started
    con.close()
    (warehouse.parent / "direct_timings.json").write_text(json.dumps(timings, indent=1))
    print(json.dumps({"seconds": seconds, "statements": statements}))
    return 0


def _print_row(row: dict[str, Any]) -> None:
    print(
        f"{row['patients']:>10,} patients ({row['sessions']:,} sessions, {row['nodes']} dbt nodes)\n"
        f"    kow build (cold: full parse) {row['build_s']:6.1f} s wall, {row['build_cpu_s']:6.1f} s CPU, "
        f"peak {row['build_peak_gib']:.2f} GiB\n"
        f"    kow build (warm: partial parse) {row['warm_s']:6.1f} s wall, {row['warm_cpu_s']:6.1f} s CPU\n"
        f"    same SQL in one connection {row['direct_s']:6.1f} s wall, {row['direct_cpu_s']:6.1f} s CPU, "
        f"peak {row['direct_peak_gib']:.2f} GiB\n"
        f"    dbt overhead: cold x{row['overhead_ratio']:.2f} wall / x{row['cpu_ratio']:.2f} CPU, "
        f"warm x{row['warm_ratio']:.2f} wall / x{row['warm_cpu_ratio']:.2f} CPU",
        flush=True,
    )


def _print_summary(rows: list[dict[str, Any]]) -> None:
    largest = rows[-1]
    print()
    print(f"peak memory at {largest['patients']:,}: {largest['build_peak_gib']:.2f} GiB "
          f"(target <= {TARGET_PEAK_GIB} GiB): {'ok' if largest['build_peak_gib'] <= TARGET_PEAK_GIB else 'MISSED'}")
    for label, key in (("cold, wall", "overhead_ratio"), ("cold, CPU", "cpu_ratio"), ("warm, wall", "warm_ratio"),
                       ("warm, CPU", "warm_cpu_ratio")):
        ratio = largest[key]
        print(f"dbt overhead at {largest['patients']:,} ({label}): x{ratio:.2f} (target <= {TARGET_OVERHEAD}): "
              f"{'ok' if ratio <= TARGET_OVERHEAD else 'MISSED'}")
    if len(rows) > 1:
        smallest = rows[0]
        size = largest["patients"] / smallest["patients"]
        time_ratio = largest["build_s"] / smallest["build_s"]
        allowed = TARGET_SCALING_PER_10X * size / 10
        print(f"{size:.0f}x patients cost {time_ratio:.1f}x time (target <= {allowed:.0f}x): "
              f"{'ok' if time_ratio <= allowed else 'MISSED'}")


if __name__ == "__main__":
    sys.exit(main())
