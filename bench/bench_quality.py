"""What the vectors recover on the demo data, for v1 and v2 (docs/quality.md).

    python bench/bench_quality.py                    # make run's demo: 300 portfolios x 6 dates
    python bench/bench_quality.py --portfolios 3000  # larger

Builds the demo in a fresh DuckDB file under bench/out/, runs the pipeline for each
card (`dbt run --vars '{model_id: ..., rebuild: true}'`), then prints:

(a) neighbour purity@10: the share of each state's 10 nearest same-date neighbours
    (Euclidean) that have its style (metadata.style of the report its vector was made
    from), on the stored vectors and on the transformed features before projection
    (t(value) for v1, t(value) / s(name) for v2, a dense states x names matrix);
(b) the stress episode: the prototype is the mean stored vector of the first 10
    stressed portfolios on the stress date (the reference list); every other stressed
    state of that date is ranked by its distance (and cosine) to the prototype among
    all the date's states but the reference ones.

Nothing is asserted: measurements for the README and docs/quality.md.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import numpy as np

PROJECT_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_DIR))
from python_encoders import TRANSFORMS, get_card  # noqa: E402

DBT = Path(sys.executable).with_name("dbt")
CARDS = ("num-portfolio-core-v1", "num-portfolio-core-v2")
K = 10
REFERENCE_SIZE = 10  # stressed portfolios whose mean vector is the stress prototype


def _demo_data():
    spec = importlib.util.spec_from_file_location("demo_data", PROJECT_DIR / "scripts/demo_data.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_pipeline(env: dict, model_id: str) -> None:
    command = [str(DBT), "run", "--select", "portfolio_embeddings", "--quiet",
               "--profiles-dir", str(PROJECT_DIR), "--project-dir", str(PROJECT_DIR),
               "--vars", json.dumps({"model_id": model_id, "rebuild": True})]  # fmt: skip
    done = subprocess.run(command, cwd=PROJECT_DIR, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"dbt run failed for {model_id}:\n{done.stdout}\n{done.stderr}")


def stored_states(con, model_id: str):
    """report_id, portfolio_id, date, style, stressed and vector of every stored state."""
    rows = con.execute(
        """
        select embeddings.window_spec ->> 'report_id', embeddings.entity_id,
               cast(embeddings.as_of_date as varchar), reports.metadata ->> 'style',
               cast(reports.metadata ->> 'stressed' as boolean), embeddings.vector
        from main.numeric_window_embeddings as embeddings
        inner join main.portfolio_risk_reports as reports
            on reports.report_id = (embeddings.window_spec ->> 'report_id')
        where embeddings.entity_type = 'PORTFOLIO' and embeddings.model_id = ?
        order by embeddings.as_of_date, embeddings.entity_id
        """,
        [model_id],
    ).fetchall()
    report_ids, ids, dates, styles, stressed, blobs = (
        np.array(c, dtype=object) for c in zip(*rows, strict=True)
    )
    vectors = np.frombuffer(b"".join(blobs), dtype="<f4").reshape(len(rows), -1)
    return report_ids, ids, dates, styles, stressed.astype(bool), vectors


def feature_matrix(con, report_ids: np.ndarray, model_id: str) -> np.ndarray:
    """The card's input before projection: per state (row order of report_ids) the
    transformed value of each feature name, divided by its scale for a scaled card."""
    card = get_card(model_id)
    features = con.execute(
        "select report_id, feature_name, feature_value from main.int_portfolio_features"
    ).fetchnumpy()
    row_of = {r: i for i, r in enumerate(report_ids)}
    rows = np.array([row_of[r] for r in features["report_id"]])
    names, columns = np.unique(features["feature_name"].astype(str), return_inverse=True)
    values = TRANSFORMS[card.transform](features["feature_value"])
    if card.scales is not None:
        values = values / card.scales.of(list(names))[columns]
    matrix = np.zeros((len(report_ids), len(names)))
    np.add.at(matrix, (rows, columns), values)
    return matrix


def squared_distances(points: np.ndarray) -> np.ndarray:
    points = points.astype(np.float64)
    norms = np.einsum("ij,ij->i", points, points)
    return np.maximum(norms[:, None] + norms[None, :] - 2 * points @ points.T, 0)


def purity_at_k(points: np.ndarray, dates: np.ndarray, styles: np.ndarray, k: int = K) -> float:
    """Mean share of each state's k nearest same-date neighbours with its style."""
    shares = []
    for day in np.unique(dates):
        on_day = np.flatnonzero(dates == day)
        distances = squared_distances(points[on_day])
        np.fill_diagonal(distances, np.inf)
        nearest = np.argpartition(distances, k, axis=1)[:, :k]
        day_styles = styles[on_day]
        shares.append((day_styles[nearest] == day_styles[:, None]).mean(axis=1))
    return float(np.concatenate(shares).mean())


def stress_ranks(ids, dates, stressed, vectors, stress_date: str) -> dict:
    """Ranks (1 = closest) of the non-reference stressed states of the stress date by
    Euclidean distance and by cosine to the prototype, among the date's non-reference
    states."""
    on_day = dates == stress_date
    day_ids, day_stressed, day_vectors = ids[on_day], stressed[on_day], vectors[on_day]
    references = sorted(day_ids[day_stressed])[:REFERENCE_SIZE]
    is_reference = np.isin(day_ids, references)
    prototype = day_vectors[is_reference].astype(np.float64).mean(axis=0)
    candidates = day_vectors[~is_reference].astype(np.float64)
    targets = day_stressed[~is_reference]
    distance = np.linalg.norm(candidates - prototype, axis=1)
    cosine = (
        candidates @ prototype / (np.linalg.norm(candidates, axis=1) * np.linalg.norm(prototype))
    )
    result = {
        "states": int(len(candidates)),
        "stressed": int(targets.sum()),
        "references": references,
    }
    for label, order in (("euclidean", np.argsort(distance)), ("cosine", np.argsort(-cosine))):
        rank = np.empty(len(order), dtype=np.int64)
        rank[order] = np.arange(1, len(order) + 1)
        ranks = rank[targets]
        result[label] = {
            "median_rank": float(np.median(ranks)),
            "worst_rank": int(ranks.max()),
            f"in_top_{targets.sum()}": float((ranks <= targets.sum()).mean()),
        }
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--portfolios", type=int, default=300)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out-dir", default=str(PROJECT_DIR / "bench" / "out"))
    args = parser.parse_args()
    demo = _demo_data()
    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    db = out_dir / f"quality_{args.portfolios}_{args.seed}.duckdb"
    db.unlink(missing_ok=True)
    demo.create_reports(str(db), portfolios=args.portfolios, seed=args.seed)
    env = {**os.environ, "PORTFOLIO_DUCKDB_PATH": str(db), "DO_NOT_TRACK": "1",
           "DBT_TARGET_PATH": str(out_dir / "target"),
           "DBT_LOG_PATH": str(out_dir / "logs")}  # fmt: skip
    stress_date = demo.stress_date(demo.DEFAULT_DATES)
    print(f"demo: {args.portfolios} portfolios x {len(demo.DEFAULT_DATES)} dates, seed {args.seed}")
    results = {}
    for model_id in CARDS:
        run_pipeline(env, model_id)
        with duckdb.connect(str(db), read_only=True) as con:
            report_ids, ids, dates, styles, stressed, vectors = stored_states(con, model_id)
            features = feature_matrix(con, report_ids, model_id)
        results[model_id] = {
            "purity_vectors": purity_at_k(vectors, dates, styles),
            "purity_features": purity_at_k(features, dates, styles),
            "stress": stress_ranks(ids, dates, stressed, vectors, stress_date),
        }
    print(f"\n(a) neighbour purity@{K} (same date, Euclidean; {len(set(styles))} styles)")
    print(f"  {'card':<24} {'features':>9} {'vectors':>9} {'difference':>11}")
    for model_id, r in results.items():
        gap = r["purity_vectors"] - r["purity_features"]
        features, vectors = r["purity_features"], r["purity_vectors"]
        print(f"  {model_id:<24} {features:>9.3f} {vectors:>9.3f} {gap:>+11.3f}")
    print(
        f"\n(b) stress prototype: mean vector of {REFERENCE_SIZE} stressed states on {stress_date}"
    )
    for model_id, r in results.items():
        s = r["stress"]
        print(f"  {model_id}: {s['stressed']} other stressed states among {s['states']}")
        for label in ("euclidean", "cosine"):
            m = s[label]
            top = next(v for key, v in m.items() if key.startswith("in_top_"))
            print(
                f"    by {label:<9}: median rank {m['median_rank']:.0f}, "
                f"worst {m['worst_rank']}, {top:.0%} of them in the top {s['stressed']}"
            )
    (out_dir / f"quality_{args.portfolios}_{args.seed}.json").write_text(
        json.dumps(results, indent=2) + "\n"
    )


if __name__ == "__main__":
    main()
