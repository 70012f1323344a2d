"""FeatureBatch: the features of many portfolio states in long, integer-coded form.

Entry i says: state `row_index[i]` has feature `names[name_codes[i]]` with value
`values[i]`. Names are `group + ":" + key` (the key may itself contain ':'). Strings
appear once, in `names`; the per-entry arrays are plain integers and floats so that
everything downstream is vectorised.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

FEATURE_GROUPS = ("risk_metrics", "sector", "factor")


@dataclass(frozen=True)
class FeatureBatch:
    """Features of `n_rows` portfolio states, one entry per (state, feature, value).

    row_index:  int array (m,), the state of each entry, in [0, n_rows), any order.
    name_codes: int array (m,), index of each entry's feature name in `names`.
    names:      the vocabulary, unique "group:key" strings.
    values:     float array (m,), finite; booleans already arrive as 1.0 / 0.0.
    """

    n_rows: int
    row_index: np.ndarray
    name_codes: np.ndarray
    names: tuple[str, ...]
    values: np.ndarray

    def __post_init__(self) -> None:
        # Cheap vectorised checks (min/max, one isfinite pass): a bad batch fails here
        # with a clear message rather than as a wrong vector or an IndexError later.
        for field, kind in [("row_index", "iu"), ("name_codes", "iu"), ("values", "f")]:
            array = getattr(self, field)
            if not isinstance(array, np.ndarray) or array.ndim != 1:
                raise ValueError(f"{field} must be a 1-d numpy array")
            if array.dtype.kind not in kind:
                wanted = "an integer" if kind == "iu" else "a floating"
                raise ValueError(f"{field} must have {wanted} dtype, got {array.dtype}")
        m = len(self.values)
        if len(self.row_index) != m or len(self.name_codes) != m:
            raise ValueError(
                "row_index, name_codes and values must have the same length, got "
                f"{len(self.row_index)}, {len(self.name_codes)}, {m}"
            )
        if self.n_rows < 0:
            raise ValueError(f"n_rows must be >= 0, got {self.n_rows}")
        if len(set(self.names)) != len(self.names):
            raise ValueError("names must be unique")
        if m:
            if self.row_index.min() < 0 or self.row_index.max() >= self.n_rows:
                raise ValueError(f"row_index must lie in [0, {self.n_rows})")
            if self.name_codes.min() < 0 or self.name_codes.max() >= len(self.names):
                raise ValueError(f"name_codes must lie in [0, {len(self.names)})")
            if not np.isfinite(self.values).all():
                raise ValueError("values must be finite (the SQL side rejects the others)")

    @classmethod
    def from_records(
        cls,
        n_rows: int,
        row_index: Sequence[int] | np.ndarray,
        names_per_entry: Sequence[str] | np.ndarray,
        values: Sequence[float] | np.ndarray,
    ) -> FeatureBatch:
        """Build a batch from one name string per entry (tests, small callers)."""
        names, codes = np.unique(np.asarray(names_per_entry, dtype=object), return_inverse=True)
        return cls(
            n_rows=n_rows,
            row_index=np.asarray(row_index, dtype=np.int64),
            name_codes=np.asarray(codes, dtype=np.int64).reshape(-1),
            names=tuple(str(n) for n in names),
            values=np.asarray(values, dtype=np.float64),
        )


def split_name(name: str) -> tuple[str, str]:
    """(group, key) of a feature name; the key may contain ':'."""
    group, sep, key = name.partition(":")
    if not sep or group not in FEATURE_GROUPS:
        raise ValueError(
            f"feature name {name!r} is not '<group>:<key>' with group in {FEATURE_GROUPS}"
        )
    return group, key
