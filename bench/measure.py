"""Wall time and peak resident memory of one child process (os.wait4 gives the child's own rusage)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass


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
