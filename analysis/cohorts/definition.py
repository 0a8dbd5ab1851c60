"""Cohort definitions: the YAML schema, checked key by key, into a typed CohortDefinition.

    name: trd_only            # required: letters, digits, _ . -
    include:                  # required mapping of criteria (may be empty: every course)
      indication: [TRD]
    exclude: {}               # optional, the same criteria
    outcome_instrument: primary   # optional: primary (default) or an instrument of seeds/instruments.csv

The unit is the treatment course: patient criteria (indication, site, age, ...) apply to all of a
patient's courses. Criteria are applied in the order written, include before exclude, and that order
is the attrition table's. Values are only ever bound as SQL parameters (analysis/cohorts/criteria.py).
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from analysis.cohorts.criteria import CRITERIA, CriterionSpec
from analysis.cohorts.yamlnodes import (
    MAX_TEXT,
    CohortDefinitionError,
    Where,
    compose,
    describe_value,
    mapping_items,
    plain_collection,
    scalar,
)
from core.definitions import load_instruments, load_primary_instruments

PRIMARY = "primary"
TOP_KEYS = ("name", "description", "outcome_instrument", "include", "exclude")
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
DX_PREFIX_PATTERN = re.compile(r"[A-Z][0-9A-Z]{0,6}")
MAX_VALUES = 1_000


@dataclass(frozen=True)
class Criterion:
    """One criterion as written: a list of values, or bounds (low/high, either may be None)."""

    name: str
    stage: str  # "include" or "exclude"
    line: int
    values: tuple[Any, ...] = ()
    low: Any = None
    high: Any = None
    instrument: str | None = None  # baseline_score: the instrument (None: the outcome instrument)

    @property
    def spec(self) -> CriterionSpec:
        return CRITERIA[self.name]

    def describe(self) -> str:
        """A short human label, e.g. "indication in TRD, MDD" or "age 18 to 65"."""
        label = self.spec.label if self.instrument is None else f"{self.spec.label} on {self.instrument}"
        if self.spec.kind == "flag":
            return f"{label} is {'true' if self.values[0] else 'false'}"
        if self.values:
            shown = ", ".join(str(v) for v in self.values[:8]) + (", ..." if len(self.values) > 8 else "")
            return f"{label} in {shown}"
        if self.low is not None and self.high is not None:
            return f"{label} {self.low} to {self.high}"
        return f"{label} >= {self.low}" if self.low is not None else f"{label} <= {self.high}"

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"criterion": self.name, "stage": self.stage}
        if self.values:
            out["values"] = [str(v) if isinstance(v, dt.date) else v for v in self.values]
        for key, value in (("min", self.low), ("max", self.high), ("instrument", self.instrument)):
            if value is not None:
                out[key] = str(value) if isinstance(value, dt.date) else value
        return out


@dataclass(frozen=True)
class CohortDefinition:
    name: str
    include: tuple[Criterion, ...]
    exclude: tuple[Criterion, ...] = ()
    outcome_instrument: str = PRIMARY
    description: str = ""
    source: str = "<definition>"
    sha256: str = field(default="", compare=False)  # of the YAML text, for manifests

    @property
    def criteria(self) -> tuple[Criterion, ...]:
        return self.include + self.exclude

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "description": self.description, "outcome_instrument": self.outcome_instrument,
                "criteria": [c.as_dict() for c in self.criteria], "source": self.source, "sha256": self.sha256}


def load_definition(path: Path) -> CohortDefinition:
    """Read and check a cohort definition file; CohortDefinitionError names the line and key of any problem."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise CohortDefinitionError(f"No cohort definition at {path}.") from exc
    except UnicodeDecodeError as exc:
        raise CohortDefinitionError(f"{path}: not UTF-8 text.") from exc
    return parse_definition(text, source=str(path))


def definition_from_mapping(mapping: dict[str, Any], source: str = "<dict>") -> CohortDefinition:
    """A definition given as a Python mapping (notebooks): checked exactly as the YAML would be."""
    return parse_definition(yaml.safe_dump(dict(mapping), sort_keys=False), source=source)


def parse_definition(text: str, source: str = "<definition>") -> CohortDefinition:
    root = compose(text, source)
    top = Where(source, "", 1)
    found: dict[str, tuple[yaml.Node, Where]] = {}
    for key, node, where in mapping_items(root, top):
        if key not in TOP_KEYS:
            raise where.error(f"unknown key{_suggest(key, TOP_KEYS)}. Allowed here: {', '.join(TOP_KEYS)}.")
        found[key] = (node, where)
    for required in ("name", "include"):
        if required not in found:
            raise top.error(f"missing required key `{required}`.")
    name = _text(*found["name"])
    if not NAME_PATTERN.fullmatch(name):
        raise found["name"][1].error("must be 1-64 letters, digits, '_', '.' or '-', starting with a letter or digit.")
    outcome = PRIMARY
    if "outcome_instrument" in found:
        outcome = _instrument(*found["outcome_instrument"], allow_primary=True)
    description = _text(*found["description"], longest=2_000) if "description" in found else ""
    include = _criteria("include", *found["include"])
    exclude = _criteria("exclude", *found["exclude"]) if "exclude" in found else ()
    return CohortDefinition(name=name, include=include, exclude=exclude, outcome_instrument=outcome,
                            description=description, source=source,
                            sha256=hashlib.sha256(text.encode("utf-8")).hexdigest())


def _criteria(stage: str, node: yaml.Node, where: Where) -> tuple[Criterion, ...]:
    if isinstance(node, yaml.ScalarNode) and node.tag.endswith(":null"):
        return ()
    out = []
    for key, value_node, at in mapping_items(node, where):
        spec = CRITERIA.get(key)
        if spec is None:
            raise at.error(f"unknown criterion{_suggest(key, tuple(CRITERIA))}. Known: {', '.join(CRITERIA)}.")
        out.append(_PARSERS[spec.kind](spec, stage, value_node, at))
    return tuple(out)


def _suggest(key: str, known: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(key, known, n=1)
    return f" (did you mean `{close[0]}`?)" if close else ""


def _text(node: yaml.Node, where: Where, longest: int = MAX_TEXT) -> str:
    value = scalar(node, where)
    if not isinstance(value, str):
        raise where.error(f"expected text, got {describe_value(value)}.")
    if not value.strip() or len(value) > longest:
        raise where.error(f"expected text of 1 to {longest} characters.")
    return value


def _instrument(node: yaml.Node, where: Where, *, allow_primary: bool) -> str:
    value = _text(node, where)
    known = tuple(load_instruments())
    if allow_primary and value.lower() == PRIMARY:
        return PRIMARY
    if value.upper() not in known:
        extra = f"{PRIMARY} or " if allow_primary else ""
        raise where.error(f"unknown instrument{_suggest(value.upper(), known)}; expected {extra}one of "
                          f"{', '.join(known)} (seeds/instruments.csv).")
    return value.upper()


def _values(spec: CriterionSpec, stage: str, node: yaml.Node, where: Where) -> Criterion:
    if isinstance(node, yaml.SequenceNode):
        plain_collection(node, where)
    items = node.value if isinstance(node, yaml.SequenceNode) else [node]
    if not items or len(items) > MAX_VALUES:
        raise where.error(f"expected a list of 1 to {MAX_VALUES} values.")
    values = []
    for i, item in enumerate(items):
        at = where.child(i, item) if isinstance(node, yaml.SequenceNode) else where
        values.append(_one_value(spec, item, at))
    return Criterion(spec.name, stage, where.line, values=tuple(dict.fromkeys(values)))


def _one_value(spec: CriterionSpec, node: yaml.Node, where: Where) -> Any:
    value = scalar(node, where)
    if spec.value_type == "integer":
        if isinstance(value, bool) or not isinstance(value, int) or not spec.lowest <= value <= spec.highest:
            raise where.error(f"expected a whole number from {spec.lowest} to {spec.highest}, "
                              f"got {describe_value(value)}.")
        return value
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_TEXT:
        raise where.error(f"expected text of 1 to {MAX_TEXT} characters, got {describe_value(value)}"
                          f"{' (quote it)' if isinstance(value, int | float) else ''}.")
    value = _NORMALISE.get(spec.name, lambda v: v)(value.strip())
    if spec.name == "indication":
        known = tuple(load_primary_instruments())
        if value not in known:
            raise where.error(f"unknown indication{_suggest(value, known)}; expected one of {', '.join(known)}.")
    if spec.name == "primary_dx_prefix" and not DX_PREFIX_PATTERN.fullmatch(value):
        raise where.error("expected an ICD-10 code prefix such as F33 or F43.1.")
    return value


_NORMALISE: dict[str, Callable[[str], str]] = {
    "indication": str.upper, "route": str.upper, "sex": str.lower,
    "primary_dx_prefix": lambda v: v.upper().replace(".", ""),  # as dim_patients stores codes: F43.1 -> F431
}


def _flag(spec: CriterionSpec, stage: str, node: yaml.Node, where: Where) -> Criterion:
    value = scalar(node, where)
    if not isinstance(value, bool):
        raise where.error(f"expected true or false, got {describe_value(value)}.")
    return Criterion(spec.name, stage, where.line, values=(value,))


def _bound(spec: CriterionSpec, node: yaml.Node, where: Where) -> Any:
    value = scalar(node, where)
    if spec.value_type == "date":
        if not isinstance(value, dt.date):
            raise where.error(f"expected a date (YYYY-MM-DD), got {describe_value(value)}.")
        return value
    wanted_int = spec.value_type == "integer"
    ok = not isinstance(value, bool) and isinstance(value, int if wanted_int else int | float)
    if not ok or not spec.lowest <= value <= spec.highest:
        kind = "a whole number" if wanted_int else "a number"
        raise where.error(f"expected {kind} from {spec.lowest:g} to {spec.highest:g}, got {describe_value(value)}.")
    return value


def _range(spec: CriterionSpec, stage: str, node: yaml.Node, where: Where) -> Criterion:
    if spec.name == "course_number" and not isinstance(node, yaml.MappingNode):
        return _values(spec, stage, node, where)  # course_number: [1] or {min: 1, max: 2}
    bounds: dict[str, Any] = {}
    instrument = None
    allowed = spec.bound_keys + (("instrument",) if spec.kind == "score_range" else ())
    for key, value_node, at in mapping_items(node, where):
        if key not in allowed:
            raise at.error(f"unknown key{_suggest(key, allowed)}; allowed: {', '.join(allowed)}.")
        if key == "instrument":
            instrument = _instrument(value_node, at, allow_primary=False)
        else:
            bounds[key] = _bound(spec, value_node, at)
    low, high = bounds.get(spec.bound_keys[0]), bounds.get(spec.bound_keys[1])
    if low is None and high is None:
        raise where.error(f"give at least one of {' or '.join(spec.bound_keys)}.")
    if low is not None and high is not None and low > high:
        raise where.error(f"{spec.bound_keys[0]} ({low}) is after {spec.bound_keys[1]} ({high}).")
    return Criterion(spec.name, stage, where.line, low=low, high=high, instrument=instrument)


def _at_least(spec: CriterionSpec, stage: str, node: yaml.Node, where: Where) -> Criterion:
    return Criterion(spec.name, stage, where.line, low=_bound(spec, node, where))


_PARSERS: dict[str, Callable[[CriterionSpec, str, yaml.Node, Where], Criterion]] = {
    "values": _values, "flag": _flag, "range": _range, "score_range": _range, "at_least": _at_least,
}

__all__ = ["PRIMARY", "CohortDefinition", "CohortDefinitionError", "Criterion", "definition_from_mapping",
           "load_definition", "parse_definition"]
