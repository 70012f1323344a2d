"""FeatureBatch: the features of many portfolio states in long, integer-coded form.

Strings appear once, in the vocabulary; the per-entry arrays are plain integers and
floats, so that everything downstream is vectorised.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

# The groups a feature name may start with, in the order pad_to_dim lays them out.
FEATURE_GROUPS = ("risk_metrics", "sector", "factor")


@dataclass(frozen=True)
class FeatureBatch:
    """Features of `n_rows` portfolio states, one entry per (state, feature, value).

    Entry ``i`` says: state ``row_index[i]`` has feature ``names[name_codes[i]]`` with
    value ``values[i]``. Names are ``group + ":" + key`` (the key may itself contain ':').

    Parameters
    ----------
    n_rows : int
        Number of states, >= 0. A state without entries is encoded as the zero vector.
    row_index : ndarray of int, shape (m,)
        The state of each entry, in ``[0, n_rows)``, in any order.
    name_codes : ndarray of int, shape (m,)
        Index of each entry's feature name in `names`.
    names : tuple of str
        The vocabulary, unique ``"group:key"`` strings.
    values : ndarray of float, shape (m,)
        Finite values; booleans already arrive as 1.0 / 0.0.

    Raises
    ------
    ValueError
        If an array is not 1-d or lacks an integer (float) dtype, the lengths differ,
        `names` repeat, an index is out of range or a value is not finite.

    See Also
    --------
    FeatureBatch.from_records : Build a batch from one name string per entry.

    Examples
    --------
    >>> import numpy as np
    >>> from python_encoders import FeatureBatch
    >>> batch = FeatureBatch(
    ...     n_rows=2,
    ...     row_index=np.array([0, 1, 1]),
    ...     name_codes=np.array([0, 0, 1]),
    ...     names=("risk_metrics:beta", "sector:Energy"),
    ...     values=np.array([1.1, 0.9, 0.25]),
    ... )
    >>> batch.names[batch.name_codes[2]], float(batch.values[2])
    ('sector:Energy', 0.25)
    >>> FeatureBatch(1, np.array([1]), np.array([0]), ("sector:Energy",), np.array([0.2]))
    Traceback (most recent call last):
    ...
    ValueError: row_index must lie in [0, 1)
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
        """Build a batch from one name string per entry (tests, small callers).

        The names are dictionary-encoded here, so `names` comes out sorted.

        Parameters
        ----------
        n_rows : int
            Number of states, >= 0.
        row_index : sequence of int, length m
            The state of each entry, in ``[0, n_rows)``.
        names_per_entry : sequence of str, length m
            Each entry's feature name, ``"group:key"``.
        values : sequence of float, length m
            Each entry's value, finite.

        Returns
        -------
        FeatureBatch
            The same entries, with int64 indices and float64 values.

        Raises
        ------
        ValueError
            As `FeatureBatch` does, e.g. for a row outside ``[0, n_rows)``.

        Examples
        --------
        >>> from python_encoders import FeatureBatch
        >>> names = ["sector:Energy", "factor:value", "sector:Energy"]
        >>> batch = FeatureBatch.from_records(2, [1, 0, 1], names, [0.25, 0.7, 0.5])
        >>> batch.names
        ('factor:value', 'sector:Energy')
        >>> batch.name_codes.tolist(), batch.values.dtype.name
        ([1, 0, 1], 'float64')
        """
        names, codes = np.unique(np.asarray(names_per_entry, dtype=object), return_inverse=True)
        return cls(
            n_rows=n_rows,
            row_index=np.asarray(row_index, dtype=np.int64),
            name_codes=np.asarray(codes, dtype=np.int64).reshape(-1),
            names=tuple(str(n) for n in names),
            values=np.asarray(values, dtype=np.float64),
        )


def split_name(name: str) -> tuple[str, str]:
    """Split a feature name into its group and key.

    Parameters
    ----------
    name : str
        ``"<group>:<key>"`` with the group in `FEATURE_GROUPS`; the key may contain ':'.

    Returns
    -------
    group : str
        The text before the first ':'.
    key : str
        The rest, after that ':'.

    Raises
    ------
    ValueError
        If `name` has no ':' or its group is not in `FEATURE_GROUPS`.

    Examples
    --------
    >>> from python_encoders import split_name
    >>> split_name("risk_metrics:SET_A:max_drawdown")
    ('risk_metrics', 'SET_A:max_drawdown')
    >>> split_name("liquidity:cash")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: feature name 'liquidity:cash' is not '<group>:<key>' with group in (...)
    """
    group, sep, key = name.partition(":")
    if not sep or group not in FEATURE_GROUPS:
        raise ValueError(
            f"feature name {name!r} is not '<group>:<key>' with group in {FEATURE_GROUPS}"
        )
    return group, key
