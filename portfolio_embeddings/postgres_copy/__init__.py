"""Stream Arrow record batches into a PostgreSQL table as a binary COPY and replace the
rows they supersede, in one transaction. Generic: nothing here knows about portfolios.

See docs/postgres.md for why the write goes this way and what it costs.
"""

from .binary_format import SIGNATURE, TRAILER, encode_batch, field_pieces
from .keyed_copy import KeyedCopyResult, keyed_copy

__all__ = ["SIGNATURE", "TRAILER", "KeyedCopyResult", "encode_batch", "field_pieces", "keyed_copy"]
