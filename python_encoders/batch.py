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
    n_rows: int
    row_index: np.ndarray
    name_codes: np.ndarray
    names: tuple[str, ...]
    values: np.ndarray

    def __post_init__(self) -> None:
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
