"""Draw this dbt project's DAG from a manifest as a PNG (docs/dag.png).

    dbt parse                                   # writes target/manifest.json
    python scripts/draw_dag.py [target/manifest.json] [--out docs/dag.png] [--package NAME]

Draws the project's sources, seeds, snapshots, models and exposures (tests and unit tests
are left out), left to right by depth: a node's column is the length of the longest path
to it from a node with no parents. Boxes are coloured by layer: source (sources and
seeds), staging (name `stg_*` or a `staging` folder), intermediate (`int_*` or an
`intermediate` folder), output (any other model) and exposure. Each box shows the node's
name and its materialization (`python` added for a Python model), as configured for the
target the manifest was parsed with (on this project's postgres target the staging
model is a table, on dev a view).

The layout is deterministic: the same manifest gives the same picture. An edge that
skips columns is routed through free slots of the columns it crosses, never through a
box, and the order within each column is chosen to keep crossings few (barycentre
sweeps, ties broken by layer and name).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Patch  # noqa: E402
from matplotlib.path import Path as MplPath  # noqa: E402

DRAWN_NODE_TYPES = ("seed", "snapshot", "model")
LAYERS = ("source", "staging", "intermediate", "output", "exposure")
# fill, border: a light fill and a darker border of one hue per layer
COLOURS = {
    "source": ("#d5ecd4", "#2e7d32"),
    "staging": ("#d6e6f5", "#1f5f99"),
    "intermediate": ("#fbeccb", "#a56a00"),
    "output": ("#f6d5cf", "#b23a22"),
    "exposure": ("#e7dcef", "#6a3d8a"),
}
LAYER_LABELS = {
    "source": "source / seed",
    "staging": "staging",
    "intermediate": "intermediate",
    "output": "output",
    "exposure": "exposure",
}
NAME_SIZE = 10.5  # points
DETAIL_SIZE = 8.5
PAD_X = 0.16  # inches between a label and its box's side
BOX_HEIGHT = 0.62  # inches
ROW_GAP = 0.34  # inches between two boxes of a column
LANE = 0.22  # inches taken by an edge passing through a column
COLUMN_GAP = 0.95  # inches between two columns (room for the arrows)
MARGIN = 0.35  # inches around the drawing
SWEEPS = 12  # ordering passes (down and up)
DPI = 150


@dataclass
class Node:
    uid: str
    name: str
    kind: str  # source, seed, snapshot, model, exposure, or "" for an edge's waypoint
    detail: str
    layer: str
    parents: list[str]
    depth: int = 0
    y: float = 0.0  # inches, centre

    @property
    def dummy(self) -> bool:
        return self.kind == ""

    @property
    def height(self) -> float:
        return LANE if self.dummy else BOX_HEIGHT


def layer_of(name: str, folders: list[str]) -> str:
    """staging / intermediate / output for a model, from its name prefix, else from the
    innermost folder of its fqn that names a layer."""
    if name.startswith("stg_"):
        return "staging"
    if name.startswith("int_"):
        return "intermediate"
    for folder in reversed(folders):
        if folder.lower() in ("staging", "stg"):
            return "staging"
        if folder.lower() in ("intermediate", "int"):
            return "intermediate"
    return "output"


def load_nodes(manifest: dict, package: str) -> dict[str, Node]:
    """The package's drawable nodes, each with its parents among them."""
    nodes: dict[str, Node] = {}
    for uid, source in manifest.get("sources", {}).items():
        if source.get("package_name") == package:
            detail = f"source {source.get('source_name', '')}".strip()
            nodes[uid] = Node(uid, source["name"], "source", detail, "source", [])
    for uid, node in manifest.get("nodes", {}).items():
        kind = node.get("resource_type")
        if node.get("package_name") != package or kind not in DRAWN_NODE_TYPES:
            continue
        config = node.get("config") or {}
        if kind == "model":
            detail = str(config.get("materialized") or "model")
            if node.get("language") == "python":
                detail += ", python"
            layer = layer_of(node["name"], list(node.get("fqn", []))[1:-1])
        elif kind == "seed":
            detail, layer = "seed", "source"
        else:
            detail, layer = "snapshot", layer_of(node["name"], list(node.get("fqn", []))[1:-1])
        parents = (node.get("depends_on") or {}).get("nodes") or []
        nodes[uid] = Node(uid, node["name"], kind, detail, layer, list(parents))
    for uid, exposure in manifest.get("exposures", {}).items():
        if exposure.get("package_name") == package:
            detail = f"exposure {exposure.get('type', '')}".strip()
            parents = (exposure.get("depends_on") or {}).get("nodes") or []
            nodes[uid] = Node(uid, exposure["name"], "exposure", detail, "exposure", parents)
    for node in nodes.values():
        node.parents = sorted({p for p in node.parents if p in nodes and p != node.uid})
    return nodes


def assign_depths(nodes: dict[str, Node]) -> None:
    """Longest path from a root, in topological order (Kahn, by uid for determinism)."""
    children: dict[str, list[str]] = defaultdict(list)
    waiting = {uid: len(node.parents) for uid, node in nodes.items()}
    for node in nodes.values():
        for parent in node.parents:
            children[parent].append(node.uid)
    ready = sorted(uid for uid, n in waiting.items() if n == 0)
    done = 0
    while ready:
        uid = ready.pop(0)
        done += 1
        for child in sorted(children[uid]):
            nodes[child].depth = max(nodes[child].depth, nodes[uid].depth + 1)
            waiting[child] -= 1
            if waiting[child] == 0:
                ready.append(child)
        ready.sort()
    if done != len(nodes):
        raise ValueError("the manifest's dependencies contain a cycle")


def add_waypoints(nodes: dict[str, Node]) -> list[list[str]]:
    """Split each edge that skips columns with one waypoint node per skipped column;
    returns every edge as its chain of node uids, parent first."""
    chains = []
    for node in sorted(nodes.values(), key=lambda n: n.uid):
        for parent in node.parents:
            chain = [parent]
            for depth in range(nodes[parent].depth + 1, node.depth):
                uid = f"~{parent}~{node.uid}~{depth}"
                nodes[uid] = Node(uid, "", "", "", "", [chain[-1]], depth)
                chain.append(uid)
            chains.append([*chain, node.uid])
    return chains


def order_columns(nodes: dict[str, Node], chains: list[list[str]]) -> list[list[str]]:
    """Each column's nodes top to bottom, by barycentre sweeps over the edges' links."""
    up: dict[str, list[str]] = defaultdict(list)
    down: dict[str, list[str]] = defaultdict(list)
    for chain in chains:
        for a, b in zip(chain, chain[1:], strict=False):
            down[a].append(b)
            up[b].append(a)
    n_columns = max(node.depth for node in nodes.values()) + 1
    columns: list[list[str]] = [[] for _ in range(n_columns)]
    rank = {layer: i for i, layer in enumerate(LAYERS)}
    for node in sorted(nodes.values(), key=lambda n: (rank.get(n.layer, 0), n.name, n.uid)):
        columns[node.depth].append(node.uid)

    def sweep(indices, neighbours):
        for i in indices:
            position = {uid: p for c in columns for p, uid in enumerate(c)}
            keys = {}
            for p, uid in enumerate(columns[i]):
                linked = [position[n] for n in neighbours[uid]]
                keys[uid] = (sum(linked) / len(linked) if linked else p, p)
            columns[i].sort(key=keys.__getitem__)

    for _ in range(SWEEPS):
        sweep(range(1, n_columns), up)
        sweep(range(n_columns - 2, -1, -1), down)

    def total_crossings() -> int:
        count = 0
        for a in range(n_columns - 1):
            where = {uid: p for p, uid in enumerate(columns[a + 1])}
            ends = sorted((p, where[c]) for p, uid in enumerate(columns[a]) for c in down[uid])
            count += sum(1 for i, x in enumerate(ends) for y in ends[i + 1 :] if x[1] > y[1])
        return count

    position = {}

    def renumber() -> None:
        position.update({uid: p for c in columns for p, uid in enumerate(c)})

    def cost(upper: str, lower: str) -> int:
        """Crossings between the edges of two neighbours of a column, upper above lower."""
        return sum(
            1
            for links in (up, down)
            for a in links[upper]
            for b in links[lower]
            if position[a] > position[b]
        )

    # Then swap neighbours within a column where that removes crossings, as Graphviz's
    # "transpose" step does: the sweeps settle on a local optimum that swaps often
    # improve. A pass that also takes swaps of equal cost lets two swaps that only
    # help together happen; the best order seen is kept.
    def transpose(allow_equal: bool) -> bool:
        improved = False
        for column in columns:
            for p in range(len(column) - 1):
                upper, lower = column[p], column[p + 1]
                now, swapped = cost(upper, lower), cost(lower, upper)
                if swapped < now or (allow_equal and swapped == now > 0):
                    column[p], column[p + 1] = lower, upper
                    position[upper], position[lower] = p + 1, p
                    improved = improved or swapped < now
        return improved

    renumber()
    best = (total_crossings(), [list(c) for c in columns])
    for _ in range(SWEEPS):
        if best[0] == 0:
            break
        while transpose(allow_equal=False):
            pass
        if total_crossings() < best[0]:
            best = (total_crossings(), [list(c) for c in columns])
        transpose(allow_equal=True)
    columns[:] = best[1]
    return columns


def place_rows(nodes: dict[str, Node], columns: list[list[str]], chains) -> None:
    """y of every node: stacked in column order, then pulled towards the mean of its
    linked nodes while keeping the gaps; a few passes, always in the same order."""
    links: dict[str, list[str]] = defaultdict(list)
    for chain in chains:
        for a, b in zip(chain, chain[1:], strict=False):
            links[a].append(b)
            links[b].append(a)

    def gap(a: Node, b: Node) -> float:
        return (a.height + b.height) / 2 + (ROW_GAP if not (a.dummy or b.dummy) else ROW_GAP / 2)

    def pack(column: list[str], wanted: list[float]) -> None:
        ys = list(wanted)
        for i in range(1, len(column)):
            ys[i] = max(ys[i], ys[i - 1] + gap(nodes[column[i - 1]], nodes[column[i]]))
        shift = sum(w - y for w, y in zip(wanted, ys, strict=True)) / len(ys)
        for uid, y in zip(column, ys, strict=True):
            nodes[uid].y = y + shift

    for column in columns:
        pack(column, [0.0] * len(column))
    for _ in range(SWEEPS):
        for column in [*columns, *reversed(columns)]:
            wanted = []
            for uid in column:
                linked = [nodes[n].y for n in links[uid]]
                wanted.append(sum(linked) / len(linked) if linked else nodes[uid].y)
            pack(column, wanted)


def text_width(fig, text: str, size: float, weight: str = "normal") -> float:
    """Width of `text` in inches, as this figure's renderer draws it."""
    artist = fig.text(0, 0, text, fontsize=size, fontweight=weight)
    width = artist.get_window_extent(fig.canvas.get_renderer()).width / fig.dpi
    artist.remove()
    return width


def edge_path(points: list[tuple[float, float]]) -> MplPath:
    """A smooth path through the points, level at each of them (cubic segments)."""
    vertices, codes = [points[0]], [MplPath.MOVETO]
    for (x0, y0), (x1, y1) in zip(points, points[1:], strict=False):
        middle = (x0 + x1) / 2
        vertices += [(middle, y0), (middle, y1), (x1, y1)]
        codes += [MplPath.CURVE4] * 3
    return MplPath(vertices, codes)


def draw(manifest: dict, out: Path, package: str | None = None) -> Path:
    package = package or manifest.get("metadata", {}).get("project_name")
    if not package:
        raise ValueError("the manifest names no project: pass --package")
    nodes = load_nodes(manifest, package)
    if not nodes:
        raise ValueError(f"no sources, seeds, models or exposures of {package!r} in the manifest")
    real = list(nodes.values())  # before the edges' waypoints join them
    assign_depths(nodes)
    chains = add_waypoints(nodes)
    columns = order_columns(nodes, chains)
    place_rows(nodes, columns, chains)

    fig = plt.figure(dpi=DPI)
    box_width = 2 * PAD_X + max(
        max(text_width(fig, n.name, NAME_SIZE, "bold"), text_width(fig, n.detail, DETAIL_SIZE))
        for n in real
    )
    pitch = box_width + COLUMN_GAP
    top = max(n.y + n.height / 2 for n in nodes.values())
    bottom = min(n.y - n.height / 2 for n in nodes.values())
    title_room, legend_room = 0.55, 0.5
    width = 2 * MARGIN + len(columns) * box_width + (len(columns) - 1) * COLUMN_GAP
    width = max(width, 6.0)
    height = 2 * MARGIN + (top - bottom) + title_room + legend_room
    fig.set_size_inches(width, height)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, width)
    # y grows downwards (column order is top to bottom); one data unit is one inch
    ax.set_ylim(top + MARGIN + legend_room, bottom - MARGIN - title_room)
    ax.axis("off")
    x_left = (width - (len(columns) * box_width + (len(columns) - 1) * COLUMN_GAP)) / 2

    def left(node: Node) -> float:
        return x_left + node.depth * pitch

    for chain in chains:
        points = [(left(nodes[chain[0]]) + box_width, nodes[chain[0]].y)]
        for uid in chain[1:-1]:
            y = nodes[uid].y
            points += [(left(nodes[uid]), y), (left(nodes[uid]) + box_width, y)]
        points.append((left(nodes[chain[-1]]), nodes[chain[-1]].y))
        ax.add_patch(
            FancyArrowPatch(
                path=edge_path(points),
                arrowstyle="-|>",
                mutation_scale=13,
                linewidth=1.2,
                color="#555555",
                shrinkA=0,
                shrinkB=0,
                zorder=1,
            )
        )
    for node in real:
        fill, border = COLOURS[node.layer]
        x0, y0 = left(node), node.y - BOX_HEIGHT / 2
        ax.add_patch(
            FancyBboxPatch(
                (x0, y0),
                box_width,
                BOX_HEIGHT,
                boxstyle="round,pad=0,rounding_size=0.08",
                facecolor=fill,
                edgecolor=border,
                linewidth=1.4,
                zorder=2,
            )
        )
        centre = x0 + box_width / 2
        ax.text(centre, node.y - 0.09, node.name, ha="center", va="center",
                fontsize=NAME_SIZE, fontweight="bold", color="#1a1a1a", zorder=3)  # fmt: skip
        ax.text(centre, node.y + 0.15, node.detail, ha="center", va="center",
                fontsize=DETAIL_SIZE, color="#333333", zorder=3)  # fmt: skip

    counts = defaultdict(int)
    for node in real:
        counts[node.kind] += 1
    summary = ", ".join(f"{counts[k]} {k}{'s' if counts[k] != 1 else ''}" for k in sorted(counts))
    ax.text(MARGIN, bottom - MARGIN - title_room / 2, f"dbt DAG of {package}  ({summary})",
            ha="left", va="center", fontsize=12, fontweight="bold")  # fmt: skip
    used = [layer for layer in LAYERS if any(n.layer == layer for n in real)]
    ax.legend(
        handles=[
            Patch(facecolor=COLOURS[la][0], edgecolor=COLOURS[la][1], label=LAYER_LABELS[la])
            for la in used
        ],
        loc="lower left",
        bbox_to_anchor=(MARGIN / width, 0.08 / height),
        ncol=len(used),
        frameon=False,
        fontsize=9,
        handlelength=1.6,
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=DPI, facecolor="white", metadata={"Software": None})
    plt.close(fig)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("manifest", nargs="?", default="target/manifest.json", type=Path)
    parser.add_argument("--out", default="docs/dag.png", type=Path, help="PNG to write")
    parser.add_argument("--package", help="dbt project to draw (default: the manifest's own)")
    args = parser.parse_args(argv)
    try:
        manifest = json.loads(args.manifest.read_text())
        out = draw(manifest, args.out, args.package)
    except (OSError, ValueError) as err:
        print(f"draw_dag: {err}", file=sys.stderr)
        return 2
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
