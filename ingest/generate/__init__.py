"""`kow generate`: a synthetic ketamine clinic as a source folder, with truth.json saying what was planted.

Output depends only on (seed, patients, sites, format): patients are made in fixed-size chunks, each
drawing from its own Generator spawned from the seed, and written as they are made, so a million
patients fit in a few hundred MiB of memory.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from core.errors import KowError
from core.progress import ProgressFn, no_progress
from ingest.generate import params
from ingest.generate.chunk import generate_chunk
from ingest.generate.clinical import load_clinical
from ingest.generate.frames import Numbering, sites_frame
from ingest.generate.ids import PATIENT_DIGITS, clinic_code
from ingest.generate.population import draw_sites
from ingest.generate.truth import TruthTotals, write_truth_json
from ingest.generate.write import FORMATS, ParquetAppender, SourceWriter

__all__ = ["GenerationSummary", "generate_clinic"]

TRUTH_JSON = "truth.json"
TRUTH_COURSES = "truth_courses.parquet"


@dataclass(frozen=True)
class GenerationSummary:
    out_dir: Path
    patients: int
    rows: dict[str, int] = field(default_factory=dict)  # per source table
    seconds: float = 0.0
    seed: int = 0
    fmt: str = "csv"

    def describe(self) -> str:
        counts = ", ".join(f"{n:,} {t.replace('_', ' ')}" for t, n in self.rows.items() if t not in ("patients",))
        return (f"Generated {self.patients:,} patients (seed {self.seed}): {counts}; "
                f"{self.fmt} files and truth.json in {self.out_dir} ({self.seconds:.1f} s).")


def _check_arguments(patients: int, seed: int, sites: int, fmt: str) -> None:
    if not 1 <= patients < 10**PATIENT_DIGITS:
        raise KowError(f"--patients must be from 1 to {10**PATIENT_DIGITS - 1:,} (got {patients}).")
    if seed < 0:
        raise KowError(f"--seed must be 0 or more (got {seed}).")
    if sites < 1:
        raise KowError(f"--sites must be 1 or more (got {sites}).")
    if fmt not in FORMATS:
        raise KowError(f"--format must be one of {', '.join(FORMATS)} (got {fmt}).")


def generate_clinic(out_dir: Path, *, patients: int, seed: int, sites: int = 3,
                    fmt: Literal["csv", "parquet"] = "csv", on_progress: ProgressFn = no_progress) -> GenerationSummary:
    """Write a synthetic clinic (the five source tables), truth.json and truth_courses.parquet to `out_dir`.

    `on_progress(n)` is called with the number of patients just written.
    """
    _check_arguments(patients, seed, sites, fmt)
    started = time.perf_counter()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    clinical = load_clinical()
    code = clinic_code(seed)
    n_chunks = -(-patients // params.CHUNK_PATIENTS)
    # child 0 draws the sites; child i + 1 draws chunk i, whatever the number of chunks
    streams = np.random.SeedSequence(seed).spawn(n_chunks + 1)
    site_table = draw_sites(np.random.default_rng(streams[0]), code, sites)
    totals = TruthTotals(clinical)
    numbering = Numbering()
    writer = SourceWriter(out_dir, fmt)
    truth_courses = ParquetAppender(out_dir / TRUTH_COURSES)
    try:
        writer.write({"sites": sites_frame(site_table)})
        for index in range(n_chunks):
            first = index * params.CHUNK_PATIENTS
            size = min(params.CHUNK_PATIENTS, patients - first)
            chunk = generate_chunk(np.random.default_rng(streams[index + 1]), clinical, code, site_table,
                                   first + 1, size, numbering, totals)
            writer.write(chunk.tables)
            truth_courses.write(chunk.truth_courses)
            numbering = chunk.numbering
            on_progress(size)
    finally:
        writer.close()
        truth_courses.close()
    rows = writer.rows()
    document = totals.as_json(seed=seed, patients=patients, sites=sites, fmt=fmt, code=code, rows=rows)
    write_truth_json(out_dir / TRUTH_JSON, document)
    return GenerationSummary(out_dir=out_dir, patients=patients, rows=rows,
                             seconds=time.perf_counter() - started, seed=seed, fmt=fmt)
