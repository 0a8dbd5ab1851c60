"""Wall time and peak resident memory of one child process (os.wait4 gives the child's own rusage)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Measurement:
    label: str
    seconds: float
    peak_mib: float

    def line(self, rows: int | None = None) -> str:
        rate = f"  {rows / self.seconds:>12,.0f} rows/s" if rows else ""
        return f"{self.label:<38} {self.seconds:>8.1f} s  {self.peak_mib:>8,.0f} MiB peak{rate}"


def run_measured(label: str, argv: Sequence[str], env: Mapping[str, str] | None = None) -> Measurement:
    """Run argv to completion; fail loudly if it fails (a benchmark of a failed run means nothing)."""
    started = time.perf_counter()
    child = subprocess.Popen(list(argv), env=dict(env) if env is not None else None)
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        sys.exit(f"{label}: {' '.join(argv)} exited with {code}")
    return Measurement(label, seconds, usage.ru_maxrss / 1024)  # ru_maxrss is KiB on Linux


def python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


_PREPARE = """
import sys
from pathlib import Path
from core.config import resolve_settings
from ingest.generate import generate_clinic
from ingest.load import load_source
from kow.build import build_models
source, warehouse = Path(sys.argv[1]), Path(sys.argv[2])
settings = resolve_settings(warehouse, environ={})
generate_clinic(source, patients=int(sys.argv[3]), seed=int(sys.argv[4]))
load_source(source, settings)
build_models(settings)
"""


def prepare_warehouse(patients: int, workdir: Path, seed: int) -> Path:
    """A built warehouse of ``patients`` in workdir (generate + ingest + build in a child, timed), reused when there."""
    warehouse = workdir / f"kow_{patients}.duckdb"
    if warehouse.exists():
        print(f"reusing {warehouse}")
        return warehouse
    source = workdir / f"source_{patients}"
    shutil.rmtree(source, ignore_errors=True)
    built = run_measured(f"generate + ingest + build {patients:,}",
                         [*python(_PREPARE), str(source), str(warehouse), str(patients), str(seed)])
    print(built.line())
    shutil.rmtree(source, ignore_errors=True)
    return warehouse
