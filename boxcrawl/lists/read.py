"""Reading a URL list of any supported format as a stream of Arrow batches, in input order.

Every batch has `row` (the 1-based data row, or the line of a text list), `url` (as given) and the
columns asked to be kept. Nothing but the current batch is held in memory, so a list of millions of
rows costs one batch. Which format a file is comes from its extension unless `--urls-format` says. A
list may be a local file or an fsspec URL (location.py).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import pyarrow as pa

from ..locations import shown
from .location import Location, Unreadable, first_line, opened, suffix

FORMATS = ("text", "csv", "tsv", "jsonl", "parquet")
_BY_SUFFIX = {".csv": "csv", ".tsv": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet"}
BATCH_ROWS = 10_000


class ListError(ValueError):
    """The list cannot be used as asked: one line for the user (exit 2)."""


def list_format(path: Location, override: str | None = None) -> str:
    """The format of `path`: `override`, else its extension; anything else is a text list."""
    return override or _BY_SUFFIX.get(suffix(path).lower(), "text")


@dataclass(frozen=True)
class UrlTable:
    """An opened list: its column names, and the batches of the columns wanted."""

    path: Location
    format: str
    columns: list[str]
    url_col: str

    def batches(self, keep: Sequence[str] = ()) -> Iterator[pa.RecordBatch]:
        """`row`, `url` and `keep`, batch by batch, in input order."""
        row = 1
        for batch in _raw_batches(self.path, self.format, [self.url_col, *keep]):
            n = batch.num_rows
            urls = batch.column(self.url_col).cast(pa.string())  # dictionary or large strings in Parquet
            arrays = [pa.array(range(row, row + n), pa.int64()), urls]
            arrays += [batch.column(name) for name in keep]
            yield pa.RecordBatch.from_arrays(arrays, names=["row", "url", *keep])
            row += n


def open_list(path: Location, fmt: str, url_col: str = "url", keep: Sequence[str] = ()) -> UrlTable:
    """The list at `path`; ListError when it cannot be read or lacks `url_col` or a column of `keep`."""
    if fmt == "text":
        raise ListError("a text list is read by boxcrawl.urllist")  # its lines, comments and warnings
    try:
        with opened(path) as source:
            schema = _schema(source, fmt)
    except Unreadable as exc:
        raise ListError(str(exc)) from None
    except (pa.ArrowInvalid, OSError) as exc:
        raise ListError(f"{shown(path)}: not a readable {fmt} file ({first_line(exc)})") from None
    columns = list(schema.names)
    for name, flag in [(url_col, "--url-col"), *((k, "--save-columns") for k in keep)]:
        if name not in columns:
            raise ListError(f"{flag} {name!r}: {shown(path)} has no such column (its columns: {', '.join(columns)})")
    for name in keep:  # they go into JSON as they are: no timestamps, bytes or nested values
        if not _plain(schema.field(name).type):
            raise ListError(
                f"--save-columns {name!r}: its type {schema.field(name).type} is not a string, number or boolean"
            )
    return UrlTable(path, fmt, columns, url_col)


def _plain(t: pa.DataType) -> bool:
    return bool(
        pa.types.is_string(t)
        or pa.types.is_large_string(t)
        or pa.types.is_integer(t)
        or pa.types.is_floating(t)
        or pa.types.is_boolean(t)
        or pa.types.is_null(t)
    )


def _schema(path: Path | IO[bytes], fmt: str) -> pa.Schema:
    """The list's columns and their types (CSV and TSV: every one a string, see `_csv_reader`)."""
    if fmt == "parquet":
        import pyarrow.parquet as pq

        return pq.read_schema(path)
    if fmt == "jsonl":
        # JSON lines have no header: the names are those of the first block's objects
        return _json_reader(path).schema
    names = _csv_reader(path, fmt, None).schema.names
    return pa.schema([(name, pa.string()) for name in names])


def _csv_reader(path: Path | IO[bytes], fmt: str, columns: list[str] | None) -> pa.RecordBatchReader:
    import pyarrow.csv as pc

    # CSV has no types: every value stays a string (an empty one is null), so a column that looks
    # numeric in the first block cannot fail on a later one
    convert = pc.ConvertOptions(
        include_columns=columns, strings_can_be_null=True, column_types=None, auto_dict_encode=False
    )
    if columns is not None:
        convert.column_types = {name: pa.string() for name in columns}
    parse = pc.ParseOptions(delimiter="\t" if fmt == "tsv" else ",")
    return pc.open_csv(path, parse_options=parse, convert_options=convert)


def _json_reader(path: Path | IO[bytes]) -> pa.RecordBatchReader:
    import pyarrow.json as pj

    return pj.open_json(path)


def _raw_batches(path: Location, fmt: str, columns: list[str]) -> Iterator[pa.RecordBatch]:
    try:
        with opened(path) as source:
            if fmt == "parquet":
                import pyarrow.parquet as pq

                yield from pq.ParquetFile(source).iter_batches(batch_size=BATCH_ROWS, columns=columns)
            elif fmt == "jsonl":
                for batch in _json_reader(source):
                    yield batch.select(columns)
            else:
                yield from _csv_reader(source, fmt, columns)
    except Unreadable as exc:  # gone between the two passes
        raise ListError(str(exc)) from None
    except pa.ArrowInvalid as exc:
        raise ListError(f"{shown(path)}: {first_line(exc)}") from None
