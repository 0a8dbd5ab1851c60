"""Pseudonymous ids: a clinic code from the seed, one dash, a letter and a zero-padded global number.

`K` + base-36 of the seed makes ids of two seeds disjoint, so two generated clinics load side by side.
One dash only, and a letter right after it, so no id can take the ddd-dd-dddd or ddd-ddd-dddd shape
ingest refuses as an SSN or phone number; numbers stay within 8 digits, below the 10 bare digits a
phone check might look for.
"""

from __future__ import annotations

import numpy as np
import polars as pl

_DIGITS36 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"

PATIENT_DIGITS = 7  # up to 9,999,999 patients
ROW_DIGITS = 8  # sessions, assessments and events: up to 99,999,999 each
LETTERS = {"site": "S", "patient": "P", "session": "V", "assessment": "A", "event": "E"}


def clinic_code(seed: int) -> str:
    """`K` + the seed in base 36: distinct seeds give distinct codes."""
    digits = ""
    value = seed
    while True:
        value, rest = divmod(value, 36)
        digits = _DIGITS36[rest] + digits
        if value == 0:
            return f"K{digits}"


def format_ids(code: str, kind: str, numbers: np.ndarray, width: int = ROW_DIGITS) -> pl.Series:
    """Ids like `K16-V00001234` for 1-based global numbers (the order of `numbers` is kept)."""
    if numbers.size and int(numbers.max()) >= 10**width:
        raise ValueError(f"more than {10**width - 1:,} {kind} rows: the id would exceed {width} digits")
    text = pl.Series(numbers.astype(np.int64)).cast(pl.String).str.zfill(width)
    return (f"{code}-{LETTERS[kind]}" + text).alias(f"{kind}_id")
