"""Model cards: the encoders, declared as data.

A card holds everything that decides a vector's bytes: the encoder kind, the output
dimension, the seed of the feature directions and the value transform. Its spec hash is
stored with every row in window_spec, so a reader can tell which definition produced a
vector; changing any of those fields means a new model_id, never an edit of a card.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from types import MappingProxyType

from .projection import ENCODERS
from .scales import CARD_DATA_DIR, Scales, load_scales
from .transforms import TRANSFORMS

# The kinds a card may name: the keys of the one registry, projection.ENCODERS.
KINDS = tuple(ENCODERS)

_CARDS_DATA: dict[str, dict] = {
    "num-portfolio-core-v1": {
        "kind": "keyed_projection",
        "dim": 384,
        "seed": 20250131,
        "transform": "signed_log1p",
        "description": (
            "Keyed deterministic linear projection: sum of signed_log1p(value) * w(name), "
            "w(name) = +-1/sqrt(384) from SHA-256 of (seed, feature name)."
        ),
    },
    "num-portfolio-core-v2": {
        "kind": "keyed_projection",
        "dim": 384,
        "seed": 20250131,
        "transform": "signed_log1p",
        # a file under card_data/, read into the card's Scales (part of the spec hash)
        "scales": "num-portfolio-core-v2.scales.json",
        "description": (
            "Keyed deterministic linear projection of scaled values: sum of "
            "signed_log1p(value) / s(name) * w(name), w as in v1, s(name) a robust spread of "
            "the feature's transformed values (fit-scales), no centering."
        ),
    },
    "num-portfolio-pad-v0": {
        "kind": "pad_to_dim",
        "dim": 384,
        "seed": 0,
        "transform": "identity",
        "description": (
            "Legacy parity with the old backfill script: raw values of risk_metrics, sector, "
            "factor, each in sorted-key order, zero-padded or truncated to 384."
        ),
    },
}


class UnknownModelError(KeyError, ValueError):
    """A model_id that no card declares (a `KeyError` and a `ValueError`).

    Examples
    --------
    >>> from python_encoders import UnknownModelError, get_card
    >>> try:
    ...     get_card("num-portfolio-core-v9")
    ... except ValueError as err:
    ...     print(type(err).__name__, isinstance(err, KeyError))
    UnknownModelError True
    """

    def __str__(self) -> str:  # KeyError would print the repr of the message
        return str(self.args[0])


def _unknown(model_id: str, field: str, value: object, known: Mapping[str, object]) -> str:
    return (
        f"card {model_id!r} has unknown {field} {value!r}; "
        f"known {field}s: {', '.join(sorted(known))}"
    )


@dataclass(frozen=True)
class ModelCard:
    """The definition of one numeric encoder: every field that decides a vector's bytes.

    Parameters
    ----------
    model_id : str
        The name stored with every vector, e.g. ``"num-portfolio-core-v1"``.
    kind : str
        The encoder, a key of `ENCODERS` (``"keyed_projection"`` or ``"pad_to_dim"``).
    dim : int
        Output dimension, > 0.
    seed : int
        Seed of the keyed feature directions (unused by ``"pad_to_dim"``).
    transform : str
        The value transform, a key of `TRANSFORMS`.
    description : str, default=""
        Free text; not part of the spec hash.
    scales : Scales or None, default=None
        Per-feature divisors of the transformed values (``keyed_projection`` only):
        ``t(value) / s(name)``. None for an unscaled card such as v1.

    Raises
    ------
    ValueError
        If `kind` or `transform` is not in its registry (the message names the card and
        the known ones), `dim` is not positive, or a card of another kind has scales.

    See Also
    --------
    get_card : The declared card of a model_id.

    Examples
    --------
    >>> from python_encoders import ModelCard, get_card
    >>> core = get_card("num-portfolio-core-v1")
    >>> core.kind, core.dim, core.transform
    ('keyed_projection', 384, 'signed_log1p')
    >>> fields = core.as_dict_without_hash()
    >>> ModelCard(**{**fields, "model_id": "num-portfolio-core-v9", "dim": 128}).dim
    128
    >>> ModelCard(**{**fields, "model_id": "x", "transform": "log1p"})
    Traceback (most recent call last):
    ...
    ValueError: card 'x' has unknown transform 'log1p'; known transforms: identity, signed_log1p
    """

    model_id: str
    kind: str
    dim: int
    seed: int
    transform: str
    description: str = ""
    scales: Scales | None = None

    def __post_init__(self) -> None:
        if self.kind not in ENCODERS:
            raise ValueError(_unknown(self.model_id, "kind", self.kind, ENCODERS))
        if self.transform not in TRANSFORMS:
            raise ValueError(_unknown(self.model_id, "transform", self.transform, TRANSFORMS))
        if self.dim <= 0:
            raise ValueError(f"card {self.model_id!r}: dim must be positive")
        if self.scales is not None and self.kind != "keyed_projection":
            raise ValueError(f"card {self.model_id!r}: only keyed_projection takes scales")

    @property
    def spec_hash(self) -> str:
        """SHA-256 (hex) of the fields that decide the bytes, as canonical JSON.

        Every field but `description`, as JSON with sorted keys and no spaces; `scales`
        only when the card has them (``{"default": s, "by_name": {...}}``), so an
        unscaled card's hash is what it was before scales existed.

        Examples
        --------
        >>> from python_encoders import ModelCard, get_card
        >>> core = get_card("num-portfolio-core-v1")
        >>> core.spec_hash[:16]
        '5cb605644232061a'
        >>> fields = core.as_dict_without_hash()
        >>> ModelCard(**{**fields, "description": "other words"}).spec_hash == core.spec_hash
        True
        >>> ModelCard(**{**fields, "seed": 1}).spec_hash == core.spec_hash
        False
        """
        spec = {k: v for k, v in self.as_dict_without_hash().items() if k != "description"}
        if self.scales is None:
            del spec["scales"]
        else:
            spec["scales"] = self.scales.as_spec()
        canonical = json.dumps(spec, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    def as_dict(self) -> dict:
        """The card's fields and its `spec_hash`, e.g. for JSON.

        Returns
        -------
        dict
            ``model_id, kind, dim, seed, transform, description, scales`` (None, or
            ``{"default": s, "by_name": {...}}``) and ``spec_hash``.

        Examples
        --------
        >>> from python_encoders import get_card
        >>> card = get_card("num-portfolio-pad-v0").as_dict()
        >>> card["kind"], card["transform"], len(card["spec_hash"])
        ('pad_to_dim', 'identity', 64)
        """
        scales = None if self.scales is None else self.scales.as_spec()
        return {**asdict(self), "scales": scales, "spec_hash": self.spec_hash}

    def as_dict_without_hash(self) -> dict:
        """The constructor's fields, e.g. to derive a new card: ``ModelCard(**{...})``.

        Returns
        -------
        dict
            ``model_id, kind, dim, seed, transform, description, scales`` (a `Scales`
            or None).

        Examples
        --------
        >>> from python_encoders import ModelCard, get_card
        >>> core = get_card("num-portfolio-core-v1")
        >>> ModelCard(**core.as_dict_without_hash()) == core
        True
        """
        return {field.name: getattr(self, field.name) for field in fields(self)}


def _card(model_id: str, declared: dict) -> ModelCard:
    """A declared card; a ``scales`` file name is read from card_data/."""
    if isinstance(declared.get("scales"), str):
        declared = {**declared, "scales": load_scales(CARD_DATA_DIR / declared["scales"])}
    return ModelCard(model_id=model_id, **declared)


# The declared cards, read-only: model_id -> ModelCard.
MODEL_CARDS: Mapping[str, ModelCard] = MappingProxyType(
    {model_id: _card(model_id, fields) for model_id, fields in _CARDS_DATA.items()}
)


def known_model_ids() -> tuple[str, ...]:
    """The model_ids of the declared cards, sorted.

    Returns
    -------
    tuple of str
        The keys of `MODEL_CARDS`, sorted.

    Examples
    --------
    >>> from python_encoders import known_model_ids
    >>> known_model_ids()
    ('num-portfolio-core-v1', 'num-portfolio-core-v2', 'num-portfolio-pad-v0')
    """
    return tuple(sorted(MODEL_CARDS))


def get_card(model_id: str) -> ModelCard:
    """The declared card of `model_id`.

    Parameters
    ----------
    model_id : str
        One of `known_model_ids()`.

    Returns
    -------
    ModelCard

    Raises
    ------
    UnknownModelError
        If no card declares `model_id`; the message lists the known model_ids.

    Examples
    --------
    >>> from python_encoders import get_card
    >>> get_card("num-portfolio-core-v1").kind
    'keyed_projection'
    >>> try:
    ...     get_card("v9")
    ... except KeyError as err:
    ...     print(err)  # doctest: +ELLIPSIS
    unknown model_id 'v9'; known model_ids: num-portfolio-core-v1, num-portfolio-core-v2, ...
    """
    try:
        return MODEL_CARDS[model_id]
    except KeyError:
        known = ", ".join(known_model_ids())
        raise UnknownModelError(
            f"unknown model_id {model_id!r}; known model_ids: {known}"
        ) from None


# Joint models combine numeric branches into one space. v1 has one branch and is the
# identity: the joint vector is the numeric vector, byte for byte; a later card can
# list more sources and another kind without changing the dbt model that reads it.
_JOINT_CARDS_DATA: dict[str, dict] = {
    "joint-portfolio-core-v1": {
        "joint_type": "PORTFOLIO_CORE_V0",
        "kind": "identity",
        "sources": ("num-portfolio-core-v1",),
        "dim": 384,
    },
}


@dataclass(frozen=True)
class JointCard:
    """The definition of one joint model: how numeric branches combine into one space.

    Parameters
    ----------
    model_id : str
        The joint model's name, e.g. ``"joint-portfolio-core-v1"``.
    joint_type : str
        The joint_type stored with every joint vector.
    kind : str
        How the sources combine; ``"identity"`` passes one source through, byte for byte.
    sources : tuple of str
        The model_ids of the numeric branches.
    dim : int
        Output dimension.

    See Also
    --------
    get_joint_card : The declared joint card of a model_id.

    Examples
    --------
    >>> from python_encoders import get_joint_card
    >>> card = get_joint_card("joint-portfolio-core-v1")
    >>> card.kind, card.sources, card.dim
    ('identity', ('num-portfolio-core-v1',), 384)
    """

    model_id: str
    joint_type: str
    kind: str
    sources: tuple[str, ...]
    dim: int

    @property
    def spec_hash(self) -> str:
        """SHA-256 (hex) of all the fields, as canonical JSON (sorted keys, no spaces).

        Examples
        --------
        >>> from python_encoders import get_joint_card
        >>> get_joint_card("joint-portfolio-core-v1").spec_hash[:16]
        'c2dff96885dec709'
        """
        canonical = json.dumps(asdict(self), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


# The declared joint cards, read-only: model_id -> JointCard.
JOINT_CARDS: Mapping[str, JointCard] = MappingProxyType(
    {mid: JointCard(model_id=mid, **fields) for mid, fields in _JOINT_CARDS_DATA.items()}
)


def get_joint_card(model_id: str) -> JointCard:
    """The declared joint card of `model_id`.

    Parameters
    ----------
    model_id : str
        One of the keys of `JOINT_CARDS`.

    Returns
    -------
    JointCard

    Raises
    ------
    UnknownModelError
        If no joint card declares `model_id`; the message lists the known ones.

    Examples
    --------
    >>> from python_encoders import get_joint_card
    >>> get_joint_card("joint-portfolio-core-v1").joint_type
    'PORTFOLIO_CORE_V0'
    >>> try:
    ...     get_joint_card("v9")
    ... except KeyError as err:
    ...     print(err)
    unknown joint model_id 'v9'; known joint model_ids: joint-portfolio-core-v1
    """
    try:
        return JOINT_CARDS[model_id]
    except KeyError:
        known = ", ".join(sorted(JOINT_CARDS))
        raise UnknownModelError(
            f"unknown joint model_id {model_id!r}; known joint model_ids: {known}"
        ) from None
