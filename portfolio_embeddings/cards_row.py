"""The run's model cards as a one-row Arrow table, for SQL to compare stored rows with."""

from __future__ import annotations

import pyarrow as pa

from python_encoders import get_card, get_joint_card


def encoder_cards_row(model_id: str, joint_model_id: str) -> pa.Table:
    """The numeric card and the joint card of a run; an unknown id raises
    UnknownModelError, naming the known ones.

    `joint_follows` says whether the joint card's source is this run's numeric card:
    only then does the run re-encode (or remove) joint rows.
    """
    card = get_card(model_id)
    joint = get_joint_card(joint_model_id)
    return pa.table(
        {
            "model_id": [card.model_id],
            "encoder_kind": [card.kind],
            "encoder_spec_hash": [card.spec_hash],
            "joint_model_id": [joint.model_id],
            "joint_type": [joint.joint_type],
            "joint_spec_hash": [joint.spec_hash],
            "joint_follows": [joint.sources == (card.model_id,)],
        }
    )
