"""`escalation rules diff OLD NEW INPUT`: what a change of rules moves.

The same input is scored with two rule folders (news files through the normal ingest and
extraction, or event data through the backtest replay); every pair-window whose band or score moved
is listed with the rule hits behind the move: rules that hit only with NEW (added), only with OLD
(removed), or with other points or band limits (changed). Pure table arithmetic on the two runs'
``rule_hits`` and ``pair_scores``: ``diff_tables``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import pandas as pd

KEYS = ["source", "target", "window_start"]
MOVE = 0.005  # a score change below this (scores carry two decimals) is no move


@dataclass
class RuleChange:
    rule_id: str
    kind: str  # added | removed | changed
    old_points: float | None
    new_points: float | None
    old_limits: str = ""  # band floor / cap the rule set ("floor ELEVATED")
    new_limits: str = ""

    def describe(self) -> str:
        def side(points, limits):
            return (f"{points:+.2f}" if points is not None else "—") + (f" ({limits})" if limits else "")

        if self.kind == "added":
            return f"added {self.rule_id} {side(self.new_points, self.new_limits)}"
        if self.kind == "removed":
            return f"removed {self.rule_id} {side(self.old_points, self.old_limits)}"
        return f"changed {self.rule_id} {side(self.old_points, self.old_limits)} → {side(self.new_points, self.new_limits)}"


@dataclass
class PairMove:
    source: str
    target: str
    window_start: str
    old_score: float | None  # None: the pair had no score in that window with OLD
    new_score: float | None
    old_band: str
    new_band: str
    rules: list[RuleChange] = field(default_factory=list)

    @property
    def change(self) -> float:
        return (self.new_score or 0.0) - (self.old_score or 0.0)

    @property
    def band_moved(self) -> bool:
        return self.old_band != self.new_band


def _per_rule(hits: pd.DataFrame) -> pd.DataFrame:
    """Points and band limits per pair-window and rule (a one-group rule may hit several groups)."""
    if hits is None or hits.empty:
        return pd.DataFrame(columns=[*KEYS, "rule_id", "points", "limits"])
    h = hits.assign(window_start=_iso(hits["window_start"]))
    limits = [("; ".join(x for x in (f"floor {f}" if f else "", f"cap {c}" if c else "") if x))
              for f, c in zip(h["band_floor"], h["band_cap"], strict=True)]
    h = h.assign(limits=limits)
    return (h.groupby([*KEYS, "rule_id"], sort=True)
            .agg(points=("contribution", "sum"), limits=("limits", "max")).reset_index())


def _iso(values: pd.Series) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(values):
        return values.dt.strftime("%Y-%m-%d")
    return values.astype(str)


def diff_tables(old_hits: pd.DataFrame, old_scores: pd.DataFrame, new_hits: pd.DataFrame,
                new_scores: pd.DataFrame) -> list[PairMove]:
    """Pair-windows whose band or score differs between two runs on the same input (a pair-window
    scored in one run only counts as moved), each with the rule hits that differ behind it; largest
    moves first."""
    cols = [*KEYS, "score", "band"]
    old = old_scores[cols].assign(window_start=_iso(old_scores["window_start"]))
    new = new_scores[cols].assign(window_start=_iso(new_scores["window_start"]))
    both = old.merge(new, on=KEYS, how="outer", suffixes=("_old", "_new"), indicator=True)
    moved = both[(both["_merge"] != "both") | (both["band_old"] != both["band_new"])
                 | ((both["score_new"] - both["score_old"]).abs() >= MOVE)]
    if moved.empty:
        return []
    rules = _per_rule(old_hits).merge(_per_rule(new_hits), on=[*KEYS, "rule_id"], how="outer",
                                      suffixes=("_old", "_new"))
    rules = rules.merge(moved[KEYS], on=KEYS, how="inner")
    by_pair: dict[tuple, list[RuleChange]] = {}
    for r in rules.itertuples(index=False):
        old_p = None if pd.isna(r.points_old) else float(r.points_old)
        new_p = None if pd.isna(r.points_new) else float(r.points_new)
        old_l = "" if pd.isna(r.limits_old) else r.limits_old
        new_l = "" if pd.isna(r.limits_new) else r.limits_new
        if old_p is None:
            kind = "added"
        elif new_p is None:
            kind = "removed"
        elif abs(new_p - old_p) >= MOVE or old_l != new_l:
            kind = "changed"
        else:
            continue
        by_pair.setdefault((r.source, r.target, r.window_start), []).append(
            RuleChange(r.rule_id, kind, None if old_p is None else round(old_p, 4),
                       None if new_p is None else round(new_p, 4), old_l, new_l))
    moves = []
    for r in moved.itertuples(index=False):
        key = (r.source, r.target, r.window_start)
        moves.append(PairMove(r.source, r.target, r.window_start,
                              None if pd.isna(r.score_old) else float(r.score_old),
                              None if pd.isna(r.score_new) else float(r.score_new),
                              "" if pd.isna(r.band_old) else r.band_old, "" if pd.isna(r.band_new) else r.band_new,
                              by_pair.get(key, [])))
    moves.sort(key=lambda m: (-m.band_moved, -abs(m.change), m.source, m.target, m.window_start))
    return moves


@dataclass
class RulesDiff:
    old: str
    new: str
    input: str
    pair_windows: int  # scored in either run
    moves: list[PairMove]
    figures: dict | None = None  # backtest figures, old -> new (event input only)
    note: str = ""

    def to_json(self) -> dict:
        """Plain data for ``json.dumps`` (a figure that cannot be computed is null)."""
        from engine.backtest import _no_nan

        out = asdict(self)
        for move, m in zip(out["moves"], self.moves, strict=True):
            move["change"] = round(m.change, 4)
            move["band_moved"] = m.band_moved
        return _no_nan(out)


def _score(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def render_diff(diff: RulesDiff, limit: int = 50) -> str:
    """Markdown: the moved pairs (largest first, band changes before score-only moves) and, for
    event input, the backtest figures side by side."""
    bands = sum(m.band_moved for m in diff.moves)
    lines = [f"# Rules diff: `{diff.old}` → `{diff.new}`", "",
             f"Input: {diff.input}. {diff.pair_windows:,} pair-windows scored; **{len(diff.moves):,} moved** "
             f"({bands:,} changed band)." + (f" {diff.note}" if diff.note else ""), ""]
    if diff.moves:
        lines += ["| pair | window | score | band | rule hits behind the move |", "|---|---|---|---|---|"]
        for m in diff.moves[:limit]:
            band = m.old_band or "—" if not m.band_moved else f"**{m.old_band or '—'} → {m.new_band or '—'}**"
            score = f"{_score(m.old_score)} → {_score(m.new_score)} ({m.change:+.1f})"
            why = "; ".join(c.describe() for c in m.rules) or "none (the model part moved)"
            lines.append(f"| {m.source}→{m.target} | {m.window_start} | {score} | {band} | {why} |")
        if len(diff.moves) > limit:
            lines.append(f"\n… and {len(diff.moves) - limit:,} more (all of them with --json).")
        lines.append("")
    if diff.figures:
        names = ["roc_auc", "pr_auc", "p_at_10", "p_at_25", "p_at_50", "brier", "flag_precision", "flag_recall"]
        heads = ["ROC-AUC", "PR-AUC", "P@10", "P@25", "P@50", "Brier", "flag precision", "flag recall"]
        lines += ["## Backtest figures, old → new (test windows only)", "",
                  "| ranking | " + " | ".join(heads) + " |", "|---" * (len(heads) + 1) + "|"]
        same = []
        for method, figs in diff.figures.items():
            moved = lambda v: v is not None and v["change"] is not None and abs(v["change"]) >= 5e-5  # noqa: E731
            if not any(moved(v) for v in figs.values()):
                same.append(method)
                continue
            cells = []
            for name in names:
                v = figs.get(name)
                cells.append("—" if not v or v["old"] is None else
                             f"{v['old']:.4f} → {v['new']:.4f} ({v['change']:+.4f})" if moved(v) else f"{v['old']:.4f}")
            lines.append(f"| {method} | " + " | ".join(cells) + " |")
        if same:
            lines.append(f"\nUnchanged: {', '.join(same)}.")
        lines.append("")
    return "\n".join(lines)


def diff_scored(old_result, new_result, old: str, new: str, input_name: str) -> RulesDiff:
    """Two ScoreResults of the same input."""
    moves = diff_tables(old_result.rule_hits, old_result.pair_scores, new_result.rule_hits, new_result.pair_scores)
    keys = pd.concat([old_result.pair_scores[KEYS], new_result.pair_scores[KEYS]]).drop_duplicates()
    return RulesDiff(old, new, input_name, len(keys), moves)


def diff_backtests(old_bt, new_bt, old: str, new: str, input_name: str) -> RulesDiff:
    """Two backtests of the same event file: every replayed pair-window (train and test part) and
    the figures (test part)."""
    from engine.backtest import diff_figures

    moves = diff_tables(old_bt.hits, old_bt.scores, new_bt.hits, new_bt.scores)
    keys = pd.concat([old_bt.scores[KEYS], new_bt.scores[KEYS]]).drop_duplicates()
    note = ""
    if old_bt.n_pairs != new_bt.n_pairs:
        note = f"The replayed pairs differ ({old_bt.n_pairs} vs {new_bt.n_pairs}): the CAMEO mappings differ."
    return RulesDiff(old, new, input_name, len(keys), moves, diff_figures(old_bt, new_bt), note)
