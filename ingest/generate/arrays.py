"""Vectorised helpers for ragged data: groups of rows (a patient's courses, a course's sessions) as runs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import polars as pl
import pyarrow as pa


def expand(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For groups of `counts` rows: each row's group index and its position inside the group (0-based)."""
    counts = counts.astype(np.int64)
    group = np.repeat(np.arange(counts.size, dtype=np.int64), counts)
    starts = np.cumsum(counts) - counts
    position = np.arange(group.size, dtype=np.int64) - starts[group]
    return group, position


def cumsum_within(values: np.ndarray, group: np.ndarray, n_groups: int) -> np.ndarray:
    """Inclusive running sum of `values` restarting at each group (rows must be ordered by group)."""
    total = np.cumsum(values, dtype=np.int64)
    counts = np.bincount(group, minlength=n_groups)
    starts = np.cumsum(counts) - counts
    before = np.concatenate([np.zeros(1, dtype=np.int64), total])[starts]  # sum of rows before each group
    return total - before[group]


def choice(rng: np.random.Generator, shares: Mapping[object, float] | Sequence[float], size: int) -> np.ndarray:
    """Index of the category drawn for each of `size` rows, from shares that need not sum to exactly 1."""
    weights = np.asarray(list(shares.values()) if isinstance(shares, Mapping) else shares, dtype=np.float64)
    edges = np.cumsum(weights / weights.sum())
    return np.minimum(np.searchsorted(edges, rng.random(size), side="right"), weights.size - 1)


def uniform_int(rng: np.random.Generator, low: np.ndarray | int, high: np.ndarray | int, size: int) -> np.ndarray:
    """Integers uniform on [low, high] inclusive, per row; rows with high < low get low."""
    low_a = np.broadcast_to(np.asarray(low, dtype=np.int64), (size,))
    high_a = np.maximum(np.broadcast_to(np.asarray(high, dtype=np.int64), (size,)), low_a)
    return low_a + np.floor(rng.random(size) * (high_a - low_a + 1)).astype(np.int64)


def masked(values: np.ndarray, missing: np.ndarray | None, dtype: pa.DataType) -> pl.Series:
    """A polars Series with nulls where `missing`, built through Arrow without a Python loop."""
    array = pa.array(values, mask=missing, type=dtype) if missing is not None else pa.array(values, type=dtype)
    return pl.Series(array)
