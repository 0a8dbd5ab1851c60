"""Sites and patients: who comes to the clinic, with what diagnosis, and which instruments score them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ingest.generate import params
from ingest.generate.arrays import choice, uniform_int
from ingest.generate.clinical import Clinical
from ingest.identifiers import RESTRICTED_ZIP3

ROUTES = tuple(params.ROUTE_SHARES)
SEXES = tuple(params.SEX_SHARES)


@dataclass(frozen=True)
class Sites:
    ids: tuple[str, ...]
    names: tuple[str, ...]
    regions: tuple[str, ...]
    zip3_low: np.ndarray
    zip3_high: np.ndarray
    rates_madrs: np.ndarray  # bool per site: clinicians there also rate MADRS
    share: np.ndarray  # patient share per site


def draw_sites(rng: np.random.Generator, code: str, count: int) -> Sites:
    """`count` sites in distinct states (cycling when there are more sites than states)."""
    order = rng.permutation(len(params.SITE_STATES))
    picked = [params.SITE_STATES[order[i % order.size]] for i in range(count)]
    rates_madrs = rng.random(count) < params.MADRS_SITE_SHARE
    if count >= 2 and not rates_madrs.any():
        rates_madrs[0] = True  # the issue asks for MADRS at one site at least
    if count >= 2 and rates_madrs.all():
        rates_madrs[-1] = False  # and some sites without, so PHQ-9 stays primary there
    width = max(2, len(str(count)))
    share = np.arange(1, count + 1, dtype=np.float64) ** -params.SITE_SIZE_EXPONENT
    return Sites(
        ids=tuple(f"{code}-S{i:0{width}d}" for i in range(1, count + 1)),
        names=tuple(f"Clinic {i} ({state})" for i, (state, _, _) in enumerate(picked, start=1)),
        regions=tuple(state for state, _, _ in picked),
        zip3_low=np.array([low for _, low, _ in picked], dtype=np.int64),
        zip3_high=np.array([high for _, _, high in picked], dtype=np.int64),
        rates_madrs=rates_madrs,
        share=share / share.sum(),
    )


@dataclass(frozen=True)
class Patients:
    number: np.ndarray  # global 1-based patient number (the id's digits)
    site: np.ndarray
    indication: np.ndarray  # index into Clinical.indications
    dx_code: np.ndarray  # str, as written to the file
    failed: np.ndarray
    failed_missing: np.ndarray
    age: np.ndarray
    age_missing: np.ndarray
    sex: np.ndarray  # index into SEXES
    sex_missing: np.ndarray
    zip3: np.ndarray  # str, 3 digits
    zip3_missing: np.ndarray
    substance: np.ndarray
    substance_missing: np.ndarray
    weight_kg: np.ndarray
    weight_missing: np.ndarray  # never weighed
    uses: np.ndarray  # bool (patients, instruments): instrument used for this patient
    route: np.ndarray  # usual route, index into ROUTES
    bp_effect: np.ndarray  # (patients, 3): between-patient offsets of sbp, dbp, hr

    @property
    def size(self) -> int:
        return int(self.number.size)


def _dx_variants(clinical: Clinical) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All written forms of every code, with each indication's first row and number of codes."""
    lists = [params.ICD10_CODES[indication] for indication in clinical.indications]
    codes = [c for listed in lists for c in listed]
    counts = np.array([len(listed) for listed in lists], dtype=np.int64)
    # written as: F43.10, F4310, f43.10, f4310
    variants = np.array([[c, c.replace(".", ""), c.lower(), c.replace(".", "").lower()] for c in codes])
    return variants, np.cumsum(counts) - counts, counts


def draw_patients(rng: np.random.Generator, clinical: Clinical, sites: Sites, first_number: int, n: int) -> Patients:
    indication = choice(rng, params.INDICATION_MIX, n)
    variants, start, count = _dx_variants(clinical)
    code_row = start[indication] + np.floor(rng.random(n) * count[indication]).astype(np.int64)
    variant = (rng.random(n) < params.DX_WITHOUT_DOT) + 2 * (rng.random(n) < params.DX_LOWER_CASE)
    failed, failed_missing = _failed_trials(rng, clinical, indication)
    site = choice(rng, sites.share, n)
    age = np.clip(np.rint(rng.normal(params.AGE_MEAN, params.AGE_SD, n)), params.AGE_MIN, None)
    age = np.minimum(age, params.AGE_CAP).astype(np.int64)
    weight = params.WEIGHT_MEDIAN_KG * np.exp(rng.normal(0.0, params.WEIGHT_LOG_SD, n))
    substance_draw = rng.random(n)
    return Patients(
        number=np.arange(first_number, first_number + n, dtype=np.int64),
        site=site,
        indication=indication,
        dx_code=variants[code_row, variant],
        failed=failed,
        failed_missing=failed_missing,
        age=age,
        age_missing=rng.random(n) < params.AGE_MISSING,
        sex=choice(rng, params.SEX_SHARES, n),
        sex_missing=rng.random(n) < params.SEX_MISSING,
        zip3=_zip3(rng, sites, site),
        zip3_missing=rng.random(n) < params.ZIP3_MISSING,
        substance=substance_draw < params.SUBSTANCE_USE_TRUE,
        substance_missing=substance_draw > 1.0 - params.SUBSTANCE_USE_MISSING,
        weight_kg=np.round(np.clip(weight, params.WEIGHT_MIN_KG, params.WEIGHT_MAX_KG), 1),
        weight_missing=rng.random(n) < params.WEIGHT_MISSING_PATIENT,
        uses=_instrument_use(rng, clinical, sites, indication, site),
        route=choice(rng, params.ROUTE_SHARES, n),
        bp_effect=rng.normal(0.0, 1.0, (n, 3))
        * np.array([params.SBP_PRE[1], params.DBP_PRE[1], params.HR_PRE[1]]),
    )


def _failed_trials(rng: np.random.Generator, clinical: Clinical, indication: np.ndarray) -> tuple[np.ndarray, ...]:
    n = indication.size
    trd = clinical.trd_min_failed
    is_trd = indication == clinical.indications.index("TRD")
    is_mdd = indication == clinical.indications.index("MDD")
    extra = np.minimum(uniform_int(rng, 0, params.TRD_EXTRA_FAILED_MAX, n),
                       uniform_int(rng, 0, params.TRD_EXTRA_FAILED_MAX, n))  # fewer extra failures are commoner
    mdd = uniform_int(rng, 0, max(trd - 1, 0), n)
    other = uniform_int(rng, 0, params.OTHER_FAILED_MAX, n)
    failed = np.where(is_trd, trd + extra, np.where(is_mdd, mdd, other))
    draw = rng.random(n)
    # MDD below the TRD threshold is MDD with or without the count; with threshold 0 only a missing count is
    missing = np.where(is_trd, False, np.where(is_mdd, (draw < params.MDD_FAILED_MISSING) | (trd == 0),
                                               draw < params.OTHER_FAILED_MISSING))
    return failed, missing


def _zip3(rng: np.random.Generator, sites: Sites, site: np.ndarray) -> np.ndarray:
    n = site.size
    states = np.array([(low, high) for _, low, high in params.SITE_STATES], dtype=np.int64)
    elsewhere = states[np.floor(rng.random(n) * len(states)).astype(np.int64)]
    away = rng.random(n) < params.ZIP3_OUT_OF_STATE
    low = np.where(away, elsewhere[:, 0], sites.zip3_low[site])
    high = np.where(away, elsewhere[:, 1], sites.zip3_high[site])
    text = np.char.zfill(uniform_int(rng, low, high, n).astype(str), 3)
    return np.where(np.isin(text, RESTRICTED_ZIP3), "000", text)  # Safe Harbor: small-population prefixes


def _instrument_use(rng: np.random.Generator, clinical: Clinical, sites: Sites, indication: np.ndarray,
                    site: np.ndarray) -> np.ndarray:
    names = clinical.instrument_names
    uses = np.zeros((indication.size, len(names)), dtype=bool)
    draws = rng.random(uses.shape)
    for j, name in enumerate(names):
        if name == "MADRS":
            prefers = np.array([j in order[:-1] for order in clinical.primary_preference])
            share = np.where(prefers[indication] & sites.rates_madrs[site], params.MADRS_USE_AT_MADRS_SITE, 0.0)
        else:
            default, by_indication = params.INSTRUMENT_USE.get(name, (0.0, {}))
            table = np.array([by_indication.get(i, default) for i in clinical.indications])
            share = table[indication]
        uses[:, j] = draws[:, j] < share
    return uses
