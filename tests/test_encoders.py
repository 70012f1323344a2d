"""python_encoders: properties of the encoders and golden bytes (numpy only, no dbt)."""

from __future__ import annotations

import hashlib
import json
import math
import struct

import numpy as np
import pytest

from python_encoders import (
    ENCODERS,
    FEATURE_GROUPS,
    MODEL_CARDS,
    TRANSFORMS,
    FeatureBatch,
    ModelCard,
    UnknownModelError,
    as_le_float32,
    encode,
    feature_directions,
    get_card,
    iter_encode,
    known_model_ids,
    reference_encode_one,
    signed_log1p,
)
from python_encoders.cards import KINDS

CORE = get_card("num-portfolio-core-v1")
PAD = get_card("num-portfolio-pad-v0")

GOLDEN_PORTFOLIOS = [
    {
        "risk_metrics:expected_volatility": 0.2,
        "risk_metrics:risk_window_days": 63.0,
        "risk_metrics:is_leveraged": 1.0,  # a JSON true
        "risk_metrics:SET_A:max_drawdown": -0.31,  # a dynamic key, ':' inside the key
        "sector:Energy": 0.25,
        "factor:momentum": -1.2,
    },
    {"risk_metrics:var_95": 0.04, "sector:Financials": 0.5, "factor:value": 0.7},
    {},
]

# Pinned bytes: a change here changes every stored vector and needs a new model_id.
# SHA-256 of the little-endian float32 bytes: of the whole (3, 384) batch, then per row.
GOLDEN_BATCH_SHA256 = {
    "num-portfolio-core-v1": "e1b061dd9a50343e01ac8a352dfa7b2cd5964c70990c83339efc115b1b002254",
    "num-portfolio-pad-v0": "a22d0b395332c2d3753f5463827b977dce1c414bcefc9761dba2fa114e0098b2",
}
GOLDEN_ROW_SHA256 = {
    "num-portfolio-core-v1": [
        "6c042a99105d2bab63ebcddf23fcb2a305ae95e5576c07b4ad6d4dce2ede69b3",
        "37129708ae72fc6461594643a2a9350db0c7e11f88a77229156171a8facd77c7",
    ],
    "num-portfolio-pad-v0": [
        "5acf45a11c60ed17d77902497a32bf8c217f77b95cc5f60206a2f7d9016917fd",
        "3f1828182474b54cf0850920ecbe016122ddac0d1d5c0abf121f4cb8dc7d1a0b",
    ],
}
# The first 4 values, exactly (each is a float32 written as the double it widens to).
GOLDEN_FIRST4 = {
    "num-portfolio-core-v1": [
        [-0.29475146532058716, 0.15248724818229675, -0.2142798751592636, -0.25156694650650024],
        [0.045768339186906815, -0.04977128654718399, -0.04977128654718399, -0.004385731182992458],
    ],
    "num-portfolio-pad-v0": [
        # SET_A:max_drawdown < expected_volatility < is_leveraged < risk_window_days
        [-0.3100000023841858, 0.20000000298023224, 1.0, 63.0],
        [0.03999999910593033, 0.5, 0.699999988079071, 0.0],
    ],
}
CORE_SPEC_HASH = "5cb605644232061a66a4944f58f51a1cc0f52251562ff2253383635a9ac833dc"


def batch_of(portfolios: list[dict[str, float]], shuffle_seed: int | None = None) -> FeatureBatch:
    rows = [i for i, p in enumerate(portfolios) for _ in p]
    names = [n for p in portfolios for n in p]
    values = [v for p in portfolios for v in p.values()]
    if shuffle_seed is not None:
        order = np.random.default_rng(shuffle_seed).permutation(len(rows))
        rows, names, values = ([x[i] for i in order] for x in (rows, names, values))
    return FeatureBatch.from_records(len(portfolios), rows, names, values)


def sha(vectors: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(vectors, dtype="<f4").tobytes()).hexdigest()


def random_portfolios(seed: int, n: int, vocabulary: int = 40) -> list[dict[str, float]]:
    """Random portfolios over a small vocabulary, values over 7 orders of magnitude;
    every fifth portfolio has no feature at all."""
    rng = np.random.default_rng(seed)
    names = [f"{FEATURE_GROUPS[i % 3]}:key_{i:03d}" for i in range(vocabulary)]
    portfolios = []
    for i in range(n):
        size = 0 if i % 5 == 3 else int(rng.integers(1, 25))
        chosen = rng.choice(names, size=size, replace=False)
        portfolios.append(
            {str(k): float(rng.normal() * 10.0 ** rng.integers(-3, 4)) for k in chosen}
        )
    return portfolios


# --- golden bytes and the spec written out plainly -------------------------------------


@pytest.mark.parametrize("model_id", sorted(GOLDEN_BATCH_SHA256))
def test_golden_vectors_are_pinned_by_bytes(model_id):
    vectors = encode(get_card(model_id), batch_of(GOLDEN_PORTFOLIOS))
    assert vectors.dtype == np.dtype("<f4") and vectors.shape == (3, 384)
    assert vectors.flags.c_contiguous
    assert sha(vectors) == GOLDEN_BATCH_SHA256[model_id]
    for i in range(2):
        assert sha(vectors[i]) == GOLDEN_ROW_SHA256[model_id][i]
        assert vectors[i, :4].tolist() == GOLDEN_FIRST4[model_id][i]
    assert not vectors[2].any()  # no features, zero vector


def test_core_follows_the_spec_in_plain_python():
    """The golden row 0 recomputed from DESIGN.md 5 with hashlib, math and struct only:
    checks the spec itself, not just agreement between two numpy code paths."""
    dim, seed = 384, 20250131
    z = [0.0] * dim
    for name, value in GOLDEN_PORTFOLIOS[0].items():
        digest = b"".join(
            hashlib.sha256(f"{seed}\x1f{name}\x1f{block}".encode()).digest() for block in (0, 1)
        )
        t = math.copysign(math.log1p(abs(value)), value)
        for j in range(dim):
            bit = (digest[j // 8] >> (j % 8)) & 1  # little-endian bit order
            z[j] += t * (1 - 2 * bit) / math.sqrt(dim)
    expected = struct.pack(f"<{dim}f", *z)
    assert encode(CORE, batch_of(GOLDEN_PORTFOLIOS))[0].tobytes() == expected


def test_spec_hash_is_pinned_and_tracks_every_field():
    canonical = (
        '{"dim":384,"kind":"keyed_projection","model_id":"num-portfolio-core-v1",'
        '"seed":20250131,"transform":"signed_log1p"}'
    )
    assert CORE.spec_hash == hashlib.sha256(canonical.encode()).hexdigest() == CORE_SPEC_HASH
    fields = {k: v for k, v in CORE.as_dict().items() if k != "spec_hash"}
    for field, value in [
        ("model_id", "x"),
        ("kind", "pad_to_dim"),
        ("dim", 128),
        ("seed", 1),
        ("transform", "identity"),
    ]:
        assert ModelCard(**{**fields, field: value}).spec_hash != CORE.spec_hash
    described = ModelCard(**{**fields, "description": "other words"})
    assert described.spec_hash == CORE.spec_hash


def test_cards_are_the_declared_ones():
    assert known_model_ids() == (
        "num-portfolio-core-v1",
        "num-portfolio-core-v2",
        "num-portfolio-pad-v0",
    )
    assert set(MODEL_CARDS) == set(known_model_ids())
    assert (CORE.kind, CORE.dim, CORE.seed, CORE.transform) == (
        "keyed_projection",
        384,
        20250131,
        "signed_log1p",
    )
    assert (PAD.kind, PAD.dim, PAD.seed, PAD.transform) == ("pad_to_dim", 384, 0, "identity")
    assert json.loads(json.dumps(CORE.as_dict()))["spec_hash"] == CORE.spec_hash


def test_unknown_model_id_lists_known_ones():
    with pytest.raises(UnknownModelError) as err:
        get_card("num-portfolio-core-v9")
    assert str(err.value) == (
        "unknown model_id 'num-portfolio-core-v9'; "
        "known model_ids: num-portfolio-core-v1, num-portfolio-core-v2, num-portfolio-pad-v0"
    )
    assert isinstance(err.value, KeyError) and isinstance(err.value, ValueError)


def test_unknown_transform_fails_at_construction():
    fields = {**CORE.as_dict_without_hash(), "model_id": "num-portfolio-core-v2"}
    with pytest.raises(ValueError) as err:
        ModelCard(**{**fields, "transform": "log1p"})
    assert str(err.value) == (
        "card 'num-portfolio-core-v2' has unknown transform 'log1p'; "
        "known transforms: identity, signed_log1p"
    )


def test_unknown_kind_fails_at_construction():
    fields = {**CORE.as_dict_without_hash(), "model_id": "num-portfolio-core-v2"}
    with pytest.raises(ValueError) as err:
        ModelCard(**{**fields, "kind": "gaussian_projection"})
    assert str(err.value) == (
        "card 'num-portfolio-core-v2' has unknown kind 'gaussian_projection'; "
        "known kinds: keyed_projection, pad_to_dim"
    )


def test_registry_keys_are_what_cards_may_use():
    assert sorted(ENCODERS) == ["keyed_projection", "pad_to_dim"] and tuple(ENCODERS) == KINDS
    assert sorted(TRANSFORMS) == ["identity", "signed_log1p"]
    assert all(c.kind in ENCODERS and c.transform in TRANSFORMS for c in MODEL_CARDS.values())
    # every (kind, transform) pair builds a card that encodes as its plain reference does
    fields = CORE.as_dict_without_hash()
    batch = batch_of(GOLDEN_PORTFOLIOS)
    for kind in ENCODERS:
        for transform in TRANSFORMS:
            card = ModelCard(**{**fields, "kind": kind, "transform": transform})
            vectors = encode(card, batch)
            assert vectors.shape == (3, 384) and not vectors[2].any()
            for i in range(2):
                expected = reference_encode_one(card, GOLDEN_PORTFOLIOS[i])
                np.testing.assert_allclose(vectors[i], expected, rtol=2e-6)


def test_encode_dispatches_through_the_kind_registry(monkeypatch):
    def ones(card, batch, chunk_rows):
        for start in range(0, batch.n_rows, chunk_rows):
            stop = min(start + chunk_rows, batch.n_rows)
            yield start, stop, np.ones((stop - start, card.dim))

    monkeypatch.setitem(ENCODERS, "ones", ones)
    card = ModelCard(**{**CORE.as_dict_without_hash(), "model_id": "test-ones", "kind": "ones"})
    vectors = encode(card, batch_of(GOLDEN_PORTFOLIOS), chunk_rows=2)
    assert vectors.dtype == np.dtype("<f4") and vectors.tolist() == [[1.0] * 384] * 3
    chunks = iter_encode(card, batch_of(GOLDEN_PORTFOLIOS), chunk_rows=2)
    assert [(a, b) for a, b, _ in chunks] == [(0, 2), (2, 3)]


# --- keyed_projection properties --------------------------------------------------------


def test_deterministic_across_calls():
    batch = batch_of(random_portfolios(1, 50))
    first = encode(CORE, batch).tobytes()
    assert encode(CORE, batch).tobytes() == first
    assert encode(CORE, batch_of(random_portfolios(1, 50))).tobytes() == first


@pytest.mark.parametrize("card", [CORE, PAD], ids=lambda c: c.model_id)
def test_entry_order_does_not_matter(card):
    portfolios = random_portfolios(2, 30)
    assert sha(encode(card, batch_of(portfolios, shuffle_seed=0))) == sha(
        encode(card, batch_of(portfolios))
    )


def test_new_key_elsewhere_changes_no_other_vector():
    portfolios = random_portfolios(3, 20)
    before = encode(CORE, batch_of(portfolios))
    portfolios[7] = {**portfolios[7], "sector:Brand New Sector": 0.3}
    after_batch = batch_of(portfolios)
    assert "sector:Brand New Sector" in after_batch.names  # the vocabulary really grew
    after = encode(CORE, after_batch)
    others = [i for i in range(20) if i != 7]
    assert sha(after[others]) == sha(before[others])
    assert not np.array_equal(after[7], before[7])


def test_linear_over_disjoint_features():
    # Linear in the transformed values: disjoint feature sets add up.
    a = {"risk_metrics:a": 0.5, "sector:b": -2.0, "risk_metrics:risk_window_days": 63.0}
    b = {"factor:c": 3.0, "risk_metrics:d": 0.01}
    z = encode(CORE, batch_of([a, b, {**a, **b}]))
    np.testing.assert_allclose(z[2], z[0] + z[1], rtol=1e-6, atol=1e-6)


def test_duplicate_entries_add_up():
    batch = FeatureBatch.from_records(1, [0, 0], ["sector:x", "sector:x"], [0.5, 2.0])
    w = feature_directions(CORE, ["sector:x"])[0]
    expected = (signed_log1p(0.5) + signed_log1p(2.0)) * w
    np.testing.assert_allclose(encode(CORE, batch)[0], expected, rtol=1e-6)


def test_booleans_are_one_and_zero():
    base = {"risk_metrics:beta": 1.1}
    z = encode(CORE, batch_of([base, {**base, "risk_metrics:is_leveraged": 0.0}]))
    assert sha(z[0]) == sha(z[1])  # False contributes t(0) = 0, the same as absent
    z_true = encode(CORE, batch_of([{"risk_metrics:is_leveraged": 1.0}]))[0]
    z_one = encode(CORE, batch_of([{"risk_metrics:is_leveraged": 1}]))[0]
    expected = math.log(2.0) * feature_directions(CORE, ["risk_metrics:is_leveraged"])[0]
    np.testing.assert_allclose(z_true, expected, rtol=1e-6)
    assert z_true.tobytes() == z_one.tobytes()


def test_extreme_values_stay_finite():
    z = encode(CORE, batch_of([{"risk_metrics:a": 1e308, "risk_metrics:b": -1e308}] * 2))
    assert np.isfinite(z).all() and np.abs(z).max() > 1.0
    t = signed_log1p(np.array([1e308, -1e308, np.finfo(np.float64).max]))
    assert np.isfinite(t).all() and np.abs(t).max() <= 710.0


def test_signed_log1p_is_odd_monotone_and_tames_scale():
    x = np.array([-1e6, -63.0, -0.2, 0.0, 0.2, 63.0, 1e6])
    t = signed_log1p(x)
    np.testing.assert_array_equal(t, -signed_log1p(-x))
    assert np.all(np.diff(t) > 0)
    assert t[5] / t[4] < 25  # 63 vs 0.2: a ratio of 315 becomes about 23
    np.testing.assert_allclose(t[4], math.log1p(0.2))


# --- batch encode == the plain per-portfolio reference ----------------------------------


@pytest.mark.parametrize("card", [CORE, PAD], ids=lambda c: c.model_id)
@pytest.mark.parametrize("chunk_rows", [1, 7, 65_536])
@pytest.mark.parametrize("shuffle_seed", [None, 5], ids=["sorted", "unsorted"])
def test_batch_equals_reference_row_by_row(card, chunk_rows, shuffle_seed):
    portfolios = random_portfolios(4, 40)
    batch = batch_of(portfolios, shuffle_seed=shuffle_seed)
    assert (np.diff(batch.row_index) < 0).any() == (shuffle_seed is not None)
    vectors = encode(card, batch, chunk_rows=chunk_rows)
    assert vectors.shape == (40, 384) and vectors.dtype == np.dtype("<f4")
    for i, features in enumerate(portfolios):
        np.testing.assert_allclose(vectors[i], reference_encode_one(card, features), rtol=2e-6)
    empty = [i for i, p in enumerate(portfolios) if not p]
    assert empty and not vectors[empty].any()


@pytest.mark.parametrize("card", [CORE, PAD], ids=lambda c: c.model_id)
def test_chunking_and_index_dtype_do_not_change_bytes(card):
    batch = batch_of(random_portfolios(5, 60), shuffle_seed=1)
    expected = sha(encode(card, batch))
    for chunk_rows in (1, 16, 59, 60):
        assert sha(encode(card, batch, chunk_rows=chunk_rows)) == expected
    narrow = FeatureBatch(
        batch.n_rows,
        batch.row_index.astype(np.int32),
        batch.name_codes.astype(np.uint16),
        batch.names,
        batch.values,
    )
    assert sha(encode(card, narrow, chunk_rows=16)) == expected


@pytest.mark.parametrize("card", [CORE, PAD], ids=lambda c: c.model_id)
def test_iter_encode_yields_consecutive_chunks(card):
    batch = batch_of(random_portfolios(6, 25), shuffle_seed=2)
    chunks = list(iter_encode(card, batch, chunk_rows=10))
    assert [(a, b) for a, b, _ in chunks] == [(0, 10), (10, 20), (20, 25)]
    assert all(v.dtype == np.dtype("<f4") for _, _, v in chunks)
    assert sha(np.concatenate([v for _, _, v in chunks])) == sha(encode(card, batch))


@pytest.mark.parametrize("card", [CORE, PAD], ids=lambda c: c.model_id)
def test_empty_batches(card):
    no_entries = FeatureBatch.from_records(3, [], [], [])
    assert encode(card, no_entries).shape == (3, 384) and not encode(card, no_entries).any()
    assert encode(card, FeatureBatch.from_records(0, [], [], [])).shape == (0, 384)
    with pytest.raises(ValueError, match="chunk_rows"):
        encode(card, no_entries, chunk_rows=0)


# --- pad_to_dim (legacy) ----------------------------------------------------------------


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
        {"sector": {"Energy": 1.0}, "factor": {"a": True}},
        {"factor": {"zz": 2.0}, "risk_metrics": {"zz": 1.0}, "sector": {"aa": 3.0}},
    ]
    portfolios = [
        {f"{g}:{k}": float(v) for g, column in report.items() for k, v in column.items()}
        for report in reports
    ]
    vectors = encode(PAD, batch_of(portfolios, shuffle_seed=3), chunk_rows=3)
    for vector, report in zip(vectors, reports, strict=True):
        assert vector.tobytes() == old_script_pad_vector(report).tobytes()
    # spelled out: sorted keys within a group, groups in FEATURE_GROUPS order, padding
    assert vectors[0, :8].tolist() == pytest.approx([-0.3, 1.1, 0.04, 0.25, 0.1, -1.2, 0.7, 0])
    assert vectors[1, 383] == 383.0
    assert vectors[2, :3].tolist() == [1.0, 1.0, 0.0] and not vectors[2, 2:].any()
    assert vectors[3, :4].tolist() == [1.0, 3.0, 2.0, 0.0]


def test_pad_to_dim_duplicates_keep_input_order():
    rows, names, values = [0, 0, 0], ["sector:b", "sector:a", "sector:b"], [2.0, 1.0, 3.0]
    vector = encode(PAD, FeatureBatch.from_records(1, rows, names, values))[0]
    assert vector[:4].tolist() == [1.0, 2.0, 3.0, 0.0]
    # many duplicates, enough for an unstable sort to reorder them
    rng = np.random.default_rng(7)
    names = [f"sector:{k}" for k in rng.choice(list("abcde"), size=300)]
    values = rng.permutation(300).astype(float)
    vector = encode(PAD, FeatureBatch.from_records(1, [0] * 300, names, values))[0]
    expected = [v for _, v in sorted(zip(names, values, strict=True), key=lambda nv: nv[0])]
    assert vector[:300].tolist() == expected


def test_pad_to_dim_rejects_unknown_groups():
    batch = FeatureBatch.from_records(1, [0], ["liquidity:x"], [1.0])
    with pytest.raises(ValueError, match="liquidity:x"):
        encode(PAD, batch)
    with pytest.raises(ValueError, match="liquidity:x"):
        reference_encode_one(PAD, {"liquidity:x": 1.0})


# --- directions ---------------------------------------------------------------------------


def test_directions_are_keyed_rademacher():
    names = [f"risk_metrics:k{i}" for i in range(200)]
    w = feature_directions(CORE, names)
    assert w.shape == (200, 384) and w.dtype == np.float64
    assert set(np.unique(np.abs(w))) == {1 / np.sqrt(384)}
    # a name's direction depends on (seed, name) only, not on the rest of the vocabulary
    np.testing.assert_array_equal(feature_directions(CORE, names[5:6])[0], w[5])
    np.testing.assert_array_equal(feature_directions(CORE, names[::-1])[-1], w[0])
    fields = {k: v for k, v in CORE.as_dict().items() if k != "spec_hash"}
    other_seed = ModelCard(**{**fields, "seed": 1})
    assert not np.array_equal(feature_directions(other_seed, names[:1]), w[:1])
    assert feature_directions(CORE, []).shape == (0, 384)
    # roughly orthogonal: cosines of random sign vectors have sd 1/sqrt(384) ~ 0.05
    cosines = (w @ w.T)[np.triu_indices(200, 1)]
    assert abs(cosines.mean()) < 0.01 and np.abs(cosines).mean() < 0.06
    assert np.abs(cosines).max() < 0.3


# --- FeatureBatch and helpers ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(row_index=[0, 5]), "row_index must lie"),
        (dict(row_index=[-1, 0]), "row_index must lie"),
        (dict(row_index=[0]), "same length"),
        (dict(values=[1.0, float("nan")]), "finite"),
        (dict(values=[1.0, float("inf")]), "finite"),
        (dict(name_codes=[0, 3]), "name_codes must lie"),
        (dict(row_index=[0.0, 1.0]), "integer dtype"),
        (dict(values=["1", "2"]), "floating dtype"),
        (dict(row_index=[[0, 1]]), "1-d"),
        (dict(names=("sector:b", "sector:b")), "unique"),
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
            names=fields.get("names", ("risk_metrics:a", "sector:b")),
            values=np.asarray(fields["values"]),
        )


def test_from_records_dictionary_encodes_names():
    batch = FeatureBatch.from_records(2, [1, 0, 1], ["sector:b", "factor:a", "sector:b"], [1, 2, 3])
    assert batch.names == ("factor:a", "sector:b")
    assert batch.name_codes.tolist() == [1, 0, 1]
    assert batch.values.dtype == np.float64 and batch.row_index.tolist() == [1, 0, 1]


def test_as_le_float32_gives_contiguous_little_endian_rows():
    big_endian = np.asfortranarray(np.arange(6, dtype=">f8").reshape(2, 3))
    out = as_le_float32(big_endian)
    assert out.dtype == np.dtype("<f4") and out.flags.c_contiguous
    assert np.frombuffer(out[1].tobytes(), dtype="<f4").tolist() == [3.0, 4.0, 5.0]
    vectors = encode(CORE, batch_of(GOLDEN_PORTFOLIOS))
    assert as_le_float32(vectors) is vectors  # already in the stored layout: no copy


@pytest.mark.parametrize("shuffle_seed", [None, 3])
def test_dense_and_chunked_design_give_the_same_bytes(monkeypatch, shuffle_seed):
    from python_encoders import projection

    batch = batch_of(random_portfolios(9, 70), shuffle_seed=shuffle_seed)
    dense = encode(CORE, batch, chunk_rows=16)
    monkeypatch.setattr(projection, "DENSE_BUDGET_BYTES", 0)
    assert sha(encode(CORE, batch, chunk_rows=16)) == sha(dense)
