"""The report's charts, drawn with matplotlib as inline SVG strings (no script, no request).

Colours follow the bands and every chart also carries its numbers as text or line styles, so it
reads in grey-scale.
"""

from __future__ import annotations

import io
import math

import matplotlib

matplotlib.use("Agg")  # no display: render to SVG only
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

BAND_COLOURS = {"LOW": "#4d9221", "GUARDED": "#b8b800", "ELEVATED": "#e08214", "HIGH": "#d7301f", "SEVERE": "#67000d"}
LINE_STYLES = ["-", "--", "-.", ":", (0, (5, 1))]
MAX_NETWORK_EDGES = 40
MAX_HEATMAP_ACTORS = 20
MAX_TREND_PAIRS = 5

plt.rcParams.update({"svg.fonttype": "none", "font.size": 9, "svg.hashsalt": "escalation-report"})


def _svg(fig) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight")
    plt.close(fig)
    text = buf.getvalue()
    return text[text.index("<svg"):]  # drop the XML prolog and doctype: the SVG sits inside HTML


def network(ranked: pd.DataFrame) -> str:
    """Directed actor network of the highest-scoring pairs: edge colour = band, width = score."""
    edges = ranked.head(MAX_NETWORK_EDGES)
    actors = sorted(set(edges["source"]) | set(edges["target"]))
    if not actors:
        return ""
    angle = {a: 2 * math.pi * i / len(actors) for i, a in enumerate(actors)}
    pos = {a: (math.cos(t), math.sin(t)) for a, t in angle.items()}
    fig, ax = plt.subplots(figsize=(6.5, 6.5))
    for row in edges.itertuples():
        (x1, y1), (x2, y2) = pos[row.source], pos[row.target]
        ax.annotate("", xy=(x2, y2), xytext=(x1, y1),
                    arrowprops={"arrowstyle": "-|>", "color": BAND_COLOURS[row.band], "lw": 0.5 + row.score / 15,
                                "shrinkA": 14, "shrinkB": 14, "connectionstyle": "arc3,rad=0.12"})
    for actor, (x, y) in pos.items():
        ax.text(x, y, actor, ha="center", va="center", fontsize=9, fontweight="bold",
                bbox={"boxstyle": "round,pad=0.3", "fc": "white", "ec": "#333"})
    ax.set_xlim(-1.3, 1.3)
    ax.set_ylim(-1.3, 1.3)
    ax.axis("off")
    handles = [plt.Line2D([], [], color=c, lw=3, label=b) for b, c in BAND_COLOURS.items()]
    ax.legend(handles=handles, loc="lower center", ncol=5, frameon=False, bbox_to_anchor=(0.5, -0.08))
    return _svg(fig)


def heatmap(ranked: pd.DataFrame) -> str:
    """Source x target grid of each pair's latest score, numbers written in the cells."""
    if ranked.empty:
        return ""
    top = pd.concat([ranked["source"], ranked["target"]]).value_counts().head(MAX_HEATMAP_ACTORS).index
    sub = ranked[ranked["source"].isin(top) & ranked["target"].isin(top)]
    grid = sub.pivot_table(index="source", columns="target", values="score", aggfunc="max")
    if grid.empty:
        return ""
    fig, ax = plt.subplots(figsize=(1.2 + 0.55 * len(grid.columns), 1.0 + 0.45 * len(grid.index)))
    image = ax.imshow(grid.to_numpy(dtype=float), cmap="Greys", vmin=0, vmax=100, aspect="auto")
    ax.set_xticks(range(len(grid.columns)), grid.columns, rotation=45, ha="right")
    ax.set_yticks(range(len(grid.index)), grid.index)
    ax.set_xlabel("target")
    ax.set_ylabel("source")
    for i, j in zip(*grid.notna().to_numpy().nonzero(), strict=True):
        value = grid.iat[i, j]
        ax.text(j, i, f"{value:.0f}", ha="center", va="center", color="white" if value > 55 else "black")
    fig.colorbar(image, ax=ax, label="score")
    return _svg(fig)


def trends(pair_scores: pd.DataFrame, ranked: pd.DataFrame) -> str:
    """Score per window for the top pairs, when the input spans more than one window."""
    if pair_scores["window_start"].nunique() < 2:
        return ""
    fig, ax = plt.subplots(figsize=(7, 3.2))
    for k, row in enumerate(ranked.head(MAX_TREND_PAIRS).itertuples()):
        series = pair_scores[(pair_scores["source"] == row.source) & (pair_scores["target"] == row.target)]
        series = series.sort_values("window_start")
        ax.plot(pd.to_datetime(series["window_start"]), series["score"], marker="o",
                linestyle=LINE_STYLES[k % len(LINE_STYLES)], color="#222", label=f"{row.source}→{row.target}")
    ax.set_ylim(0, 100)
    ax.set_ylabel("score")
    ax.set_xlabel("window start")
    ax.grid(alpha=0.3)
    ax.legend(frameon=False, fontsize=8, loc="upper left", bbox_to_anchor=(1, 1))
    fig.autofmt_xdate()
    return _svg(fig)
