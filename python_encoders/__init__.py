"""python_encoders: portfolio features -> fixed-size numeric embeddings (numpy only).

    >>> from python_encoders import FeatureBatch, encode, get_card
    >>> card = get_card("num-portfolio-core-v1")
    >>> names = ["risk_metrics:beta", "sector:Energy"]
    >>> batch = FeatureBatch.from_records(1, [0, 0], names, [1.1, 0.3])
    >>> encode(card, batch).shape
    (1, 384)

Cards (`MODEL_CARDS`) name an encoder kind from the `ENCODERS` registry and a value
transform from `TRANSFORMS`; a card naming anything else fails when it is built:

    >>> from python_encoders import ENCODERS, MODEL_CARDS, TRANSFORMS
    >>> [(c.kind in ENCODERS, c.transform in TRANSFORMS) for c in MODEL_CARDS.values()]
    [(True, True), (True, True), (True, True)]

A scaled card (``num-portfolio-core-v2``) also carries per-feature scales, data read
from ``card_data/`` (`python_encoders.scales`).

No dbt, pandas or pyarrow here: the dbt Python model is a thin caller, and the same
code runs wherever numpy does.
"""

from .batch import FEATURE_GROUPS, FeatureBatch, split_name
from .cards import (
    JOINT_CARDS,
    MODEL_CARDS,
    JointCard,
    ModelCard,
    UnknownModelError,
    get_card,
    get_joint_card,
    known_model_ids,
)
from .projection import (
    ENCODERS,
    as_le_float32,
    encode,
    feature_directions,
    iter_encode,
    reference_encode_one,
)
from .transforms import TRANSFORMS, identity, signed_log1p

__all__ = [
    "ENCODERS",
    "FEATURE_GROUPS",
    "MODEL_CARDS",
    "TRANSFORMS",
    "FeatureBatch",
    "JOINT_CARDS",
    "JointCard",
    "get_joint_card",
    "ModelCard",
    "UnknownModelError",
    "as_le_float32",
    "encode",
    "feature_directions",
    "get_card",
    "identity",
    "iter_encode",
    "known_model_ids",
    "reference_encode_one",
    "signed_log1p",
    "split_name",
]
