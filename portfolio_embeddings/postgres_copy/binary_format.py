"""Arrow record batches in PostgreSQL's binary COPY format, built column by column.

Why: DuckDB's postgres extension sends any table with a jsonb column as a slow,
client-bound text COPY (docs/postgres.md). In the binary format every
field is an int32 length followed by the value's bytes, so a whole batch's fields are
a few Arrow arrays each (the lengths as big-endian bytes, the values), and a row is the
element-wise concatenation of all of them: one pass over the data, no Python per row.
Format: https://www.postgresql.org/docs/15/sql-copy.html ("Binary Format").
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + b"\x00\x00\x00\x00" + b"\x00\x00\x00\x00"
TRAILER = b"\xff\xff"
_NULL = pa.scalar(b"\xff\xff\xff\xff", pa.binary())  # a field of length -1
_EMPTY = pa.scalar(b"", pa.binary())

# PostgreSQL's binary dates and timestamps count from 2000-01-01.
_PG_EPOCH_DAYS = 10_957
_PG_EPOCH_MICROS = _PG_EPOCH_DAYS * 86_400 * 1_000_000
_INTEGERS = {"smallint": ">i2", "integer": ">i4", "bigint": ">i8"}
_FLOATS = {"real": ">f4", "double precision": ">f8"}
_TEXTUAL = ("text", "json", "bytea", "character varying", "character", "varchar")

Piece = pa.Array | pa.Scalar  # one part of every row's bytes (a scalar: the same in all)


def _network_order(values: np.ndarray, dtype: str) -> pa.Array:
    """A binary array holding each value's big-endian bytes."""
    raw = np.ascontiguousarray(values.astype(dtype))
    fixed = pa.FixedSizeBinaryArray.from_buffers(
        pa.binary(raw.dtype.itemsize), len(raw), [None, pa.py_buffer(raw)]
    )
    return fixed.cast(pa.binary())


def _length(width: int) -> pa.Scalar:
    return pa.scalar(int(width).to_bytes(4, "big", signed=True), pa.binary())


def _join(pieces: list[Piece]) -> pa.Array:
    return pc.binary_join_element_wise(*pieces, _EMPTY)


def _length_prefixed(payload: pa.Array, prefix: bytes = b"") -> list[Piece]:
    payload = payload.cast(pa.binary())
    if payload.null_count:
        payload = pc.fill_null(payload, _EMPTY)
    lengths = pc.binary_length(payload).to_numpy(zero_copy_only=False) + len(prefix)
    prefixed = [pa.scalar(prefix, pa.binary())] if prefix else []
    return [_network_order(lengths, ">i4"), *prefixed, payload]


def _fixed_width(values: np.ndarray, dtype: str) -> list[Piece]:
    return [_length(np.dtype(dtype).itemsize), _network_order(values, dtype)]


def field_pieces(column: pa.Array, pg_type: str) -> list[Piece]:
    """The pieces whose concatenation is, row by row, the binary COPY field of each value
    of `column` for a column of type `pg_type` (as PostgreSQL's format_type spells it)."""
    if column.null_count == len(column):
        return [_NULL]
    if pg_type == "jsonb":
        pieces = _length_prefixed(column, prefix=b"\x01")  # jsonb's format version
    elif pg_type.startswith(_TEXTUAL):
        pieces = _length_prefixed(column)
    elif pg_type == "date":
        days = pc.fill_null(column.cast(pa.date32()).cast(pa.int32()), 0).to_numpy()
        pieces = _fixed_width(days - _PG_EPOCH_DAYS, ">i4")
    elif pg_type.startswith("timestamp"):
        micros = column.cast(pa.timestamp("us", column.type.tz)).cast(pa.int64())
        pieces = _fixed_width(pc.fill_null(micros, 0).to_numpy() - _PG_EPOCH_MICROS, ">i8")
    elif pg_type in _INTEGERS:
        pieces = _fixed_width(pc.fill_null(column, 0).to_numpy(), _INTEGERS[pg_type])
    elif pg_type in _FLOATS:
        pieces = _fixed_width(pc.fill_null(column, 0).to_numpy(), _FLOATS[pg_type])
    else:
        raise TypeError(f"no binary COPY encoding for PostgreSQL type {pg_type!r}")
    if column.null_count == 0:
        return pieces
    # a null is the length -1 and no value: only then are the pieces joined twice
    return [pc.if_else(pc.is_valid(column), _join(pieces), _NULL)]


def encode_batch(batch: pa.RecordBatch, pg_types: list[str]) -> pa.Buffer:
    """The rows of `batch` as one contiguous block of binary COPY tuples (the stream's
    SIGNATURE goes before the first block, TRAILER after the last)."""
    if batch.num_rows == 0:
        return pa.py_buffer(b"")
    pieces = [pa.scalar(batch.num_columns.to_bytes(2, "big"), pa.binary())]
    for column, pg_type in zip(batch.columns, pg_types, strict=True):
        pieces.extend(field_pieces(column, pg_type))
    rows = _join(pieces)
    offsets = np.frombuffer(rows.buffers()[1], np.int32, len(rows) + 1, rows.offset * 4)
    return rows.buffers()[2][int(offsets[0]) : int(offsets[-1])]
