"""Writing the source folder chunk by chunk: `<table>.csv` or `<table>.parquet`, as the contract says."""

from __future__ import annotations

from pathlib import Path
from typing import IO, Literal

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from ingest.contract import Table, contract

Format = Literal["csv", "parquet"]
FORMATS: tuple[Format, ...] = ("csv", "parquet")
ARROW_TYPES: dict[str, pa.DataType] = {
    "text": pa.string(), "integer": pa.int32(), "number": pa.float64(), "date": pa.date32(), "boolean": pa.bool_(),
}


def arrow_schema(table: Table) -> pa.Schema:
    return pa.schema([pa.field(c.name, ARROW_TYPES[c.kind]) for c in table.columns])


class TableWriter:
    """Appends frames to one table's file; CSV gets its header once, Parquet one row group per chunk."""

    def __init__(self, out_dir: Path, table: Table, fmt: Format) -> None:
        self.table = table
        self.rows = 0
        for other in FORMATS:  # a stale file in the other format would give the table two files
            if other != fmt:
                (out_dir / f"{table.name}.{other}").unlink(missing_ok=True)
        self.path = out_dir / f"{table.name}.{fmt}"
        self._schema = arrow_schema(table)
        self._csv: IO[bytes] | None = None
        self._parquet: pq.ParquetWriter | None = None
        if fmt == "csv":
            self._csv = self.path.open("wb")
            self._csv.write((",".join(table.column_names) + "\n").encode("utf-8"))
        else:
            self._parquet = pq.ParquetWriter(self.path, self._schema)

    def write(self, frame: pl.DataFrame) -> None:
        frame = frame.select(self.table.column_names)
        self.rows += frame.height
        if self._csv is not None:
            frame.write_csv(self._csv, include_header=False)
        elif self._parquet is not None:
            self._parquet.write_table(frame.to_arrow().cast(self._schema))

    def close(self) -> None:
        if self._csv is not None:
            self._csv.close()
        if self._parquet is not None:
            self._parquet.close()


class SourceWriter:
    """One TableWriter per contract table."""

    def __init__(self, out_dir: Path, fmt: Format) -> None:
        self.writers = {t.name: TableWriter(out_dir, t, fmt) for t in contract()}

    def write(self, frames: dict[str, pl.DataFrame]) -> None:
        for name, frame in frames.items():
            self.writers[name].write(frame)

    def rows(self) -> dict[str, int]:
        return {name: w.rows for name, w in self.writers.items()}

    def close(self) -> None:
        for writer in self.writers.values():
            writer.close()


class ParquetAppender:
    """A Parquet file written one frame at a time, typed by the first frame (truth_courses.parquet)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._writer: pq.ParquetWriter | None = None

    def write(self, frame: pl.DataFrame) -> None:
        table = frame.to_arrow()
        if self._writer is None:
            self._writer = pq.ParquetWriter(self.path, table.schema)
        self._writer.write_table(table.cast(self._writer.schema))

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
