"""num-portfolio-core-v2, the scaled card: golden bytes, the spec in plain Python, its
scales as card data (spec hash, file round trip) and through the fit command."""

from __future__ import annotations

import hashlib
import json
import math
import struct

import numpy as np
import pytest
from conftest import demo_data, make_project
from test_cli import cli
from test_encoders import GOLDEN_PORTFOLIOS, batch_of, random_portfolios, sha

from python_encoders import (
    ModelCard,
    encode,
    feature_directions,
    get_card,
    reference_encode_one,
    signed_log1p,
)
from python_encoders.scales import (
    CARD_DATA_DIR,
    MIN_OBSERVATIONS,
    Scales,
    load_scales,
    rounded,
    scales_text,
)

V1 = get_card("num-portfolio-core-v1")
V2 = get_card("num-portfolio-core-v2")
V2_FILE = CARD_DATA_DIR / "num-portfolio-core-v2.scales.json"

# Pinned bytes: a change here (code or scales file) changes every stored v2 vector.
V2_BATCH_SHA256 = "6d10ec6d8e6f8fb450e95d42bc54f26b25e8b55406351ecc96acadda2c289a7d"
V2_ROW_SHA256 = [
    "58b2be728683bcdbeed9d7ddbc778f22735ca86366a343a060d8b8622310d872",
    "237eb0000a167a3168124cd1ad419c1ad52b26ebe008f320ee92be0414311800",
]
V2_FIRST4 = [
    [-0.9187204241752625, 0.7228395342826843, -0.7521467208862305, -1.0903666019439697],
    [0.17802724242210388, -0.30003559589385986, -0.30003559589385986, 0.20568867027759552],
]
V2_SPEC_HASH = "2eaa62bec054145d13117038fb316c120403f57155be9be87e5780f9d5b5327e"


def test_v2_golden_vectors_are_pinned_by_bytes():
    vectors = encode(V2, batch_of(GOLDEN_PORTFOLIOS))
    assert vectors.dtype == np.dtype("<f4") and vectors.shape == (3, 384)
    assert sha(vectors) == V2_BATCH_SHA256
    assert [sha(vectors[i]) for i in range(2)] == V2_ROW_SHA256
    assert [vectors[i, :4].tolist() for i in range(2)] == V2_FIRST4
    assert not vectors[2].any()


def test_v2_follows_the_spec_in_plain_python():
    """Row 0 from the card's definition with json, hashlib, math and struct only:
    sum of t(value) / s(name) * w(name), s from the file, its default for other names."""
    document = json.loads(V2_FILE.read_text())
    dim, seed = 384, 20250131
    z = [0.0] * dim
    for name, value in GOLDEN_PORTFOLIOS[0].items():
        digest = b"".join(
            hashlib.sha256(f"{seed}\x1f{name}\x1f{block}".encode()).digest() for block in (0, 1)
        )
        scale = document["scales"].get(name, document["default_scale"])
        t = math.copysign(math.log1p(abs(value)), value)
        for j in range(dim):
            bit = (digest[j // 8] >> (j % 8)) & 1
            z[j] += t * ((1 - 2 * bit) / math.sqrt(dim) / scale)
    expected = struct.pack(f"<{dim}f", *z)
    assert encode(V2, batch_of(GOLDEN_PORTFOLIOS))[0].tobytes() == expected


def test_v2_spec_hash_covers_the_scales_and_v1_is_unchanged():
    assert V2.spec_hash == V2_SPEC_HASH
    spec = {**{k: v for k, v in V2.as_dict().items() if k not in ("description", "spec_hash")}}
    canonical = json.dumps(spec, sort_keys=True, separators=(",", ":"))
    assert hashlib.sha256(canonical.encode()).hexdigest() == V2_SPEC_HASH
    name, scale = V2.scales.by_name[0]
    nudged = Scales.from_mapping(V2.scales.default, {**dict(V2.scales.by_name), name: scale * 2})
    fields = V2.as_dict_without_hash()
    assert ModelCard(**{**fields, "scales": nudged}).spec_hash != V2_SPEC_HASH
    other_default = Scales(V2.scales.default * 2, V2.scales.by_name)
    assert ModelCard(**{**fields, "scales": other_default}).spec_hash != V2_SPEC_HASH
    assert (
        ModelCard(**{**fields, "scales": None}).spec_hash
        == ModelCard(**{**V1.as_dict_without_hash(), "model_id": V2.model_id}).spec_hash
    )


def test_unit_scales_give_v1_bytes_and_scales_only_divide():
    portfolios = random_portfolios(11, 30)
    fields = {**V1.as_dict_without_hash(), "model_id": "test-unit-scales"}
    unit = ModelCard(**{**fields, "scales": Scales(1.0, ())})
    assert sha(encode(unit, batch_of(portfolios))) == sha(encode(V1, batch_of(portfolios)))
    halves = ModelCard(**{**fields, "scales": Scales(0.5, ())})
    np.testing.assert_allclose(
        encode(halves, batch_of(portfolios)), 2 * encode(V1, batch_of(portfolios)), rtol=1e-6
    )


def test_v2_is_linear_and_a_name_outside_the_file_takes_the_default():
    known, unknown = V2.scales.by_name[0][0], "sector:Never Seen"
    z = encode(V2, batch_of([{known: 0.3}, {unknown: 0.3}, {known: 0.3, unknown: 0.3}]))
    np.testing.assert_allclose(z[2], z[0] + z[1], rtol=1e-6, atol=1e-7)
    w = feature_directions(V2, [known, unknown])
    np.testing.assert_allclose(z[0], signed_log1p(0.3) / V2.scales.by_name[0][1] * w[0], 1e-6)
    np.testing.assert_allclose(z[1], signed_log1p(0.3) / V2.scales.default * w[1], rtol=1e-6)


@pytest.mark.parametrize("chunk_rows", [1, 7, 65_536])
def test_v2_batch_equals_reference_row_by_row(chunk_rows):
    portfolios = random_portfolios(12, 40) + [dict(GOLDEN_PORTFOLIOS[0])]
    vectors = encode(V2, batch_of(portfolios, shuffle_seed=4), chunk_rows=chunk_rows)
    for i, features in enumerate(portfolios):
        np.testing.assert_allclose(vectors[i], reference_encode_one(V2, features), rtol=2e-6)


def test_scales_file_round_trips_and_bad_files_are_named(tmp_path):
    shipped = load_scales(V2_FILE)
    assert shipped == V2.scales and len(shipped.by_name) > 20
    path = tmp_path / "s.json"
    path.write_text(scales_text(shipped, {"note": "copy"}))
    assert load_scales(path) == shipped
    assert all(rounded(s) == s for _, s in shipped.by_name)  # the file's precision
    path.write_text('{"scales": {"sector:Energy": 0.1}}')
    with pytest.raises(ValueError, match="s.json: not a scales file"):
        load_scales(path)
    path.write_text('{"default_scale": 1, "scales": {"sector:Energy": -0.1}}')
    with pytest.raises(ValueError, match="positive"):
        load_scales(path)
    with pytest.raises(ValueError, match="only keyed_projection takes scales"):
        ModelCard(**{**V2.as_dict_without_hash(), "kind": "pad_to_dim"})


def fit(project, out, start, end):
    return cli(project, "fit-scales", "--start-date", start, "--end-date", end, "--out", str(out))


def test_fit_command_reproduces_the_shipped_scales_on_the_default_demo(tmp_path):
    """The shipped file is what the documented fit gives on `make run`'s demo data."""
    project = make_project(tmp_path, portfolios=300, seed=7)
    dates = demo_data.DEFAULT_DATES
    done = fit(project, tmp_path / "fitted.json", dates[0], dates[-1])
    assert done.returncode == 0, done.stdout + done.stderr
    assert "wrote" in done.stdout and "| {" not in done.stdout  # no dbt show table
    assert (tmp_path / "fitted.json").read_text() == V2_FILE.read_text()


def test_fit_matches_numpy_on_the_tidy_features_of_its_date_range(tmp_path):
    project = make_project(
        tmp_path, portfolios=60, dates=["2024-11-30", "2024-12-31", "2025-01-31"], seed=5
    )
    done = fit(project, tmp_path / "s.json", "2024-12-31", "2025-01-31")
    assert done.returncode == 0, done.stdout + done.stderr
    fitted = json.loads((tmp_path / "s.json").read_text())
    rows = project.query(
        "select feature_name, feature_value, as_of_date from main.int_portfolio_features"
    )
    assert {str(day) for *_, day in rows} == {"2024-12-31", "2025-01-31"}
    names = sorted({name for name, *_ in rows})
    expected, left_out = {}, []
    for name in names:
        t = signed_log1p(np.array([v for n, v, _ in rows if n == name]))
        q01, q25, q75, q99 = np.quantile(t, [0.01, 0.25, 0.75, 0.99], method="inverted_cdf")
        spread = (q75 - q25) / 1.3489795003921634 or (q99 - q01) / 4.6526957480816815
        if len(t) < MIN_OBSERVATIONS or spread == 0:
            left_out.append(name)
        else:
            expected[name] = spread
    assert sorted(fitted["scales"]) == sorted(expected) and left_out
    for name, spread in expected.items():
        assert fitted["scales"][name] == pytest.approx(spread, rel=1e-5)
    assert fitted["default_scale"] == pytest.approx(np.median(list(expected.values())), rel=1e-5)
    assert fitted["fit"]["default_scale_names"] == left_out
    assert fitted["fit"]["states"] == len(
        project.query("select distinct portfolio_id, as_of_date from main.int_portfolio_features")
    )


def test_fit_rejects_a_reversed_range(tmp_path):
    project = make_project(tmp_path, portfolios=5, dates=["2025-01-31"], seed=1)
    done = fit(project, tmp_path / "s.json", "2025-01-31", "2024-12-31")
    assert done.returncode == 2 and "is before --start-date" in done.stderr
    assert not (tmp_path / "s.json").exists()


def test_a_v2_run_through_dbt_writes_v2_vectors_and_leaves_the_joint_rows(built_demo):
    """joint-portfolio-core-v1 follows v1: a v2 run writes no joint row and changes none."""
    joint_before = built_demo.query("select * from main.joint_embeddings order by all")
    v1_before = built_demo.query(
        "select * from main.numeric_window_embeddings "
        "where model_id = 'num-portfolio-core-v1' order by all"
    )
    result = built_demo.run({"model_id": V2.model_id})
    assert result.ok, result.output
    assert built_demo.query("select * from main.joint_embeddings order by all") == joint_before
    assert (
        built_demo.query(
            "select * from main.numeric_window_embeddings "
            "where model_id = 'num-portfolio-core-v1' order by all"
        )
        == v1_before
    )
    rows = built_demo.query(
        "select cast(window_spec as varchar), vector from main.numeric_window_embeddings "
        "where model_id = ?",
        [V2.model_id],
    )
    assert len(rows) == len(v1_before)
    features = {}
    for name, value, report_id in built_demo.query(
        "select feature_name, feature_value, report_id from main.int_portfolio_features"
    ):
        features.setdefault(report_id, {})[name] = value
    for spec, vector in rows:
        spec = json.loads(spec)
        assert spec["encoder_spec_hash"] == V2_SPEC_HASH
        want = reference_encode_one(V2, features[spec["report_id"]])
        np.testing.assert_allclose(np.frombuffer(vector, "<f4"), want, rtol=1e-5, atol=1e-6)
