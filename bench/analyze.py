"""Benchmark `kow analyze` (analyze_warehouse in a child process) at 100k and 1M patients.

    .venv/bin/python bench/analyze.py                          # 100k and 1M patients
    .venv/bin/python bench/analyze.py --patients 100000 --workdir /tmp/kow-bench
    .venv/bin/python bench/analyze.py --warehouse /tmp/kow-bench/kow_100000.duckdb   # reuse a built warehouse

Each size is generated, ingested and built once (reused from --workdir when already there), then analysed
in a child process: wall time and peak resident memory of that child, and seconds per analysis step, so
the output says what dominates. Target (issue #5): 100k patients analysed in under a minute on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(ROOT))
from measure import prepare_warehouse, python, run_measured  # noqa: E402

ANALYZE = """
import json, sys
from pathlib import Path
from analysis.run import analyze_warehouse
from core.config import resolve_settings
summary = analyze_warehouse(resolve_settings(Path(sys.argv[1]), environ={}), out_dir=Path(sys.argv[2]))
Path(sys.argv[3]).write_text(json.dumps({"steps": summary.step_seconds, "rows": summary.rows,
                                         "problems": summary.problems}))
"""

def bench(warehouse: Path, label: str, patients: int | None = None) -> None:
    out = warehouse.with_name(f"{warehouse.stem}_analysis.json")
    measured = run_measured(f"kow analyze ({label})",
                            [*python(ANALYZE), str(warehouse), str(warehouse.with_name("report")), str(out)])
    result = json.loads(out.read_text())
    steps = sorted(result["steps"].items(), key=lambda item: -item[1])
    print(f"\n== {label}: {warehouse} ==")
    print(measured.line())
    print("steps, slowest first:")
    for name, seconds in steps:
        print(f"  {name:<28} {seconds:>7.1f} s  {100 * seconds / measured.seconds:>5.1f}%")
    print(f"rows: {result['rows']}")
    if result["problems"]:
        print(f"{len(result['problems'])} estimate(s) not ok, e.g. {result['problems'][:3]}")
    if patients == 100_000:
        print(f"target: 100k patients under 60 s -> {'met' if measured.seconds < 60 else 'NOT met'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--patients", type=int, action="append", help="sizes to run (default 100k and 1M)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--workdir", type=Path, default=None, help="where to write (default: a temp folder)")
    parser.add_argument("--warehouse", type=Path, default=None, help="analyse this built warehouse only")
    args = parser.parse_args()
    if args.warehouse:
        bench(args.warehouse, args.warehouse.stem)
        return
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="kow-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    for patients in args.patients or [100_000, 1_000_000]:
        bench(prepare_warehouse(patients, workdir, args.seed), f"{patients:,} patients", patients)
    if args.workdir is None:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
