"""The map: coloured by style on the demo, reference prototypes marked when their table
exists, outliers named, a fixed sample of the points above MAX_POINTS."""

from __future__ import annotations

import numpy as np
from conftest import SMALL_DEMO, make_project
from PIL import Image
from test_cli import cli

from portfolio_embeddings import maps

LAST = SMALL_DEMO["dates"][-1]


def test_map_colours_by_style_marks_prototypes_and_names_outliers(tmp_path):
    project = make_project(tmp_path, **SMALL_DEMO)
    assert project.run().ok
    out = tmp_path / "map.png"
    done = cli(project, "map", "--as-of", LAST, "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert "coloured by style" in done.stdout and "reference prototypes: none" in done.stdout
    # P00007's report holds 1e308 on the last date: far outside, named, not drawn
    assert "outliers not drawn: P00007" in done.stdout
    # prototypes as the reference models write them (the run made the table, empty: the
    # test's demo has no seeded references): label, model, states, vector
    project.execute(
        """
        insert into main.portfolio_reference_prototypes
            (reference_label, model_id, n_states, vector)
        select 'demo_stress' as reference_label, model_id, 3 as n_states, vector
        from main.numeric_window_embeddings
        where entity_id = 'P00005' and as_of_date = '2024-12-31'
        union all
        select 'other_model', 'num-portfolio-pad-v0', 1, vector
        from main.numeric_window_embeddings where entity_id = 'P00011' limit 1
        """
    )
    done = cli(project, "map", "--as-of", LAST, "--highlight", "P00005", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert "reference prototypes: demo_stress;" in done.stdout  # only the map's model_id
    with Image.open(out) as image:
        assert image.size == (maps.FIGSIZE[0] * maps.DPI, maps.FIGSIZE[1] * maps.DPI)


def test_map_samples_the_coloured_points_and_keeps_every_group(tmp_path):
    rng = np.random.default_rng(0)
    n = maps.MAX_POINTS + 5_000
    centres = rng.normal(size=(4, 384)) * 3
    groups = rng.integers(0, 4, size=n)
    vectors = (centres[groups] + rng.normal(size=(n, 384))).astype("<f4")
    vectors[7] *= 100  # one outlier
    ids = np.array([f"P{i:06d}" for i in range(n)], dtype=object)
    dates = np.full(n, "2025-01-31", dtype=object)
    labels = {pid: f"g{g}" for pid, g in zip(ids, groups, strict=True)}
    summary = maps.draw(tmp_path / "m.png", ids, dates, vectors, "2025-01-31", labels,
                        colour_by="style", references={"centre0": centres[0]})  # fmt: skip
    assert summary.states == n - 1 and summary.coloured == maps.MAX_POINTS
    assert summary.outliers == ["P000007"] and summary.prototypes == ["centre0"]
    assert summary.labels == {f"g{g}": int((groups[ids != "P000007"] == g).sum()) for g in range(4)}
    assert (tmp_path / "m.png").stat().st_size > 10_000
