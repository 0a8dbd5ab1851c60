"""Benchmark kow generate and kow ingest against plain DuckDB loading the same files (the floor).

    .venv/bin/python bench/ingest.py                 # 100k and 1M patients
    .venv/bin/python bench/ingest.py --patients 10000 --workdir /tmp/kow-bench

Prints seconds, peak resident memory and rows/s per step, and the ratio ingest/floor.
Targets (issue #3): validated ingest within 2x of the floor; 1M patients ingested within 4 GiB.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from measure import python, run_measured  # noqa: E402

TABLES = ("sites", "patients", "sessions", "assessments", "adverse_events")


def bench(patients: int, workdir: Path, seed: int) -> None:
    source = workdir / f"source_{patients}"
    shutil.rmtree(source, ignore_errors=True)
    kow = str(Path(sys.executable).with_name("kow"))
    generated = run_measured(f"generate {patients:,} patients",
                             [kow, "generate", "--patients", str(patients), "--seed", str(seed), "--out", str(source)])
    rows = json.loads((source / "truth.json").read_text()).get("rows", {})
    total_rows = sum(int(v) for v in rows.values()) or None
    size_mib = sum(p.stat().st_size for p in source.glob("*.csv")) / 2**20

    floor_db = workdir / f"floor_{patients}.duckdb"
    floor_db.unlink(missing_ok=True)
    floor_sql = "; ".join(
        f"CREATE TABLE {t} AS SELECT * FROM read_csv('{source / t}.csv')" for t in TABLES)  # noqa: S608
    floor = run_measured("floor: DuckDB CTAS read_csv", python(
        f"import duckdb; con = duckdb.connect({str(floor_db)!r}); con.execute({floor_sql!r}); con.close()"))

    warehouse = workdir / f"kow_{patients}.duckdb"
    warehouse.unlink(missing_ok=True)
    ingested = run_measured("kow ingest (validated, transactional)",
                            [kow, "ingest", str(source), "--warehouse", str(warehouse)])
    again = run_measured("kow ingest again (identical content)",
                         [kow, "ingest", str(source), "--warehouse", str(warehouse)])

    print(f"\n== {patients:,} patients: {total_rows or 0:,} rows in {size_mib:,.0f} MiB of CSV ==")
    print(generated.line(total_rows))
    print(floor.line(total_rows))
    print(ingested.line(total_rows))
    print(again.line(total_rows))
    ratio = ingested.seconds / floor.seconds
    print(f"ingest / floor = {ratio:.2f} (target <= 2.0); ingest peak {ingested.peak_mib / 1024:.2f} GiB "
          f"(target <= 4 GiB at 1M)")
    floor_db.unlink(missing_ok=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--patients", type=int, action="append", help="sizes to run (default 100k and 1M)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--workdir", type=Path, default=None, help="where to write (default: a temp folder)")
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="kow-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    for patients in args.patients or [100_000, 1_000_000]:
        bench(patients, workdir, args.seed)
    if args.workdir is None:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
