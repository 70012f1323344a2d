"""python_encoders: properties of the encoders and golden bytes (numpy only, no dbt)."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from python_encoders import (
    DEFAULT_MODEL_ID,
    MODEL_CARDS,
    FeatureBatch,
    ModelCard,
    UnknownModelError,
    encode,
    feature_directions,
    get_card,
    iter_encode,
    known_model_ids,
    reference_encode_one,
    signed_log1p,
)

CORE = get_card(DEFAULT_MODEL_ID)
PAD = get_card("num-portfolio-pad-v0")

GOLDEN_PORTFOLIOS = [
    {
        "risk_metrics:expected_volatility": 0.2,
        "risk_metrics:risk_window_days": 63.0,
        "risk_metrics:is_leveraged": 1.0,
        "risk_metrics:SET_A:max_drawdown": -0.31,
        "sector:Energy": 0.25,
        "factor:momentum": -1.2,
    },
    {"risk_metrics:var_95": 0.04, "sector:Financials": 0.5, "factor:value": 0.7},
    {},
]


def batch_of(portfolios: list[dict[str, float]]) -> FeatureBatch:
    rows = [i for i, p in enumerate(portfolios) for _ in p]
    names = [n for p in portfolios for n in p]
    values = [v for p in portfolios for v in p.values()]
    return FeatureBatch.from_records(len(portfolios), rows, names, values)


def sha(vectors: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(vectors, dtype="<f4").tobytes()).hexdigest()


def random_portfolios(seed: int, n: int, vocabulary: int = 40) -> list[dict[str, float]]:
    rng = np.random.default_rng(seed)
    groups = ["risk_metrics", "sector", "factor"]
    names = [f"{groups[i % 3]}:key_{i:03d}" for i in range(vocabulary)]
    portfolios = []
    for _ in range(n):
        chosen = rng.choice(names, size=rng.integers(0, 25), replace=False)
        portfolios.append(
            {str(k): float(rng.normal() * 10.0 ** rng.integers(-3, 4)) for k in chosen}
        )
    return portfolios


# Pinned bytes: a change here changes every stored vector and needs a new model_id.
GOLDEN_SHA256 = {
    "num-portfolio-core-v1": "e1b061dd9a50343e01ac8a352dfa7b2cd5964c70990c83339efc115b1b002254",
    "num-portfolio-pad-v0": "a22d0b395332c2d3753f5463827b977dce1c414bcefc9761dba2fa114e0098b2",
}
GOLDEN_CORE_FIRST4 = "[-0.294751  0.152487 -0.21428  -0.251567]"
CORE_SPEC_HASH = "5cb605644232061a66a4944f58f51a1cc0f52251562ff2253383635a9ac833dc"


@pytest.mark.parametrize("model_id", sorted(GOLDEN_SHA256))
def test_golden_vectors_are_pinned_by_bytes(model_id):
    vectors = encode(get_card(model_id), batch_of(GOLDEN_PORTFOLIOS))
    assert vectors.dtype == np.dtype("<f4") and vectors.shape == (3, 384)
    assert sha(vectors) == GOLDEN_SHA256[model_id]


def test_golden_core_first_values():
    vectors = encode(CORE, batch_of(GOLDEN_PORTFOLIOS))
    assert np.array2string(vectors[0, :4], precision=6) == GOLDEN_CORE_FIRST4


def test_spec_hash_is_pinned_and_tracks_every_field():
    assert CORE.spec_hash == CORE_SPEC_HASH
    for field, value in [("dim", 128), ("seed", 1), ("transform", "identity")]:
        changed = ModelCard(**{**CORE.as_dict_without_hash(), field: value})
        assert changed.spec_hash != CORE.spec_hash
    described = ModelCard(**{**CORE.as_dict_without_hash(), "description": "other words"})
    assert described.spec_hash == CORE.spec_hash


def test_deterministic_across_calls():
    batch = batch_of(random_portfolios(1, 50))
    assert sha(encode(CORE, batch)) == sha(encode(CORE, batch))


@pytest.mark.parametrize("card", [CORE, PAD], ids=lambda c: c.model_id)
def test_entry_order_does_not_matter(card):
    batch = batch_of(random_portfolios(2, 30))
    order = np.random.default_rng(0).permutation(len(batch.values))
    shuffled = FeatureBatch(
        batch.n_rows,
        batch.row_index[order],
        batch.name_codes[order],
        batch.names,
        batch.values[order],
    )
    assert sha(encode(card, shuffled)) == sha(encode(card, batch))


def test_new_key_elsewhere_changes_no_other_vector():
    portfolios = random_portfolios(3, 20)
    before = encode(CORE, batch_of(portfolios))
    portfolios[7] = {**portfolios[7], "sector:Brand New Sector": 0.3}
    after = encode(CORE, batch_of(portfolios))
    others = [i for i in range(20) if i != 7]
    assert sha(after[others]) == sha(before[others])
    assert not np.array_equal(after[7], before[7])


def test_linear_over_disjoint_features_before_the_transform():
    a = {"risk_metrics:a": 0.5, "sector:b": -2.0}
    b = {"factor:c": 3.0, "risk_metrics:d": 0.01}
    z = encode(CORE, batch_of([a, b, {**a, **b}]))
    np.testing.assert_allclose(z[2], z[0] + z[1], rtol=1e-6, atol=1e-6)


def test_booleans_are_one_and_zero():
    base = {"risk_metrics:beta": 1.1}
    z = encode(CORE, batch_of([base, {**base, "risk_metrics:is_leveraged": 0.0}]))
    assert sha(z[0]) == sha(z[1])  # False contributes t(0) = 0, the same as absent
    z_true = encode(CORE, batch_of([{"risk_metrics:is_leveraged": 1.0}]))[0]
    expected = signed_log1p(1.0) * feature_directions(CORE, ["risk_metrics:is_leveraged"])[0]
    np.testing.assert_allclose(z_true, expected, rtol=1e-6)


@pytest.mark.parametrize("card", [CORE, PAD], ids=lambda c: c.model_id)
@pytest.mark.parametrize("chunk_rows", [7, 65_536])
def test_batch_equals_reference_row_by_row(card, chunk_rows):
    portfolios = random_portfolios(4, 40)
    vectors = encode(card, batch_of(portfolios), chunk_rows=chunk_rows)
    for i, features in enumerate(portfolios):
        np.testing.assert_allclose(vectors[i], reference_encode_one(card, features), rtol=2e-6)
    assert not vectors[[i for i, p in enumerate(portfolios) if not p]].any()


def test_sparse_path_matches_dense_path(monkeypatch):
    from python_encoders import projection

    batch = batch_of(random_portfolios(5, 60))
    dense = encode(CORE, batch, chunk_rows=16)
    monkeypatch.setattr(projection, "DENSE_BUDGET_BYTES", 0)
    assert sha(encode(CORE, batch, chunk_rows=16)) == sha(dense)


def test_iter_encode_yields_consecutive_chunks():
    batch = batch_of(random_portfolios(6, 25))
    chunks = list(iter_encode(CORE, batch, chunk_rows=10))
    assert [(a, b) for a, b, _ in chunks] == [(0, 10), (10, 20), (20, 25)]
    assert sha(np.concatenate([v for _, _, v in chunks])) == sha(encode(CORE, batch))


def old_script_pad_vector(report: dict[str, dict[str, float]], dim: int = 384) -> np.ndarray:
    """How the old backfill script built its vector, written as it was."""
    values = []
    for group in ("risk_metrics", "sector", "factor"):
        column = report.get(group) or {}
        for key in sorted(column):
            values.append(float(column[key]))
    values = values[:dim] + [0.0] * max(0, dim - len(values))
    return np.array(values, dtype=np.float32)


def test_pad_to_dim_matches_the_old_script():
    reports = [
        {
            "factor": {"value": 0.7, "momentum": -1.2},
            "risk_metrics": {"var_95": 0.04, "SET_A:max_drawdown": -0.3, "beta": 1.1},
            "sector": {"Utilities": 0.1, "Energy": 0.25},
        },
        {"risk_metrics": {f"m{i:03d}": float(i) for i in range(400)}},  # truncated at 384
        {"sector": {"Energy": 1.0}},
    ]
    portfolios = [
        {f"{g}:{k}": v for g, column in report.items() for k, v in column.items()}
        for report in reports
    ]
    vectors = encode(PAD, batch_of(portfolios))
    for vector, report in zip(vectors, reports, strict=True):
        assert vector.tobytes() == old_script_pad_vector(report).tobytes()
    assert vectors[1, 383] == 383.0 and vectors[2, 1:].sum() == 0.0


def test_extreme_values_stay_finite():
    z = encode(CORE, batch_of([{"risk_metrics:a": 1e308, "risk_metrics:b": -1e308}] * 2))
    assert np.isfinite(z).all()
    assert np.isfinite(signed_log1p(np.array([1e308, -1e308]))).all()


def test_directions_are_keyed_rademacher():
    names = [f"risk_metrics:k{i}" for i in range(200)]
    w = feature_directions(CORE, names)
    assert w.shape == (200, 384)
    assert set(np.unique(np.abs(w))) == {1 / np.sqrt(384)}
    # a name's direction does not depend on the rest of the vocabulary
    np.testing.assert_array_equal(feature_directions(CORE, names[5:6])[0], w[5])
    other_seed = ModelCard(**{**CORE.as_dict_without_hash(), "seed": 1})
    assert not np.array_equal(feature_directions(other_seed, names[:1]), w[:1])
    cosines = (w @ w.T)[np.triu_indices(200, 1)]
    assert abs(cosines.mean()) < 0.01 and np.abs(cosines).max() < 0.3


def test_unknown_model_id_lists_known_ones():
    with pytest.raises(UnknownModelError) as err:
        get_card("num-portfolio-core-v9")
    message = str(err.value)
    assert "num-portfolio-core-v9" in message
    for model_id in known_model_ids():
        assert model_id in message
    assert set(known_model_ids()) == set(MODEL_CARDS)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(row_index=[0, 5]), "row_index must lie"),
        (dict(row_index=[0]), "same length"),
        (dict(values=[1.0, float("nan")]), "finite"),
        (dict(name_codes=[0, 3]), "name_codes must lie"),
    ],
)
def test_feature_batch_validation(kwargs, message):
    fields = dict(row_index=[0, 1], name_codes=[0, 1], values=[1.0, 2.0])
    fields.update(kwargs)
    with pytest.raises(ValueError, match=message):
        FeatureBatch(
            n_rows=2,
            row_index=np.asarray(fields["row_index"]),
            name_codes=np.asarray(fields["name_codes"]),
            names=("risk_metrics:a", "sector:b"),
            values=np.asarray(fields["values"], dtype=float),
        )
