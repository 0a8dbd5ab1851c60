"""Placing each patient's timeline on the fixed calendar, so no date ever passes CALENDAR_LAST."""

from __future__ import annotations

import datetime as dt

import numpy as np

from ingest.generate import params

EPOCH = dt.date(1970, 1, 1)


def epoch_day(day: dt.date) -> int:
    return (day - EPOCH).days


def anchor_patients(rng: np.random.Generator, n_patients: int,
                    timelines: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """Epoch day of each patient's day 0, given (patient index, relative day) arrays of everything dated.

    The whole timeline (earliest intake score to last follow-up) fits inside the calendar; its position
    is random, skewed toward recent years.
    """
    earliest = np.zeros(n_patients, dtype=np.int64)  # day 0 is the first session, always present
    latest = np.zeros(n_patients, dtype=np.int64)
    for patient, day in timelines:
        np.minimum.at(earliest, patient, day)
        np.maximum.at(latest, patient, day)
    first, last = epoch_day(params.CALENDAR_FIRST), epoch_day(params.CALENDAR_LAST)
    room = (last - first) - (latest - earliest)
    if (room < 0).any():
        raise RuntimeError("a generated patient timeline is longer than the calendar: widen CALENDAR_FIRST")
    offset = np.floor(rng.random(n_patients) ** params.RECENT_SKEW * (room + 1)).astype(np.int64)
    return first - earliest + np.minimum(offset, room)
