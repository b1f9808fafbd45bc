"""The HTML risk report: one self-contained file (inline CSS, no scripts or requests), plus tables
and run.json. Templates are Jinja2 files beside this module; article text is always escaped."""

from __future__ import annotations

from pathlib import Path

import jinja2
import pandas as pd

from engine.output import write_result
from engine.report import charts

MAX_PAIRS_IN_DETAIL = 50


def _evidence(sig: pd.DataFrame, docs: dict, signal_ids: list[str]) -> list[dict]:
    """Evidence sentences split around the trigger, for highlighting; ``sig`` is indexed by signal_id."""
    out = []
    for sid in dict.fromkeys(signal_ids):
        if sid not in sig.index:
            continue
        row = sig.loc[sid]
        start, end = int(row["start_char"]) - int(row["sent_start"]), int(row["end_char"]) - int(row["sent_start"])
        doc = docs.get(row["doc_id"])
        flags = [name for name in ("negated", "hypothetical") if bool(row[name])]
        out.append({
            "id": sid, "before": row["sentence"][:start], "trigger": row["sentence"][start:end],
            "after": row["sentence"][end:], "signal": row["signal"], "source": row["source"] or "?",
            "target": row["target"] or "?", "status": row["status"], "flags": flags,
            "reported_by": row["reported_by"], "location": row["location"], "confidence": row["confidence"],
            "date": row["date"], "doc_id": row["doc_id"], "title": doc.title if doc else "",
            "url": doc.url if doc and doc.url.startswith(("http://", "https://")) else "",
        })
    return out


MODEL_SUMMARY = ("The classifier is a calibrated logistic regression trained on ICEWS 2018 events in weekly "
                 "windows; on later weeks it reached the figures in models/escalation-classifier.md and beat "
                 "persistence, the 4-week attack rate and the rules score alone. It was trained on coded events, "
                 "not on our extraction, so its probabilities on news text are less certain.")


def build_report(result, out_dir: Path, inputs: list[Path] | None = None) -> Path:
    """Write the report of a ScoreResult (index.html, its tables, run.json) into ``out_dir``, all or
    nothing (``engine.output.write_run``); return index.html's path. Band edges, formula, rules and
    model hashes are the ones the run used: ``result.config``."""
    write_result(result, Path(out_dir), inputs, render=render_report)
    return Path(out_dir) / "index.html"


def render_report(result, run: dict) -> str:
    """index.html of a ScoreResult and its run record."""
    ranked = result.ranked()
    sig = result.signals.set_index("signal_id")
    docs = {d.id: d for d in (result.ingest.documents if result.ingest else [])}
    hits_by_key = {key: g for key, g in result.rule_hits.groupby(["source", "target", "window_start"])}
    pairs = []
    for row in ranked.head(MAX_PAIRS_IN_DETAIL).itertuples():
        hits = hits_by_key[(row.source, row.target, row.window_start)]
        ids = [i for s in hits["signal_ids"] for i in s.split(";")]
        pairs.append({"row": row, "hits": hits.to_dict("records"), "evidence": _evidence(sig, docs, ids)})
    env = jinja2.Environment(loader=jinja2.PackageLoader("engine.report", "templates"),
                             autoescape=jinja2.select_autoescape(["html", "j2"]))
    return env.get_template("report.html.j2").render(
        run=run, ranked=ranked.to_dict("records"), pairs=pairs, more_pairs=max(0, len(ranked) - MAX_PAIRS_IN_DETAIL),
        rejected=result.ingest.rejected if result.ingest else [],
        unknown=result.extraction.unknown_actors.to_dict("records"), degraded=result.extraction.model.degraded,
        formula=result.config.formula, model_summary=MODEL_SUMMARY,
        charts={"network": charts.network(ranked), "heatmap": charts.heatmap(ranked),
                "trends": charts.trends(result.pair_scores, ranked)},
        max_edges=charts.MAX_NETWORK_EDGES, max_heatmap=charts.MAX_HEATMAP_ACTORS, max_trends=charts.MAX_TREND_PAIRS,
    )
