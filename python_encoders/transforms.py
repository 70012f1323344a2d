"""Fixed value transforms t(value), applied before the projection.

signed_log1p compresses magnitudes while keeping sign and order: a feature measured in
days (`risk_window_days = 63`) would otherwise drown one measured in fractions
(`expected_volatility = 0.2`). It also bounds the output: any finite double, even
1e308, maps into [-710, 710], so a float32 vector built from it cannot overflow.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def signed_log1p(values: np.ndarray) -> np.ndarray:
    """sign(x) * log1p(|x|), elementwise, in float64."""
    values = np.asarray(values, dtype=np.float64)
    return np.copysign(np.log1p(np.abs(values)), values)


def identity(values: np.ndarray) -> np.ndarray:
    return np.asarray(values, dtype=np.float64)


TRANSFORMS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "signed_log1p": signed_log1p,
    "identity": identity,
}
