"""The report's charts, drawn with matplotlib as inline SVG strings (no script, no request).

Every chart carries its meaning twice, so it reads in grey-scale and for colour-blind readers: the
trend lines differ in colour (Okabe-Ito palette) *and* marker, network edges in colour *and* line
style per band with the band's name in the legend, and the heat map writes each score in its cell.
Actors are labelled by name (``names``: code -> name, from the run's actor dictionary). Output is
deterministic (fixed hash salt, no date in the SVG).
"""

from __future__ import annotations

import io
import math
import textwrap

import matplotlib

matplotlib.use("Agg")  # no display: render to SVG only
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

# An ordered, colour-blind-safe scale (ColorBrewer RdYlBu ends, no yellow): blue for low risk to dark
# red for severe; neighbours differ in lightness as well as hue. Line styles repeat the order.
BAND_COLOURS = {"LOW": "#4575b4", "GUARDED": "#91bfdb", "ELEVATED": "#fdae61", "HIGH": "#e34a33", "SEVERE": "#7f0000"}
BAND_STYLES = {"LOW": ":", "GUARDED": "--", "ELEVATED": "-", "HIGH": "-", "SEVERE": "-"}
# Okabe & Ito (2008), the colour-blind-safe qualitative palette, with one marker each
PAIR_COLOURS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442"]
PAIR_MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*"]
MAX_NETWORK_EDGES = 15
MAX_HEATMAP_ACTORS = 15
MAX_TREND_PAIRS = 6
MAX_TICK_LABELS = 14

plt.rcParams.update({"svg.fonttype": "none", "font.size": 10, "svg.hashsalt": "escalation-report",
                     "font.family": "DejaVu Sans"})


def _svg(fig) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None, "Creator": None})
    plt.close(fig)
    text = buf.getvalue()
    text = text[text.index("<svg"):]  # drop the XML prolog and doctype: the SVG sits inside HTML
    if "<metadata>" in text:  # and the RDF block (format and creator names, not shown)
        text = text[:text.index("<metadata>")] + text[text.index("</metadata>") + len("</metadata>"):]
    # scale to the page: the width follows the column, the height the aspect ratio (viewBox)
    head, rest = text.split(">", 1)
    for attribute in ("width", "height"):
        start = head.find(f' {attribute}="')
        if start >= 0:
            end = head.index('"', start + len(attribute) + 3)
            head = head[:start] + head[end + 1:]
    return head + ' preserveAspectRatio="xMidYMid meet">' + rest


def _label(name: str, width: int = 16) -> str:
    return "\n".join(textwrap.wrap(name, width)) or name


def _identity(code: str) -> str:
    return code


def network(ranked: pd.DataFrame, names=_identity, bands: dict[str, float] | None = None) -> str:
    """Directed actor network of the highest-scoring pairs: edge colour and style = band, width = score."""
    edges = ranked.head(MAX_NETWORK_EDGES)
    if edges.empty:
        return ""
    weight = pd.concat([edges[["source", "score"]].rename(columns={"source": "a"}),
                        edges[["target", "score"]].rename(columns={"target": "a"})]).groupby("a")["score"].max()
    actors = list(weight.sort_values(ascending=False, kind="stable").index)
    # the most exposed actors spread round the circle (alternating), so heavy edges do not all bunch
    order = actors[0::2] + actors[1::2][::-1]
    angle = {a: math.pi / 2 - 2 * math.pi * i / len(order) for i, a in enumerate(order)}
    pos = {a: (math.cos(t), math.sin(t)) for a, t in angle.items()}
    fig, ax = plt.subplots(figsize=(10, 7.2))
    for row in edges.sort_values("score").itertuples():
        (x1, y1), (x2, y2) = pos[row.source], pos[row.target]
        ax.annotate("", xy=(x2, y2), xytext=(x1, y1),
                    arrowprops={"arrowstyle": "-|>,head_length=0.8,head_width=0.4", "color": BAND_COLOURS[row.band],
                                "lw": 1.0 + row.score / 14, "linestyle": BAND_STYLES[row.band],
                                "shrinkA": 26, "shrinkB": 26, "connectionstyle": "arc3,rad=0.15"})
    for actor, (x, y) in pos.items():
        ax.text(x, y, _label(names(actor)), ha="center", va="center", fontsize=9.5, fontweight="bold",
                bbox={"boxstyle": "round,pad=0.35", "fc": "white", "ec": "#333"})
    ax.set_xlim(-1.35, 1.35)
    ax.set_ylim(-1.2, 1.2)
    ax.axis("off")
    edges_of = bands or {}
    handles = [plt.Line2D([], [], color=c, lw=3.5, linestyle=BAND_STYLES[b],
                          label=f"{b} ≥ {edges_of[b]:g}" if b in edges_of else b) for b, c in BAND_COLOURS.items()]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False, title="band (arrow colour)",
              handlelength=3.2)
    return _svg(fig)


def heatmap(ranked: pd.DataFrame, names=_identity) -> str:
    """Source x target grid of each pair's latest score, actors ordered by risk (their highest score),
    the number written in each cell."""
    if ranked.empty:
        return ""
    risk = pd.concat([ranked[["source", "score"]].rename(columns={"source": "a"}),
                      ranked[["target", "score"]].rename(columns={"target": "a"})]).groupby("a")["score"].max()
    top = list(risk.sort_values(ascending=False, kind="stable").index[:MAX_HEATMAP_ACTORS])
    sub = ranked[ranked["source"].isin(top) & ranked["target"].isin(top)]
    grid = sub.pivot_table(index="source", columns="target", values="score", aggfunc="max")
    if grid.empty:
        return ""
    grid = grid.reindex(index=[a for a in top if a in grid.index], columns=[a for a in top if a in grid.columns])
    fig, ax = plt.subplots(figsize=(max(6.0, 2.6 + 0.75 * len(grid.columns)), max(3.0, 1.4 + 0.5 * len(grid.index))))
    image = ax.imshow(grid.to_numpy(dtype=float), cmap="OrRd", vmin=0, vmax=100, aspect="auto")
    ax.set_xticks(range(len(grid.columns)), [_label(names(c), 14) for c in grid.columns], rotation=40, ha="right",
                  fontsize=9)
    ax.set_yticks(range(len(grid.index)), [names(c) for c in grid.index], fontsize=9)
    ax.set_xlabel("target")
    ax.set_ylabel("source")
    for i, j in zip(*grid.notna().to_numpy().nonzero(), strict=True):
        value = grid.iat[i, j]
        ax.text(j, i, f"{value:.0f}", ha="center", va="center", color="white" if value > 55 else "black", fontsize=9)
    fig.colorbar(image, ax=ax, label="score (0-100)", fraction=0.04)
    return _svg(fig)


def trends(pair_scores: pd.DataFrame, ranked: pd.DataFrame, names=_identity, window: str = "week") -> str:
    """Score per window for the top pairs: one colour and marker each, a window without a score is a
    gap in the line, one tick per window."""
    if pair_scores["window_start"].nunique() < 2:
        return ""
    from engine.windows import window_frequency

    starts = pd.to_datetime(pair_scores["window_start"])
    windows = pd.date_range(starts.min(), starts.max(), freq=window_frequency(window))
    fig, ax = plt.subplots(figsize=(10, 4.2))
    for k, row in enumerate(ranked.head(MAX_TREND_PAIRS).itertuples()):
        series = pair_scores[(pair_scores["source"] == row.source) & (pair_scores["target"] == row.target)]
        values = series.set_index(pd.to_datetime(series["window_start"]))["score"].reindex(windows)
        ax.plot(windows, values.to_numpy(dtype=float), marker=PAIR_MARKERS[k % len(PAIR_MARKERS)], markersize=7,
                color=PAIR_COLOURS[k % len(PAIR_COLOURS)], lw=2, label=f"{names(row.source)} → {names(row.target)}")
    ax.set_ylim(0, 100)
    ax.set_ylabel("score")
    ax.set_xlabel(f"{window} starting")
    step = max(1, math.ceil(len(windows) / MAX_TICK_LABELS))
    ax.set_xticks(windows)
    ax.set_xticklabels([w.strftime("%d %b %Y") if i % step == 0 else "" for i, w in enumerate(windows)],
                       rotation=30, ha="right")
    ax.set_xlim(windows[0] - (windows[1] - windows[0]) * 0.3, windows[-1] + (windows[1] - windows[0]) * 0.3)
    ax.grid(alpha=0.3)
    ax.legend(frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return _svg(fig)
