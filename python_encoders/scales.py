"""Per-feature scales: how a scaled card divides each transformed value, t(value) / s(name).

A scaled card (``num-portfolio-core-v2``) keeps its scales as data, in a JSON file under
``python_encoders/card_data/``: read at import, covered by the card's spec hash and
reviewable in a diff. The file is produced by ``portfolio-embeddings fit-scales`` over a
date range of the tidy features: per feature name, a robust spread of its transformed
values where present (`spread_of_quantiles`); a name the fit never saw (or saw fewer
than `MIN_OBSERVATIONS` times) gets the file's ``default_scale``, the median of the
fitted scales.

There is no centering: a missing key still has no term, and the encoder stays linear.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .transforms import signed_log1p

CARD_DATA_DIR = Path(__file__).resolve().parent / "card_data"
# Fewer present values than this and a name's spread is not trusted: default scale.
MIN_OBSERVATIONS = 20
# The quantiles the fit reads per name, as SQL quantile_disc (numpy "inverted_cdf").
QUANTILES = (0.01, 0.25, 0.75, 0.99)
# Width of a central range of a standard normal: the spreads are standard deviations.
_NORMAL_IQR = 1.3489795003921634  # q75 - q25
_NORMAL_98 = 4.6526957480816815  # q99 - q01
SIGNIFICANT_DIGITS = 6  # the file's precision: short lines, exact JSON round trip


@dataclass(frozen=True)
class Scales:
    """A scaled card's divisors: one per known feature name, and one for the others.

    Parameters
    ----------
    default : float
        The scale of a name absent from `by_name`, > 0.
    by_name : tuple of (str, float)
        ``(feature name, scale)`` pairs, names unique and sorted, scales > 0 and finite.

    Raises
    ------
    ValueError
        If a scale is not a positive finite number, or names repeat or are unsorted.

    Examples
    --------
    >>> from python_encoders.scales import Scales
    >>> scales = Scales(0.5, (("factor:value", 0.25), ("sector:Energy", 0.05)))
    >>> scales.of(["sector:Energy", "risk_metrics:beta"]).tolist()
    [0.05, 0.5]
    >>> Scales(1.0, (("b", 1.0), ("a", 1.0)))
    Traceback (most recent call last):
    ...
    ValueError: scale names must be unique and sorted
    """

    default: float
    by_name: tuple[tuple[str, float], ...]

    def __post_init__(self) -> None:
        values = np.array([self.default, *(s for _, s in self.by_name)], dtype=np.float64)
        if not (np.isfinite(values).all() and (values > 0).all()):
            raise ValueError("scales must be positive finite numbers")
        names = [name for name, _ in self.by_name]
        if names != sorted(set(names)):
            raise ValueError("scale names must be unique and sorted")

    @classmethod
    def from_mapping(cls, default: float, by_name: Mapping[str, float]) -> Scales:
        """Scales from a ``{name: scale}`` mapping (any order)."""
        return cls(float(default), tuple((str(n), float(by_name[n])) for n in sorted(by_name)))

    def of(self, names: Sequence[str]) -> np.ndarray:
        """The scale of each name, as float64 (a loop over a vocabulary, not entries)."""
        known = dict(self.by_name)
        return np.array([known.get(name, self.default) for name in names], dtype=np.float64)

    def as_spec(self) -> dict:
        """What the card's spec hash covers: ``{"default": s, "by_name": {name: s}}``."""
        return {"default": self.default, "by_name": dict(self.by_name)}


def rounded(value: float) -> float:
    """`value` to `SIGNIFICANT_DIGITS` significant digits (what the file keeps)."""
    return float(f"{value:.{SIGNIFICANT_DIGITS}g}")


def spread_of_quantiles(quantiles: np.ndarray) -> np.ndarray:
    """Robust spread of each name's transformed values from its raw-value quantiles.

    t is increasing, so the quantiles of t(value) are t of the value quantiles. The
    spread is the interquartile range of t divided by 1.349 (a standard deviation for
    normal data); where that is 0 (e.g. a flag set in under a quarter of the states),
    the 1%-99% range divided by 4.653; where that is 0 too, NaN (a constant feature).

    Parameters
    ----------
    quantiles : ndarray of float, shape (n_names, 4)
        Per name, the raw values' quantiles at `QUANTILES` (0.01, 0.25, 0.75, 0.99).

    Returns
    -------
    ndarray of float64, shape (n_names,)
        The spreads, NaN where no range is positive.

    Examples
    --------
    >>> import numpy as np
    >>> from python_encoders.scales import spread_of_quantiles
    >>> q = np.array([[0.0, 0.1, 0.3, 0.5], [0.0, 0.0, 0.0, 1.0], [63.0, 63.0, 63.0, 63.0]])
    >>> np.round(spread_of_quantiles(q), 4).tolist()
    [0.1238, 0.149, nan]
    """
    t = signed_log1p(np.asarray(quantiles, dtype=np.float64))
    iqr = (t[:, 2] - t[:, 1]) / _NORMAL_IQR
    wide = (t[:, 3] - t[:, 0]) / _NORMAL_98
    return np.where(iqr > 0, iqr, np.where(wide > 0, wide, np.nan))


def fit_scales(
    names: Sequence[str], counts: np.ndarray, quantiles: np.ndarray
) -> tuple[Scales, list[str]]:
    """The scales of a fit: per name its rounded spread, the default their median.

    Parameters
    ----------
    names : sequence of str
        Feature names.
    counts : ndarray of int, shape (n_names,)
        How many present values each name had in the fit's range.
    quantiles : ndarray of float, shape (n_names, 4)
        Their raw-value quantiles at `QUANTILES`.

    Returns
    -------
    scales : Scales
        The fitted names (at least `MIN_OBSERVATIONS` values and a positive spread) and
        the default scale, the median of their scales (1.0 when none was fitted).
    left_out : list of str
        The names that get the default scale, sorted.

    Examples
    --------
    >>> import numpy as np
    >>> from python_encoders.scales import fit_scales
    >>> q = np.array([[0.0, 0.1, 0.3, 0.5], [0.0, 0.2, 0.4, 0.9], [5.0, 5.0, 5.0, 5.0]])
    >>> scales, left_out = fit_scales(["a", "b", "c"], np.array([50, 10, 80]), q)
    >>> scales.by_name, scales.default, left_out
    ((('a', 0.123837),), 0.123837, ['b', 'c'])
    """
    spreads = spread_of_quantiles(quantiles)
    usable = (np.asarray(counts) >= MIN_OBSERVATIONS) & np.isfinite(spreads)
    fitted = {name: rounded(s) for name, s, ok in zip(names, spreads, usable, strict=True) if ok}
    default = rounded(float(np.median(list(fitted.values())))) if fitted else 1.0
    left_out = sorted(name for name, ok in zip(names, usable, strict=True) if not ok)
    return Scales.from_mapping(default, fitted), left_out


def scales_text(scales: Scales, provenance: Mapping[str, object]) -> str:
    """The scales file: JSON, one name per line, sorted, ending in a newline.

    `provenance` (the fit's range, counts, estimator) is kept for the reader; only
    ``default_scale`` and ``scales`` decide the bytes and enter the spec hash.

    Examples
    --------
    >>> from python_encoders.scales import Scales, scales_text
    >>> print(scales_text(Scales(0.5, (("sector:Energy", 0.05),)), {"start_date": "2025-01-31"}))
    {
      "default_scale": 0.5,
      "fit": {
        "start_date": "2025-01-31"
      },
      "scales": {
        "sector:Energy": 0.05
      }
    }
    <BLANKLINE>
    """
    document = {"default_scale": scales.default, "fit": dict(provenance),
                "scales": dict(scales.by_name)}  # fmt: skip
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def load_scales(path: Path | str) -> Scales:
    """The `Scales` of a scales file (as `scales_text` writes it).

    Raises
    ------
    ValueError
        If the file lacks ``default_scale`` or ``scales``, or a scale is not positive;
        the message names the file.

    Examples
    --------
    >>> from python_encoders.scales import CARD_DATA_DIR, load_scales
    >>> scales = load_scales(CARD_DATA_DIR / "num-portfolio-core-v2.scales.json")
    >>> len(scales.by_name) > 20, scales.default > 0
    (True, True)
    """
    try:
        document = json.loads(Path(path).read_text())
        return Scales.from_mapping(document["default_scale"], document["scales"])
    except (KeyError, TypeError, ValueError) as err:
        raise ValueError(f"{path}: not a scales file ({err})") from None
