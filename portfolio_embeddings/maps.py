"""A picture of the portfolio space: all portfolios of a date projected to 2-D by PCA
on their stored vectors, coloured by dominant sector, with an optional portfolio's path
over dates."""

from __future__ import annotations

import numpy as np

FIGSIZE = (12, 9)
OUTLIER_FACTOR = 5.0  # norm above 5x the median norm of the date: drawn out of the fit
DPI = 100


def pca_2d(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(mean, 2 principal axes, explained variance ratios) of the rows of `vectors`."""
    data = vectors.astype(np.float64)
    mean = data.mean(axis=0)
    _, singular, axes = np.linalg.svd(data - mean, full_matrices=False)
    variance = singular**2
    return mean, axes[:2], variance[:2] / max(variance.sum(), 1e-30)


def dominant_sectors(
    con, embeddings_table: str, reports_table: str, model_id: str, as_of: str
) -> dict[str, str]:
    """portfolio_id -> the largest sector weight's name in the report its stored vector
    was made from (window_spec.report_id): no second copy of the latest-report rule."""
    rows = con.execute(
        f"""
        with latest as (
            select reports.portfolio_id, reports.exposures_by_sector
            from {embeddings_table} as embeddings
            inner join {reports_table} as reports
                on reports.report_id = (embeddings.window_spec ->> 'report_id')
            where embeddings.entity_type = 'PORTFOLIO'
              and embeddings.model_id = ?
              and embeddings.as_of_date = cast(? as date)
        ),
        weights as (
            select portfolio_id,
                   unnest(map_entries(try_cast(cast(exposures_by_sector as json)
                                               as map(varchar, double)))) as entry
            from latest
            where json_type(cast(exposures_by_sector as json)) = 'OBJECT'
        )
        select portfolio_id, arg_max(entry.key, entry.value)
        from weights where entry.value is not null group by portfolio_id
        """,
        [model_id, as_of],
    ).fetchall()
    return dict(rows)


def draw(path, ids, dates, vectors, as_of, sectors, highlight=None, model_id=""):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    # Inliers only (the title counts the rest): one extreme portfolio would take a whole axis.
    norms = np.linalg.norm(vectors, axis=1)
    on_date_all = dates == as_of
    limit = OUTLIER_FACTOR * np.median(norms[on_date_all])
    on_date = on_date_all & (norms <= limit)
    n_outliers = int(on_date_all.sum() - on_date.sum())
    mean, axes, ratio = pca_2d(vectors[on_date])
    points = (vectors[on_date] - mean) @ axes.T
    labels = np.array([sectors.get(pid, "unknown") for pid in ids[on_date]])

    fig, ax = plt.subplots(figsize=FIGSIZE, dpi=DPI)
    cmap = plt.get_cmap("tab20")
    for i, sector in enumerate(sorted(set(labels))):
        chosen = labels == sector
        ax.scatter(
            points[chosen, 0],
            points[chosen, 1],
            s=14,
            alpha=0.75,
            color=cmap(i % 20),
            label=f"{sector} ({chosen.sum()})",
        )
    if highlight is not None:
        mine = np.flatnonzero((ids == highlight) & (norms <= limit))
        mine = mine[np.argsort(dates[mine])]
        trail = (vectors[mine] - mean) @ axes.T
        ax.plot(
            trail[:, 0],
            trail[:, 1],
            "-o",
            color="black",
            linewidth=1.5,
            markersize=5,
            label=f"{highlight} over {len(mine)} dates",
            zorder=5,
        )
        for (x, y), day in zip(trail, dates[mine], strict=True):
            ax.annotate(str(day), (x, y), textcoords="offset points", xytext=(4, 4), fontsize=8)
        current = np.flatnonzero(dates[mine] == as_of)
        if len(current):
            x, y = trail[current[0]]
            ax.scatter(
                [x], [y], s=180, facecolors="none", edgecolors="black", linewidths=2, zorder=6
            )
    ax.set_xlabel(f"PC1 ({ratio[0]:.1%} of variance)")
    ax.set_ylabel(f"PC2 ({ratio[1]:.1%} of variance)")
    left_out = f"; {n_outliers} outlier(s) (norm > {limit:.1f}) not shown" if n_outliers else ""
    ax.set_title(
        f"Portfolio map {as_of}: {int(on_date.sum())} portfolios, {model_id}\n"
        f"PCA of the stored vectors; colour = dominant sector{left_out}"
    )
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=9, title="dominant sector")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
