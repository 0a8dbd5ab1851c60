"""The contract's row rules as one SQL pass per table, plus the cross-row rules (uniqueness, references).

Each row-level rule is one bit of a mask computed while the text cells are cast to their contract types,
so a clean file is checked in the same scan that types it; only rows with a non-zero mask are looked at
again, to name their row and column.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import duckdb

from core.definitions import load_instruments
from core.errors import Violation
from ingest.contract import Column, Table
from ingest.identifiers import MAX_AGE, RESTRICTED_ZIP3, VALUE_PATTERNS, allowed_regions

BITS_PER_MASK = 62
ICD10_SHAPE = r"[A-Za-z][0-9][0-9A-Za-z](\.?[0-9A-Za-z]{1,4})?"
ISO_DATE_SHAPE = r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}"  # as lenient as DuckDB's CSV date parser
_TYPE_RULES = {
    "integer": "not a whole number",
    "number": "not a number",
    "date": "not a valid ISO-8601 date (YYYY-MM-DD)",
    "boolean": "not a boolean (true/false)",
}


@dataclass(frozen=True)
class RowRule:
    column: str
    rule: str
    condition: str  # SQL over the text cell `t_<column>` and typed value `v_<column>`; true = violated


@dataclass(frozen=True)
class TableCheck:
    """The typed SELECT for a staged table and the rule behind each mask bit."""

    select_sql: str
    rules: tuple[RowRule, ...]
    params: dict[str, Any]

    @property
    def mask_columns(self) -> list[str]:
        return [f"_mask{i}" for i in range(0, len(self.rules), BITS_PER_MASK)]


def _typed(column: Column, typed_input: bool) -> str:
    t = f"t_{column.name}"
    if typed_input and column.kind == "date":
        return t
    match column.kind:
        case "text":
            return t
        case "integer":
            return (f"CASE WHEN isfinite(TRY_CAST({t} AS DOUBLE)) AND TRY_CAST({t} AS DOUBLE) = "
                    f"round(TRY_CAST({t} AS DOUBLE)) THEN TRY_CAST(TRY_CAST({t} AS DOUBLE) AS INTEGER) END")
        case "number":
            return f"CASE WHEN isfinite(TRY_CAST({t} AS DOUBLE)) THEN TRY_CAST({t} AS DOUBLE) END"
        case "date":
            return f"CASE WHEN regexp_full_match({t}, $iso_date) THEN TRY_CAST({t} AS DATE) END"
        case "boolean":
            return f"TRY_CAST({t} AS BOOLEAN)"
    raise ValueError(column.kind)


def _column_rules(table: Table, column: Column) -> list[RowRule]:
    t, v, name = f"t_{column.name}", f"v_{column.name}", column.name
    rules: list[RowRule] = []
    if column.required:
        rules.append(RowRule(name, "required value missing", f"{t} IS NULL"))
    if column.kind != "text":
        rules.append(RowRule(name, _TYPE_RULES[column.kind], f"{t} IS NOT NULL AND {v} IS NULL"))
    if column.minimum is not None or column.maximum is not None:
        low = "" if column.minimum is None else f"{v} {'<=' if column.exclusive_minimum else '<'} {column.minimum}"
        high = "" if column.maximum is None else f"{v} > {column.maximum}"
        if name == "age_at_first_session":
            rules.append(RowRule(name, f"age over {MAX_AGE} identifies a person: write {MAX_AGE} for {MAX_AGE}+",
                                 high))
            rules.append(RowRule(name, "age must not be negative", low))
        else:
            bounds = f"{'above' if column.exclusive_minimum else 'from'} {column.minimum:g} to {column.maximum:g}"
            rules.append(RowRule(name, f"out of range: must be {bounds}", " OR ".join(x for x in (low, high) if x)))
    if column.vocabulary is not None:
        param = f"vocab_{table.name}_{name}"
        shown = ", ".join(column.vocabulary)
        rules.append(RowRule(name, f"not in the controlled list ({shown})",
                             f"{t} IS NOT NULL AND NOT list_contains(${param}, {t})"))
    if column.not_future:
        rules.append(RowRule(name, "date lies in the future", f"{v} > current_date"))
    if _free_text(column):
        # idv_<column>: one pass of all identifier patterns at once; which one matched is asked only then
        for rule, key in zip(VALUE_PATTERNS, ("email_re", "ssn_re", "phone_re"), strict=True):
            rules.append(RowRule(name, f"{rule}; identifiers must not enter the warehouse",
                                 f"idv_{name} AND regexp_matches({t}, ${key})"))
    rules.extend(_special_rules(table, column))
    return rules


def _free_text(column: Column) -> bool:
    return column.kind == "text" and column.vocabulary is None


def _special_rules(table: Table, column: Column) -> list[RowRule]:
    t, name = f"t_{column.name}", column.name
    match (table.name, name):
        case ("patients", "zip3"):
            return [
                RowRule(name, "ZIP3 must be exactly 3 digits", f"NOT regexp_full_match({t}, '[0-9]{{3}}')"),
                RowRule(name, "restricted ZIP3 prefix (population <= 20,000) must be written as 000",
                        f"list_contains($restricted_zip3, {t})"),
            ]
        case ("patients", "primary_dx_icd10"):
            return [RowRule(name, "not an ICD-10-CM code (like F33.2 or F4310)",
                            f"NOT regexp_full_match({t}, $icd10_shape)")]
        case ("sites", "region"):
            return [RowRule(name, "region must be a US state code or a country, nothing finer",
                            f"{t} IS NOT NULL AND NOT list_contains($regions, upper({t}))")]
        case ("assessments", "total_score"):
            return [RowRule(name, "score outside the instrument's range",
                            "v_total_score < list_extract($score_min, list_position($instruments, t_instrument)) "
                            "OR v_total_score > list_extract($score_max, list_position($instruments, t_instrument))")]
    return []


def build_check(
    table: Table, staged_columns: Iterable[str], source_sql: str, *, typed_input: bool = False
) -> TableCheck:
    """The SELECT over `source_sql` (cells `t_<column>`) that types each row and computes its mask.

    ``typed_input``: the reader already parsed numbers, dates and booleans (see read.source_select).
    It only projects, so rows keep file order and the result's rowid is the data row number - 1.
    """
    present = set(staged_columns)
    columns = table.columns
    missing = ", ".join(f"CAST(NULL AS VARCHAR) AS t_{c.name}" for c in columns if c.name not in present)
    rules = [r for c in columns for r in _column_rules(table, c)]
    typed = ", ".join([f"{_typed(c, typed_input)} AS v_{c.name}" for c in columns]
                      + [f"regexp_matches(t_{c.name}, $identifier_re) AS idv_{c.name}" for c in columns
                         if _free_text(c)])
    masks = []
    for start in range(0, len(rules), BITS_PER_MASK):
        chunk = rules[start:start + BITS_PER_MASK]
        bits = " | ".join(f"(CASE WHEN coalesce({r.condition}, false) THEN {1 << i} ELSE 0 END)::BIGINT"
                          for i, r in enumerate(chunk))
        # A clean row fails no rule: one OR over the conditions settles it cheaply, and the mask itself is
        # built only for the rows that break something (a NULL condition is not a violation).
        any_broken = " OR ".join(f"({r.condition})" for r in chunk)
        masks.append(f"(CASE WHEN {any_broken} THEN {bits} ELSE 0 END)::BIGINT AS _mask{start // BITS_PER_MASK}")
    outputs = ", ".join(f"v_{c.name} AS {c.name}" for c in columns)
    sql = (
        f"SELECT {outputs}, {', '.join(masks)} FROM ("  # noqa: S608
        f"SELECT *, {typed} FROM (SELECT *{', ' + missing if missing else ''} "
        f"FROM ({source_sql}) AS cells) AS text_cells)"
    )
    params: dict[str, Any] = {"iso_date": ISO_DATE_SHAPE}
    if any("$email_re" in r.condition for r in rules):
        params |= {"identifier_re": "|".join(f"({p})" for p in VALUE_PATTERNS.values()),
                   "email_re": VALUE_PATTERNS["value shaped like an email address"],
                   "ssn_re": VALUE_PATTERNS["value shaped like a social security number"],
                   "phone_re": VALUE_PATTERNS["value shaped like a phone number"]}
    for c in columns:
        if c.vocabulary is not None:
            params[f"vocab_{table.name}_{c.name}"] = list(c.vocabulary)
    if table.name == "patients":
        params |= {"restricted_zip3": list(RESTRICTED_ZIP3), "icd10_shape": ICD10_SHAPE}
    if table.name == "sites":
        params["regions"] = list(allowed_regions())
    if table.name == "assessments":
        instruments = list(load_instruments().values())
        params |= {"instruments": [i.instrument for i in instruments],
                   "score_min": [i.score_min for i in instruments],
                   "score_max": [i.score_max for i in instruments]}
    used = set(re.findall(r"\$(\w+)", sql))  # DuckDB refuses parameters the statement does not use
    return TableCheck(sql, tuple(rules), {k: v for k, v in params.items() if k in used})


def row_violations(con: duckdb.DuckDBPyConnection, file: str, typed: str, check: TableCheck,
                   limit: int) -> tuple[list[Violation], int]:
    """The first `limit` row-rule violations of a typed table, in row order, and how many there are."""
    any_bad = " OR ".join(f"{m} <> 0" for m in check.mask_columns)
    masks = ", ".join(check.mask_columns)
    total_sql = " + ".join(f"bit_count({m})" for m in check.mask_columns)
    (total,) = con.execute(f"SELECT coalesce(sum({total_sql}), 0) FROM {typed} WHERE {any_bad}").fetchone()  # noqa: S608
    if not total:
        return [], 0
    rows = con.execute(
        f"SELECT rowid + 1, {masks} FROM {typed} WHERE {any_bad} ORDER BY rowid LIMIT {int(limit)}"  # noqa: S608
    ).fetchall()
    found: list[Violation] = []
    for row, *mask_values in rows:
        for index, mask in enumerate(mask_values):
            for bit, rule in enumerate(check.rules[index * BITS_PER_MASK:(index + 1) * BITS_PER_MASK]):
                if mask >> bit & 1:
                    found.append(Violation(file, int(row), rule.column, rule.rule))
    return found[:limit], int(total)


def duplicate_violations(con: duckdb.DuckDBPyConnection, file: str, typed: str, key: str,
                         limit: int) -> tuple[list[Violation], int]:
    """Rows whose key repeats an earlier row's key in the same file."""
    # distinct hashes imply distinct keys, and hashes are cheaper to count; a collision only costs the exact check
    (repeats,) = con.execute(f"SELECT count({key}) - count(DISTINCT hash({key})) FROM {typed}").fetchone()  # noqa: S608
    if not repeats:
        return [], 0  # the common case, without numbering every row
    sql = (f"SELECT rowid + 1 AS row_number FROM (SELECT rowid, row_number() OVER (PARTITION BY {key} "  # noqa: S608
           f"ORDER BY rowid) AS seen FROM {typed} WHERE {key} IS NOT NULL) WHERE seen > 1")
    (total,) = con.execute(f"SELECT count(*) FROM ({sql})").fetchone()  # noqa: S608
    if not total:
        return [], 0
    rows = con.execute(f"{sql} ORDER BY row_number LIMIT {int(limit)}").fetchall()
    return [Violation(file, int(r), key, "duplicate id: must be unique") for (r,) in rows], int(total)


def reference_violations(con: duckdb.DuckDBPyConnection, file: str, typed: str, column: str,
                         parent: str | None, parent_key: str, parent_name: str,
                         limit: int) -> tuple[list[Violation], int]:
    """Rows whose foreign key has no parent row in the source (a missing parent file fails them all)."""
    if parent is None:
        anti = f"SELECT rowid + 1 AS row_number FROM {typed} WHERE {column} IS NOT NULL"  # noqa: S608
    else:  # an ANTI JOIN runs about three times faster than NOT EXISTS here
        anti = (f"SELECT child.rowid + 1 AS row_number FROM {typed} AS child ANTI JOIN {parent} AS p "  # noqa: S608
                f"ON child.{column} = p.{parent_key} WHERE child.{column} IS NOT NULL")
    (total,) = con.execute(f"SELECT count(*) FROM ({anti})").fetchone()  # noqa: S608
    if not total:
        return [], 0
    rows = con.execute(f"{anti} ORDER BY row_number LIMIT {int(limit)}").fetchall()
    rule = f"refers to a {parent_key} that is not in {parent_name}"
    return [Violation(file, int(r), column, rule) for (r,) in rows], int(total)
