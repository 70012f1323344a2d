"""Model cards: the encoders, declared as data.

A card says everything that decides a vector's bytes: the kind of encoder, the output
dimension, the seed of the feature directions and the value transform. Its spec hash
(SHA-256 of those fields as canonical JSON) is stored with every row in window_spec,
so a reader can tell which definition produced a vector. Changing any of those fields
means a new model_id, never an edit of an existing card.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from types import MappingProxyType

DEFAULT_MODEL_ID = "num-portfolio-core-v1"

KINDS = ("keyed_projection", "pad_to_dim")

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
    """A model_id that no card declares."""

    def __str__(self) -> str:  # KeyError would print the repr of the message
        return str(self.args[0])


@dataclass(frozen=True)
class ModelCard:
    model_id: str
    kind: str
    dim: int
    seed: int
    transform: str
    description: str = ""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"card {self.model_id!r}: kind must be one of {KINDS}")
        if self.dim <= 0:
            raise ValueError(f"card {self.model_id!r}: dim must be positive")

    @property
    def spec_hash(self) -> str:
        """SHA-256 (hex) of the fields that decide the bytes (not the description)."""
        spec = {k: v for k, v in asdict(self).items() if k != "description"}
        canonical = json.dumps(spec, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    def as_dict(self) -> dict:
        return {**asdict(self), "spec_hash": self.spec_hash}

    def as_dict_without_hash(self) -> dict:
        """The constructor's fields, e.g. to derive a new card: ModelCard(**{...})."""
        return asdict(self)


MODEL_CARDS: Mapping[str, ModelCard] = MappingProxyType(
    {model_id: ModelCard(model_id=model_id, **fields) for model_id, fields in _CARDS_DATA.items()}
)


def known_model_ids() -> tuple[str, ...]:
    return tuple(sorted(MODEL_CARDS))


def get_card(model_id: str) -> ModelCard:
    """The card of `model_id`; an unknown id raises UnknownModelError naming the known ones."""
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
    model_id: str
    joint_type: str
    kind: str
    sources: tuple[str, ...]
    dim: int

    @property
    def spec_hash(self) -> str:
        canonical = json.dumps(asdict(self), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


JOINT_CARDS: Mapping[str, JointCard] = MappingProxyType(
    {mid: JointCard(model_id=mid, **fields) for mid, fields in _JOINT_CARDS_DATA.items()}
)


def get_joint_card(model_id: str) -> JointCard:
    try:
        return JOINT_CARDS[model_id]
    except KeyError:
        known = ", ".join(sorted(JOINT_CARDS))
        raise UnknownModelError(
            f"unknown joint model_id {model_id!r}; known joint model_ids: {known}"
        ) from None
