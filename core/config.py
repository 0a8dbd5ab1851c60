"""The one place that resolves where the warehouse lives."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

DEFAULT_WAREHOUSE = Path("warehouse/kow.duckdb")
WAREHOUSE_ENV = "KOW_WAREHOUSE"


@dataclass(frozen=True)
class Settings:
    warehouse: Path  # the one writable warehouse file
    published: Path  # the aggregate-only file the dashboard reads

    @property
    def folder(self) -> Path:
        return self.warehouse.parent


def resolve_settings(warehouse: Path | str | None = None, environ: Mapping[str, str] = os.environ) -> Settings:
    """Warehouse path: the ``--warehouse`` flag, else ``$KOW_WAREHOUSE``, else ``warehouse/kow.duckdb``."""
    raw = warehouse or environ.get(WAREHOUSE_ENV) or DEFAULT_WAREHOUSE
    chosen = Path(raw).expanduser().resolve()
    return Settings(warehouse=chosen, published=chosen.with_name("published.duckdb"))
