"""`show`: one CSV line per stored PORTFOLIO vector, streamed in batches (the norms
computed per batch in numpy, the lines joined by Arrow: no Python object per row)."""

from __future__ import annotations

import sys

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from portfolio_embeddings.cli import options
from portfolio_embeddings.cli.database import Tables
from portfolio_embeddings.cli.vectors import missing_date_error
from portfolio_embeddings.search import _binary_chunk_as_matrix, space_of

HEADER = "as_of_date,portfolio_id,model_id,dim,l2_norm"
BATCH_ROWS = 65_536


def add_parser(subparsers) -> None:
    parser = options.command(
        subparsers,
        "show",
        "one line per stored vector, as CSV " + HEADER,
        [
            "portfolio-embeddings show --as-of 2025-01-31 --limit 20",
            "portfolio-embeddings show --start 2024-12-31 --end 2025-01-31 --portfolio-id P00001",
            "portfolio-embeddings show --model-id joint-portfolio-core-v1 --as-of 2025-01-31",
        ],
        "Ordered by as_of_date, portfolio_id, model_id. Without dates, every date.",
    )
    options.add_as_of(parser, help="only this date (with --to: the first date of a range)")
    options.add_date_range(parser, "the vectors listed")
    parser.add_argument("--to", type=options.iso_date, metavar="YYYY-MM-DD",
                        help="with --as-of: the last date (the older spelling of "
                        "--as-of D --to E, kept)")  # fmt: skip
    options.add_portfolio_ids(parser, "only this portfolio (repeat for more)")
    options.add_model_id(
        parser,
        "only this model's vectors (default every numeric model "
        "in numeric_window_embeddings; a joint id reads joint_embeddings)",
    )
    parser.add_argument("--limit", type=options.positive_int, metavar="N",
                        help="at most N lines (default all)")  # fmt: skip
    options.add_common(parser)
    parser.set_defaults(func=run)


def run(args) -> int:
    if args.to and (args.start or args.end):
        raise options.UsageError("--to goes with --as-of; with --start, use --end")
    if args.to and not args.as_of:
        raise options.UsageError("--to needs --as-of (the first date); or use --start / --end")
    first, last = (args.as_of, args.to) if args.to else (args.start, args.end)
    if not args.to:
        options.check_date_range(args)
        if args.as_of:
            first = last = args.as_of
    if first and last and first > last:
        raise options.UsageError(f"the last date {last} is before the first date {first}")
    tables = Tables(args.target, options.project_dir(args))
    if args.model_id:
        space = space_of(args.model_id)
        where, params = [space.where_sql], [args.model_id]
    else:
        space = None
        where, params = ["entity_type = 'PORTFOLIO'"], []
    table = tables.name(space.table if space else "numeric_window_embeddings")
    pid = space.portfolio_id_sql if space else "entity_id"
    if first:
        where.append("as_of_date >= cast(? as date)")
        params.append(first)
    if last:
        where.append("as_of_date <= cast(? as date)")
        params.append(last)
    if args.portfolio_id:
        where.append(f"{pid} in ({', '.join('?' * len(args.portfolio_id))})")
        params += args.portfolio_id
    limit = f" limit {args.limit}" if args.limit else ""
    reader = tables.con.execute(
        f"select cast(as_of_date as varchar) as as_of_date, {pid} as portfolio_id, model_id, "
        f"vector from {table} where {' and '.join(where)} "
        f"order by as_of_date, portfolio_id, model_id{limit}",
        params,
    ).fetch_record_batch(BATCH_ROWS)
    written = 0
    for batch in reader:
        if batch.num_rows == 0:
            continue
        if written == 0:
            sys.stdout.write(HEADER + "\n")
        sys.stdout.write(_lines(batch))
        written += batch.num_rows
    if written == 0:
        raise _nothing_error(tables, args, first, last, space)
    return 0


def _lines(batch: pa.RecordBatch) -> str:
    dim, norm = _dims_and_norms(batch.column("vector"))
    line = pc.binary_join_element_wise(
        batch.column("as_of_date"),
        batch.column("portfolio_id"),
        batch.column("model_id"),
        pa.array(dim).cast(pa.string()),
        fixed_6(norm),
        ",",
    )
    return "\n".join(line.to_pylist()) + "\n"


def fixed_6(values: np.ndarray) -> pa.Array:
    """Non-negative floats as text with 6 decimals (like "%.6f"), built column-wise.

    >>> fixed_6(np.array([0.0, 1.5, 12.3456789, np.nan])).to_pylist()
    ['0.000000', '1.500000', '12.345679', 'nan']
    """
    finite = np.isfinite(values)
    micro = np.round(np.where(finite, values, 0) * 1e6).astype(np.int64)
    whole = pa.array(micro // 1_000_000).cast(pa.string())
    fraction = pc.utf8_lpad(pa.array(micro % 1_000_000).cast(pa.string()), 6, "0")
    text = pc.binary_join_element_wise(whole, fraction, ".")
    return pc.if_else(pa.array(finite), text, pa.scalar("nan"))


def _dims_and_norms(vectors: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Each vector's length in floats and its L2 norm (0 for a null vector, NaN for
    bytes that are not whole float32s: another writer's rows)."""
    lengths = pc.fill_null(pc.binary_length(vectors), 0).to_numpy()
    norm = np.zeros(len(vectors))
    for size in np.unique(lengths[lengths > 0]):
        same = np.flatnonzero(lengths == size)
        if size % 4:
            norm[same] = np.nan
            continue
        matrix = _binary_chunk_as_matrix(vectors.take(pa.array(same)))
        norm[same] = np.sqrt(np.einsum("ij,ij->i", matrix, matrix, dtype=np.float64))
    return lengths // 4, norm


def _nothing_error(tables, args, first, last, space):
    asked = [day for day in (first, last) if day]
    dates = (
        f" on {first}"
        if first and first == last
        else (f" from {first or 'the first date'} to {last or 'the last date'}" if asked else "")
    )
    whose = f" of {', '.join(args.portfolio_id)}" if args.portfolio_id else ""
    what = f"no {space.model_id if space else 'PORTFOLIO'} vectors{whose}{dates}"
    if space is None:
        space = space_of(options.default_var(args, "model_id"))
    if asked:
        return missing_date_error(tables, space, asked, what)
    return options.UsageError(what)
