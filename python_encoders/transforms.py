"""Fixed value transforms t(value), applied before the encoder; a card names one.

signed_log1p compresses magnitudes while keeping sign and order: a feature measured in
days (`risk_window_days = 63`) would otherwise drown one measured in fractions
(`expected_volatility = 0.2`). It also bounds the output: any finite double, even
1e308, maps into [-710, 710], so a float32 vector built from it cannot overflow.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def signed_log1p(values: np.ndarray) -> np.ndarray:
    """Signed logarithm ``sign(x) * log1p(|x|)``, elementwise, in float64.

    Parameters
    ----------
    values : array_like of float
        Finite values.

    Returns
    -------
    ndarray of float64
        The transformed values, the shape of `values`: odd, strictly increasing and,
        for any finite double, within [-710, 710].

    Examples
    --------
    >>> import numpy as np
    >>> from python_encoders import signed_log1p
    >>> np.round(signed_log1p(np.array([-63.0, 0.0, 0.2, 1e308])), 4).tolist()
    [-4.1589, 0.0, 0.1823, 709.1962]
    """
    values = np.asarray(values, dtype=np.float64)
    return np.copysign(np.log1p(np.abs(values)), values)


def identity(values: np.ndarray) -> np.ndarray:
    """The values unchanged, as float64 (the legacy pad_to_dim card's transform).

    Parameters
    ----------
    values : array_like of float
        Finite values.

    Returns
    -------
    ndarray of float64
        `values`, the same shape.

    Examples
    --------
    >>> from python_encoders import identity
    >>> identity([63, -0.25]).tolist()
    [63.0, -0.25]
    """
    return np.asarray(values, dtype=np.float64)


# The registry of transforms: a card's `transform` must be one of these names (checked
# when the card is built), so a typo fails at construction, not at encode time.
TRANSFORMS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "signed_log1p": signed_log1p,
    "identity": identity,
}
