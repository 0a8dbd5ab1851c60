"""Progress reporting: the library reports steps, only the CLI draws."""

from __future__ import annotations

from collections.abc import Callable

ProgressFn = Callable[[int], None]


def no_progress(steps: int) -> None:
    """Progress callback that ignores the report (the default for library calls and tests)."""
