"""`escalation rules backtest`: replay real event history through the rules and the full score.

For every directed pair and window of an event file (ICEWS, ``../shared/data/events/``) the events
become signals (``engine.model.train.events_to_signals``, through the folder's
``cameo_mapping.yaml``), the rules give hits and a rules score, the classifier a probability, and
the score formula of ``bands.yaml`` a 0-100 score and a band, exactly as for news text. Each
window's score and band are then compared with what happened in the **next** window: a
material-conflict event (CAMEO 18-20) from the source against the target.

No peeking: the windows are split in time as the classifier's training does (the first 70 % of
windows, then the rest, ``engine.model.train.split_by_time``); pairs are chosen by their number of
events in the first part only, and every figure is computed on the test part only. The shipped
classifier was fitted on ICEWS18's first 70 % of weekly windows, so on that file the test part is
unseen; it never saw the other files.

Baselines in the same run, on the same rows: persistence (a material-conflict event this window)
and the pair's recent attack rate (share of the last 4 windows with one). Then a rule ablation:
each rule's hits dropped in turn (rules are independent: a rule's hits do not depend on the other
rules), the rules scores, scores and bands recomputed (the classifier's probability too when its
features read the rules score), and the change
in PR-AUC (and precision at 25, HIGH-or-above recall) reported.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

from engine.schemas import BANDS

TRAIN_SHARE = 0.7
MIN_EVENTS = 30  # events of a pair in the train windows for it to be replayed
KS = (10, 25, 50)
RATE_WINDOWS = 4  # the attack-rate baseline: share of the last 4 windows with a material-conflict event
FLAG_BAND = "HIGH"  # "HIGH or above"
MATERIAL_CONFLICT = ("18", "19", "20")


@dataclass
class Figures:
    """How well one ranking anticipates next-window material conflict, on the test rows."""

    roc_auc: float
    pr_auc: float
    brier: float | None  # None: the ranking is not a probability (e.g. the raw rules score)
    precision_at: dict[str, float]  # k -> mean over test windows of the share of true pairs in the top k
    flag_precision: float | None  # rows flagged (band HIGH or above, or the baseline's rule): share true
    flag_recall: float | None  # true rows: share flagged
    flagged: int | None
    how_flagged: str = ""


@dataclass
class Ablation:
    rule_id: str
    status: str
    file: str
    test_hits: int  # the rule's hits in the test windows (replayed pairs)
    test_points: float  # their summed points
    pr_auc: float  # PR-AUC of the score without the rule
    delta_pr_auc: float  # without minus with: negative = the rule helps
    delta_p_at_25: float
    delta_flag_recall: float
    delta_flag_precision: float


@dataclass
class Backtest:
    data: str
    granularity: str
    n_pairs: int
    pair_rule: str
    train_windows: tuple[str, str]
    test_windows: tuple[str, str]
    n_test_windows: int
    n_test_rows: int
    positive_rate: float
    methods: dict[str, Figures]
    ablation: list[Ablation] = field(default_factory=list)
    rules_sha256: str = ""
    model_sha256: str | None = None
    rules_dir: str = ""
    n_rules: int = 0
    seconds: float = 0.0
    # every replayed pair-window (part: train | test) and the rule hits behind them (not in the JSON)
    scores: pd.DataFrame | None = field(default=None, repr=False)
    hits: pd.DataFrame | None = field(default=None, repr=False)

    def to_json(self) -> dict:
        out = asdict(self)
        out.pop("scores")
        out.pop("hits")
        return out


# --------------------------------------------------------------------------- replay
@dataclass
class Replay:
    """Events, the replayed pairs and windows, the rule hits, and the test cut."""

    events: pd.DataFrame  # the replayed pairs' events
    all_events: pd.DataFrame  # every event of the file (context for the classifier's features)
    pairs: list[tuple[str, str]]
    windows: pd.DatetimeIndex
    cut: pd.Timestamp
    hits: pd.DataFrame  # source, target, window_start (Timestamp), rule_id, contribution, band_floor, band_cap
    conflict: pd.DataFrame  # grid (source, target, window_start) -> conflict (0/1) this window


def _window_grid(events: pd.DataFrame, granularity: str) -> pd.DatetimeIndex:
    from engine.windows import window_frequency, window_starts

    starts = window_starts(events["date"], granularity)
    return pd.date_range(starts.min(), starts.max(), freq=window_frequency(granularity))


def replay(events: pd.DataFrame, config, granularity: str = "week", min_events: int = MIN_EVENTS,
           train_share: float = TRAIN_SHARE) -> Replay:
    """Rule hits for the pairs with at least ``min_events`` events in the train windows."""
    from engine.model.train import events_to_signals
    from engine.rules.engine import hits_table, run_rules, signal_groups
    from engine.windows import window_starts

    if events.empty:
        raise ValueError("no dyadic events to replay (none of the file's CAMEO roots maps to a signal type?)")
    windows = _window_grid(events, granularity)
    labelled = windows[:-1]  # the last window has no next window
    if len(labelled) < 4:
        raise ValueError(f"only {len(windows)} {granularity} windows in the events: too few for a time split")
    cut = labelled[int(len(labelled) * train_share)]
    starts = window_starts(events["date"], granularity)
    counts = events[starts < cut].groupby(["source", "target"]).size()
    pairs = sorted(counts[counts >= min_events].index)
    if not pairs:
        raise ValueError(f"no pair has {min_events} events before {cut.date()}: nothing to replay")
    kept = events.set_index(["source", "target"]).loc[pairs].reset_index()
    hits = hits_table(run_rules(config.rules, signal_groups(events_to_signals(kept), config.actors, granularity)),
                      "backtest")
    hits = hits[pd.MultiIndex.from_frame(hits[["source", "target"]]).isin(pairs)] if len(hits) else hits
    hits = hits.assign(window_start=pd.to_datetime(hits["window_start"]))
    rule_status = {r.id: r.rule.status for r in config.rules}
    if "rule_status" not in hits:
        hits["rule_status"] = hits["rule_id"].map(rule_status).fillna("stable")
    kstarts = window_starts(kept["date"], granularity)
    conflict = kept.assign(window_start=kstarts, conflict=kept["cameo"].str[:2].isin(MATERIAL_CONFLICT))
    conflict = conflict.groupby(["source", "target", "window_start"])["conflict"].any()
    windows = _window_grid(kept, granularity)  # the classifier's feature rows span the replayed pairs' events
    grid = pd.MultiIndex.from_tuples([(s, t, w) for s, t in pairs for w in windows],
                                     names=["source", "target", "window_start"])
    conflict = conflict.reindex(grid, fill_value=False).astype(int).rename("conflict").reset_index()
    return Replay(kept, events, pairs, windows, cut, hits, conflict)


def _rules_table(hits: pd.DataFrame) -> pd.DataFrame:
    """Rules score, highest floor and lowest cap per pair-window."""
    keys = ["source", "target", "window_start"]
    if hits.empty:
        return pd.DataFrame(columns=[*keys, "rules_score", "floor", "cap"])
    floor = hits["band_floor"].map({b: i for i, b in enumerate(BANDS)}).fillna(-1)
    cap = hits["band_cap"].map({b: i for i, b in enumerate(BANDS)}).fillna(len(BANDS))
    return (hits.assign(_floor=floor, _cap=cap).groupby(keys)
            .agg(rules_score=("contribution", "sum"), floor=("_floor", "max"), cap=("_cap", "min")).reset_index())


def model_probabilities(rep: Replay, rules: pd.DataFrame | None, config, granularity: str) -> pd.DataFrame:
    """The classifier's probability per replayed pair-window, its features built from every event of
    the file (third parties count as context). If the classifier reads the rules score (an older
    ``build_features`` takes ``rules_scores``), pass the rules table; otherwise it is not needed and
    the probabilities do not change when a rule is dropped."""
    from engine.model.features import build_features
    from engine.model.train import predict

    keys = ["source", "target", "window_start"]
    kwargs = {"pairs": rep.pairs}
    if reads_rules_score():
        kwargs["rules_scores"] = rules[[*keys, "rules_score"]] if rules is not None else None
    rows = build_features(rep.all_events, granularity, **kwargs)
    return rows[keys].assign(model_probability=predict(config.model, rows))


def reads_rules_score() -> bool:
    import inspect

    from engine.model.features import build_features

    return "rules_scores" in inspect.signature(build_features).parameters


def full_scores(rep: Replay, hits: pd.DataFrame, config, granularity: str,
                probabilities: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every replayed pair-window: rules score, model probability, score and band (the engine's own
    formula and band limits), with the conflict flags of this and the next window."""
    keys = ["source", "target", "window_start"]
    rules = _rules_table(hits)
    if probabilities is None:
        probabilities = model_probabilities(rep, rules, config, granularity)
    table = rep.conflict.merge(probabilities, on=keys, how="left")
    table = table.merge(rules, on=keys, how="left")
    table["rules_score"] = table["rules_score"].fillna(0.0)
    table["model_probability"] = table["model_probability"].fillna(0.0)
    formula = config.formula
    table["score"] = formula.scores(table["rules_score"], table["model_probability"])
    floors = ["" if f < 0 else BANDS[f] for f in table["floor"].fillna(-1).astype(int)]
    caps = ["" if c >= len(BANDS) else BANDS[c] for c in table["cap"].fillna(len(BANDS)).astype(int)]
    table["band"] = np.array(BANDS, dtype=object)[formula.band_levels(table["score"], floors, caps)]
    table = table.sort_values(keys, kind="stable").reset_index(drop=True)
    by_pair = table.groupby(["source", "target"], sort=False)["conflict"]
    table["label"] = by_pair.shift(-1)
    table["attack_rate"] = by_pair.transform(lambda s: s.rolling(RATE_WINDOWS, min_periods=1).mean())
    return table.dropna(subset=["label"]).astype({"label": int})


# --------------------------------------------------------------------------- figures
def precision_at_k(frame: pd.DataFrame, column: str, k: int) -> float:
    """Mean over windows of the share of true rows among the ``k`` highest; ties at the k-th value
    count at their mean (the expected precision of a random tie-break: fair to 0/1 baselines)."""
    shares = []
    for _, window in frame.groupby("window_start", sort=True):
        scores, labels = window[column].to_numpy(float), window["label"].to_numpy(float)
        n = min(k, len(scores))
        if n == 0:
            continue
        kth = np.sort(scores)[::-1][n - 1]
        above = scores > kth
        tied = scores == kth
        shares.append((labels[above].sum() + (n - above.sum()) * labels[tied].mean()) / n)
    return float(np.mean(shares)) if shares else float("nan")


def figures(frame: pd.DataFrame, column: str, probability: str | None, flagged: pd.Series | None,
            how_flagged: str = "") -> Figures:
    y = frame["label"].to_numpy(int)
    s = frame[column].to_numpy(float)
    both = len(set(y)) > 1
    flag_p = flag_r = n_flag = None
    if flagged is not None:
        f = flagged.to_numpy(bool)
        n_flag = int(f.sum())
        flag_p = float(y[f].mean()) if n_flag else 0.0
        flag_r = float(f[y == 1].mean()) if (y == 1).any() else 0.0
    return Figures(
        roc_auc=float(roc_auc_score(y, s)) if both else float("nan"),
        pr_auc=float(average_precision_score(y, s)) if both else float("nan"),
        brier=float(brier_score_loss(y, frame[probability].to_numpy(float))) if probability else None,
        precision_at={str(k): precision_at_k(frame, column, k) for k in KS},
        flag_precision=flag_p, flag_recall=flag_r, flagged=n_flag, how_flagged=how_flagged)


def _high(frame: pd.DataFrame) -> pd.Series:
    return frame["band"].map(BANDS.index) >= BANDS.index(FLAG_BAND)


def method_figures(test: pd.DataFrame, formula) -> dict[str, Figures]:
    t = test.assign(score_p=test["score"] / 100,
                    rules_part=np.maximum(test["rules_score"], 0) / (np.maximum(test["rules_score"], 0)
                                                                     + formula.rules_half),
                    persistence=test["conflict"].astype(float))
    return {
        "score (rules + model)": figures(t, "score", "score_p", _high(t), f"band {FLAG_BAND} or above"),
        "rules score alone": figures(t, "rules_score", "rules_part", None),
        "model probability alone": figures(t, "model_probability", "model_probability",
                                           t["model_probability"] >= 0.5, "probability >= 0.5"),
        "persistence": figures(t, "persistence", "persistence", t["conflict"] == 1, "an event this window"),
        f"attack rate (last {RATE_WINDOWS})": figures(t, "attack_rate", "attack_rate", t["attack_rate"] >= 0.5,
                                                      "rate >= 0.5"),
    }


# --------------------------------------------------------------------------- the whole run
def run_backtest(events_path: str | Path, config, granularity: str = "week", *, ablation: bool = True,
                 progress: Callable[[str], None] | None = None, events: pd.DataFrame | None = None) -> Backtest:
    """Replay ``events_path`` through ``config`` (a RunConfig); figures on the test windows only."""
    from engine.model.events import from_icews

    started = time.time()
    say = progress or (lambda text: None)
    say(f"reading {Path(events_path).name}")
    if events is None:
        events = from_icews(events_path, config.cameo_mapping, config.actors)
    say("running the rules")
    rep = replay(events, config, granularity)
    say("scoring every pair and window")
    # the classifier's probabilities do not depend on the rules unless it reads the rules score
    fixed = None if reads_rules_score() else model_probabilities(rep, None, config, granularity)
    table = full_scores(rep, rep.hits, config, granularity, fixed)
    test = table[table["window_start"] >= rep.cut].reset_index(drop=True)
    train = table[table["window_start"] < rep.cut]
    methods = method_figures(test, config.formula)
    fmt = lambda ts: pd.Timestamp(ts).date().isoformat()  # noqa: E731
    result = Backtest(
        data=Path(events_path).name, granularity=granularity, n_pairs=len(rep.pairs),
        pair_rule=f">= {MIN_EVENTS} events before {fmt(rep.cut)}",
        train_windows=(fmt(train["window_start"].min()), fmt(train["window_start"].max())),
        test_windows=(fmt(test["window_start"].min()), fmt(test["window_start"].max())),
        n_test_windows=int(test["window_start"].nunique()), n_test_rows=len(test),
        positive_rate=float(test["label"].mean()), methods=methods, rules_sha256=config.rules_sha256,
        model_sha256=config.model_sha256, rules_dir=str(config.rules_dir), n_rules=len(config.rules),
        scores=table.assign(part=np.where(table["window_start"] >= rep.cut, "test", "train")), hits=rep.hits)
    if ablation:
        base = methods["score (rules + model)"]
        test_hits = rep.hits[rep.hits["window_start"] >= rep.cut]
        for i, loaded in enumerate(config.rules):
            say(f"ablation {i + 1}/{len(config.rules)}: without {loaded.id}")
            mine = rep.hits["rule_id"] == loaded.id
            if not mine.any():
                dropped = base
            else:
                t = full_scores(rep, rep.hits[~mine], config, granularity, fixed)
                t = t[t["window_start"] >= rep.cut].reset_index(drop=True)
                dropped = figures(t, "score", None, _high(t))
            own = test_hits[test_hits["rule_id"] == loaded.id]
            result.ablation.append(Ablation(
                loaded.id, loaded.rule.status, f"{Path(loaded.file).name}:{loaded.line}", len(own),
                round(float(own["contribution"].sum()), 2), dropped.pr_auc, dropped.pr_auc - base.pr_auc,
                dropped.precision_at["25"] - base.precision_at["25"], dropped.flag_recall - base.flag_recall,
                dropped.flag_precision - base.flag_precision))
        result.ablation.sort(key=lambda a: (a.delta_pr_auc, a.rule_id))
    result.seconds = round(time.time() - started, 1)
    return result


# --------------------------------------------------------------------------- writing
def _f(value, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "—"
    return f"{value:.{digits}f}"


def render_markdown(bt: Backtest, command: str = "") -> str:
    lines = [f"# Rules backtest: {bt.data}, {bt.granularity}ly windows", ""]
    if command:
        lines += [f"`{command}`", ""]
    lines += [
        f"Rules: `{bt.rules_dir}` ({bt.n_rules} rules, sha256 {bt.rules_sha256[:12]}); classifier sha256 "
        f"{(bt.model_sha256 or 'built in memory')[:12]}.",
        f"Pairs replayed: {bt.n_pairs} ({bt.pair_rule}). Time split, no peeking: windows "
        f"{bt.train_windows[0]} .. {bt.train_windows[1]} are the train part (not scored here), every figure "
        f"is on the **test part only**: {bt.n_test_windows} windows {bt.test_windows[0]} .. {bt.test_windows[1]}, "
        f"{bt.n_test_rows:,} pair-windows, {bt.positive_rate:.1%} followed by a material-conflict event "
        "(CAMEO 18-20, source against target) in the next window.",
        "",
        "| ranking | ROC-AUC | PR-AUC | P@10 | P@25 | P@50 | Brier | flagged | flag precision | flag recall |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, m in bt.methods.items():
        flagged = f"{m.flagged:,} ({m.how_flagged})" if m.flagged is not None else "—"
        lines.append(f"| {name} | {_f(m.roc_auc)} | {_f(m.pr_auc)} | {_f(m.precision_at['10'])} | "
                     f"{_f(m.precision_at['25'])} | {_f(m.precision_at['50'])} | {_f(m.brier, 4)} | {flagged} | "
                     f"{_f(m.flag_precision)} | {_f(m.flag_recall)} |")
    lines += ["",
              "P@k: share of the k highest pairs of each test window that see a material-conflict event the next "
              "window (mean over windows; ties count at their mean). Brier: of score / 100 for the score (not a "
              "calibrated probability), of the rules part for the rules score. Flagged: the score's band "
              f"{FLAG_BAND} or above (after the rules' band floors and caps); the baselines' flags are named.", ""]
    if bt.ablation:
        lines += ["## Rule ablation: each rule dropped", "",
                  "Change when the rule's hits are removed and the rules scores, scores and bands recomputed (the "
                  "classifier's probability as well, if it reads the rules score). A **negative** ΔPR-AUC means the rule earns its points (the score is "
                  "worse without it); positive means the score is better without it.", "",
                  "| rule | status | where | test hits | test points | PR-AUC without | ΔPR-AUC | ΔP@25 | "
                  "Δflag recall | Δflag precision |", "|---|---|---|---|---|---|---|---|---|---|"]
        for a in bt.ablation:
            lines.append(f"| {a.rule_id} | {a.status} | {a.file} | {a.test_hits:,} | {a.test_points:+,.1f} | "
                         f"{_f(a.pr_auc)} | {a.delta_pr_auc:+.4f} | {a.delta_p_at_25:+.4f} | "
                         f"{a.delta_flag_recall:+.4f} | {a.delta_flag_precision:+.4f} |")
        lines.append("")
    lines.append(f"Run time {bt.seconds:.0f} s.")
    return "\n".join(lines) + "\n"


def write_backtest(bt: Backtest, out: Path, command: str = "") -> list[Path]:
    """backtest.md and backtest.json into ``out`` (each written whole, then renamed into place)."""
    out.mkdir(parents=True, exist_ok=True)
    record = bt.to_json() | {"command": command,
                             "written": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
    written = []
    for name, text in (("backtest.json", json.dumps(_no_nan(record), indent=2, default=_jsonable,
                                                    allow_nan=False) + "\n"),
                       ("backtest.md", render_markdown(bt, command))):
        tmp = out / f".{name}.tmp"
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, out / name)
        written.append(out / name)
    return written


def _no_nan(value):
    """NaN (a figure that cannot be computed, e.g. ROC-AUC with one class) as null: strict JSON."""
    if isinstance(value, dict):
        return {k: _no_nan(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_no_nan(v) for v in value]
    if isinstance(value, float | np.floating) and np.isnan(value):
        return None
    return value


def _jsonable(value):
    if isinstance(value, float | np.floating):
        return None if np.isnan(value) else float(value)
    if isinstance(value, np.integer):
        return int(value)
    return str(value)


# --------------------------------------------------------------------------- diff of two backtests
def diff_figures(old: Backtest, new: Backtest) -> dict:
    """The change of every figure from ``old`` to ``new`` (same events, window and split)."""
    rows = {}
    for name in old.methods:
        a, b = old.methods[name], new.methods.get(name)
        if b is None:
            continue
        pairs = {"roc_auc": (a.roc_auc, b.roc_auc), "pr_auc": (a.pr_auc, b.pr_auc), "brier": (a.brier, b.brier),
                 **{f"p_at_{k}": (a.precision_at[k], b.precision_at[k]) for k in a.precision_at},
                 "flag_precision": (a.flag_precision, b.flag_precision), "flag_recall": (a.flag_recall, b.flag_recall)}
        rows[name] = {k: {"old": x, "new": y, "change": (None if x is None or y is None else y - x)}
                      for k, (x, y) in pairs.items()}
    return rows
