"""User-facing errors: a KowError is something the user can fix, shown without a traceback (exit 2)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

MAX_VIOLATIONS_SHOWN = 50


class KowError(Exception):
    """A problem the user can fix: shown without a traceback, exit status 2."""


@dataclass(frozen=True, order=True)
class Violation:
    """One broken contract rule, located by file, data row and column.

    ``row`` is the 1-based data row (the first row after a CSV header is row 1); ``None`` when the rule
    concerns the whole file or a column. The offending value is never kept: it may be an identifier.
    """

    file: str
    row: int | None
    column: str | None
    rule: str

    def describe(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", row {self.row}"
            if self.file.endswith(".csv"):
                where += f" (line {self.row + 1})"
        if self.column:
            where += f", column {self.column}"
        return f"{where}: {self.rule}"


class ContractError(KowError):
    """The source breaks the source contract; nothing was loaded."""

    def __init__(self, source: str, violations: Sequence[Violation], total: int | None = None) -> None:
        self.source = source
        self.violations = list(violations)
        self.total = total if total is not None else len(self.violations)
        super().__init__(self._message())

    def _message(self) -> str:
        shown = self.violations[:MAX_VIOLATIONS_SHOWN]
        lines = [f"{self.source} breaks the source contract ({self.total} violation"
                 f"{'s' if self.total != 1 else ''}); nothing was loaded."]
        lines += [f"  {v.describe()}" for v in shown]
        if self.total > len(shown):
            lines.append(f"  ... and {self.total - len(shown)} more")
        return "\n".join(lines)
