"""The clinical rules the generator plants against, read once through core.definitions.

Everything a definition fixes (windows, response line, instrument ranges, TRD threshold, primary
instrument order) comes from dbt_project.yml and the seeds, never from a literal, so a changed var or
seed changes what is planted and what is measured alike.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.definitions import (
    Definitions,
    Instrument,
    load_definitions,
    load_event_terms,
    load_indication_rules,
    load_instruments,
    load_primary_instruments,
)
from ingest.generate import params


@dataclass(frozen=True)
class Clinical:
    """Definitions, instruments and codes as the arrays the generator indexes by position."""

    definitions: Definitions
    indications: tuple[str, ...]  # index = indication code used in every array
    instruments: tuple[Instrument, ...]  # the seed instruments the generator scores
    primary_preference: tuple[tuple[int, ...], ...]  # per indication: instrument indexes, best first
    event_terms: tuple[str, ...]
    trd_min_failed: int

    @property
    def instrument_names(self) -> tuple[str, ...]:
        return tuple(i.instrument for i in self.instruments)

    def instrument_index(self, name: str) -> int:
        return self.instrument_names.index(name)

    def response_line(self, baseline: np.ndarray) -> np.ndarray:
        """Highest integer endpoint that is a response: endpoint <= (1 - reduction) x baseline, in float64."""
        return np.floor((1.0 - self.definitions.response_reduction) * baseline.astype(np.float64)).astype(np.int64)


def load_clinical() -> Clinical:
    """The generator's view of the definitions; refuses seeds its code lists would contradict."""
    definitions = load_definitions()
    instruments = load_instruments()
    indications = tuple(params.INDICATION_MIX)
    scored = tuple(instruments[name] for name in params.SCORE_MODEL if name in instruments)
    names = tuple(i.instrument for i in scored)
    preferences = load_primary_instruments()
    preference_idx = []
    for indication in indications:
        order = tuple(names.index(n) for n in preferences.get(indication, ()) if n in names)
        if not order:
            raise RuntimeError(f"seeds/primary_instruments.csv names no scored instrument for {indication}")
        preference_idx.append(order)
    trd_rows = [r for r in load_indication_rules() if r["indication"] == "TRD"]
    trd_min = min(int(r["requires_min_failed_treatments"]) for r in trd_rows)
    clinical = Clinical(definitions, indications, scored, tuple(preference_idx), load_event_terms(), trd_min)
    _check_codes_map_to_their_indication(clinical)
    return clinical


def indication_of(code: str, failed: int | None) -> str:
    """The indication the seed rules give a code: longest matching prefix of the highest priority wins."""
    normal = code.replace(".", "").upper()
    best: tuple[int, int, str] | None = None
    for rule in load_indication_rules():
        needed = rule["requires_min_failed_treatments"]
        if not normal.startswith(rule["code_prefix"].replace(".", "").upper()):
            continue
        if needed and (failed is None or failed < int(needed)):
            continue
        key = (int(rule["priority"]), len(rule["code_prefix"]), rule["indication"])
        best = key if best is None or key[:2] > best[:2] else best
    return best[2] if best else "OTHER"


def _check_codes_map_to_their_indication(clinical: Clinical) -> None:
    # The generator expresses indication only through the code and the failed-trial count; if an analyst
    # edits the seeds so a listed code means something else, planted truth would be wrong: stop instead.
    trd = clinical.trd_min_failed
    for indication, codes in params.ICD10_CODES.items():
        failed_cases: tuple[int | None, ...] = {"TRD": (trd,), "MDD": (None, trd - 1)}.get(indication, (None, 0))
        for code in codes:
            for failed in failed_cases:
                if failed is not None and failed < 0:
                    continue
                got = indication_of(code, failed)
                if got != indication:
                    raise RuntimeError(f"seeds map {code} (failed={failed}) to {got}, the generator means {indication}")
