"""A picture of the portfolio space of a date, meant to be shown to a colleague.

All portfolios of the date are projected to 2-D by PCA of their stored vectors. Under
the points, from `DENSITY_FROM` states, grey hexagons show the density of every state;
over them, the states are
coloured by style (metadata.style of the report each vector was made from, as on the
demo) or else by dominant sector, drawn in a shuffled order so that no colour hides the
others; above `MAX_POINTS` states a fixed random sample of them is coloured (the
hexagons still count all). Each colour's median point carries its name. Reference
prototypes (`portfolio_reference_prototypes`, when the table exists) are marked and
labelled; states far outside the date's spread are left out of the fit and named.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

FIGSIZE = (12, 9)
DPI = 100
OUTLIER_FACTOR = 5.0  # norm above 5x the median norm of the date: drawn out of the fit
MAX_POINTS = 20_000  # coloured points drawn; beyond, a fixed sample (the density shows all)
DENSITY_FROM = 2_000  # states from which the density is drawn (below, the points are enough)
NAMED_OUTLIERS = 8  # outliers listed by name; the rest are counted
SAMPLE_SEED = 0


@dataclass
class MapSummary:
    """What a map shows, for the command's one-line report and for tests."""

    states: int
    coloured: int
    colour_by: str
    labels: dict[str, int]
    prototypes: list[str] = field(default_factory=list)
    outliers: list[str] = field(default_factory=list)


def pca_2d(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(mean, 2 principal axes, explained variance ratios) of the rows of `vectors`."""
    data = vectors.astype(np.float64)
    mean = data.mean(axis=0)
    _, singular, axes = np.linalg.svd(data - mean, full_matrices=False)
    variance = singular**2
    return mean, axes[:2], variance[:2] / max(variance.sum(), 1e-30)


def _reports_of_vectors(embeddings_table: str, reports_table: str) -> str:
    """SQL: the date's states of a model with the report each vector was made from
    (window_spec.report_id): no second copy of the latest-report rule."""
    return f"""
        select embeddings.entity_id as portfolio_id, reports.metadata,
               reports.exposures_by_sector
        from {embeddings_table} as embeddings
        inner join {reports_table} as reports
            on reports.report_id = (embeddings.window_spec ->> 'report_id')
        where embeddings.entity_type = 'PORTFOLIO'
          and embeddings.model_id = ?
          and embeddings.as_of_date = cast(? as date)
    """


def styles(con, embeddings_table: str, reports_table: str, model_id: str, as_of: str):
    """portfolio_id -> metadata.style of its vector's report (only those that have one)."""
    rows = con.execute(
        f"""
        with states as ({_reports_of_vectors(embeddings_table, reports_table)})
        select portfolio_id, cast(metadata as json) ->> 'style' from states
        where json_type(cast(metadata as json)) = 'OBJECT'
          and (cast(metadata as json) ->> 'style') is not null
        """,
        [model_id, as_of],
    ).fetchall()
    return dict(rows)


def dominant_sectors(
    con, embeddings_table: str, reports_table: str, model_id: str, as_of: str
) -> dict[str, str]:
    """portfolio_id -> the largest sector weight's name in its vector's report."""
    rows = con.execute(
        f"""
        with states as ({_reports_of_vectors(embeddings_table, reports_table)}),
        weights as (
            select portfolio_id,
                   unnest(map_entries(try_cast(cast(exposures_by_sector as json)
                                               as map(varchar, double)))) as entry
            from states
            where json_type(cast(exposures_by_sector as json)) = 'OBJECT'
        )
        select portfolio_id, arg_max(entry.key, entry.value)
        from weights where entry.value is not null group by portfolio_id
        """,
        [model_id, as_of],
    ).fetchall()
    return dict(rows)


def prototypes(con, prototypes_table: str | None, model_id: str) -> dict[str, np.ndarray]:
    """reference_label -> prototype vector of the model, from the prototypes table; empty
    when there is no such table (the references are optional)."""
    import duckdb

    if prototypes_table is None:
        return {}
    try:
        rows = con.execute(
            f"select reference_label, vector from {prototypes_table} "
            "where model_id = ? and vector is not null order by reference_label",
            [model_id],
        ).fetchall()
    except duckdb.CatalogException:
        return {}
    return {label: np.frombuffer(vector, dtype="<f4") for label, vector in rows}


def draw(
    path,
    ids,
    dates,
    vectors,
    as_of,
    labels: dict[str, str],
    highlight=None,
    model_id="",
    *,
    colour_by="dominant sector",
    references: dict[str, np.ndarray] | None = None,
) -> MapSummary:
    """Write the map of `as_of` to `path` (PNG); what it shows, as a MapSummary."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.patheffects as effects
    import matplotlib.pyplot as plt

    references = references or {}
    # Inliers only: one extreme portfolio would take a whole axis; the others are named.
    norms = np.linalg.norm(vectors, axis=1)
    on_date_all = dates == as_of
    limit = OUTLIER_FACTOR * np.median(norms[on_date_all])
    on_date = on_date_all & (norms <= limit)
    outside = np.flatnonzero(on_date_all & (norms > limit))
    outside = outside[np.argsort(-norms[outside], kind="stable")]
    mean, axes, ratio = pca_2d(vectors[on_date])
    points = (vectors[on_date] - mean) @ axes.T
    point_labels = np.array([labels.get(pid, "unknown") for pid in ids[on_date]], dtype=object)
    names = sorted(set(point_labels), key=lambda n: (n == "unknown", n))
    counts = {name: int((point_labels == name).sum()) for name in names}

    fig, ax = plt.subplots(figsize=FIGSIZE, dpi=DPI)
    outline = [effects.withStroke(linewidth=3, foreground="white")]
    if len(points) >= DENSITY_FROM:
        ax.hexbin(points[:, 0], points[:, 1], gridsize=70, bins="log", mincnt=1, cmap="Greys",
                  alpha=0.45, linewidths=0, zorder=1)  # fmt: skip
    # A fixed sample above MAX_POINTS, in a shuffled order: no colour is drawn over all.
    order = np.random.default_rng(SAMPLE_SEED).permutation(len(points))[:MAX_POINTS]
    cmap = plt.get_cmap("tab10" if len(names) <= 10 else "tab20")
    colour_of = {name: cmap(i % cmap.N) for i, name in enumerate(names)}
    colour_of["unknown"] = (0.6, 0.6, 0.6, 1.0)
    size = float(np.clip(3000 / np.sqrt(max(len(order), 1)), 2, 16))
    ax.scatter(points[order, 0], points[order, 1], s=size, alpha=0.7, linewidths=0,
               c=[colour_of[n] for n in point_labels[order]], zorder=2)  # fmt: skip
    for name in names:
        x, y = np.median(points[point_labels == name], axis=0)
        ax.annotate(name, (x, y), ha="center", va="center", fontsize=10, weight="bold",
                    color=colour_of[name], path_effects=outline, zorder=7)  # fmt: skip
        ax.scatter([], [], s=40, color=colour_of[name], label=f"{name} ({counts[name]})")
    for label, prototype in references.items():
        x, y = (prototype.astype(np.float64) - mean) @ axes.T
        ax.scatter([x], [y], marker="*", s=420, color="gold", edgecolors="black",
                   linewidths=1.5, zorder=8)  # fmt: skip
        ax.annotate(f"reference {label}", (x, y), textcoords="offset points", xytext=(10, 8),
                    fontsize=10, weight="bold", path_effects=outline, zorder=8)  # fmt: skip
    if references:
        ax.scatter([], [], marker="*", s=160, color="gold", edgecolors="black",
                   label="reference prototype")  # fmt: skip
    if highlight is not None:
        _draw_path(ax, ids, dates, vectors, norms, limit, mean, axes, as_of, highlight)
    if len(outside):
        listed = ", ".join(ids[i] for i in outside[:NAMED_OUTLIERS])
        more = f" and {len(outside) - NAMED_OUTLIERS} more" if len(outside) > NAMED_OUTLIERS else ""
        box = {"facecolor": "white", "alpha": 0.85, "edgecolor": "grey"}
        ax.text(0.01, 0.01, f"not drawn, norm > {limit:.1f} ({OUTLIER_FACTOR:g}x the median): "
                f"{listed}{more}", transform=ax.transAxes, fontsize=9, va="bottom", bbox=box,
                zorder=9)  # fmt: skip
    density = "; grey = density of all" if len(points) >= DENSITY_FROM else ""
    sampled = f"; coloured: a sample of {len(order):,}" if len(order) < len(points) else ""
    ax.set_xlabel(f"PC1 ({ratio[0]:.1%} of variance)")
    ax.set_ylabel(f"PC2 ({ratio[1]:.1%} of variance)")
    ax.set_title(
        f"Portfolio map {as_of}: {len(points):,} portfolios, {model_id}\n"
        f"PCA of the stored vectors; colour = {colour_by}{density}{sampled}"
    )
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=9, title=colour_by)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return MapSummary(
        states=len(points), coloured=len(order), colour_by=colour_by, labels=counts,
        prototypes=list(references), outliers=[str(ids[i]) for i in outside],
    )  # fmt: skip


def _draw_path(ax, ids, dates, vectors, norms, limit, mean, axes, as_of, highlight) -> None:
    """One portfolio's states over the dates, as a labelled line."""
    mine = np.flatnonzero((ids == highlight) & (norms <= limit))
    mine = mine[np.argsort(dates[mine])]
    trail = (vectors[mine] - mean) @ axes.T
    ax.plot(trail[:, 0], trail[:, 1], "-o", color="black", linewidth=1.5, markersize=5,
            label=f"{highlight} over {len(mine)} dates", zorder=5)  # fmt: skip
    for (x, y), day in zip(trail, dates[mine], strict=True):
        ax.annotate(str(day), (x, y), textcoords="offset points", xytext=(4, 4), fontsize=8)
    current = np.flatnonzero(dates[mine] == as_of)
    if len(current):
        x, y = trail[current[0]]
        ax.scatter([x], [y], s=180, facecolors="none", edgecolors="black", linewidths=2, zorder=6)
