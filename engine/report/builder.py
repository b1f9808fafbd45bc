"""The HTML risk report: one self-contained file (inline CSS, no scripts or requests), plus tables
and run.json. Templates are Jinja2 files beside this module; article text is always escaped."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import jinja2
import pandas as pd
import spacy

from engine.output import write_table
from engine.paths import RULES_DIR
from engine.report import charts
from engine.scoring import MODEL_FILE, ScoreResult, load_formula

MAX_PAIRS_IN_DETAIL = 50


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def rules_hash(rules_dir: Path = RULES_DIR) -> str:
    digest = hashlib.sha256()
    for path in sorted(rules_dir.rglob("*.yaml")):
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()


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


def build_report(result: ScoreResult, out_dir: Path, inputs: list[Path] | None = None,
                 formula=None, model_file: Path = MODEL_FILE) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, table in (("signals", result.signals), ("rule_hits", result.rule_hits),
                        ("pair_scores", result.pair_scores)):
        write_table(table, out_dir, name)
    result.extraction.unknown_actors.to_csv(out_dir / "unknown_actors.csv", index=False)
    if result.ingest is not None:
        result.ingest.write_rejected(out_dir)

    ranked = result.ranked()
    sig = result.signals.set_index("signal_id")
    docs = {d.id: d for d in (result.ingest.documents if result.ingest else [])}
    hits_by_key = {key: g for key, g in result.rule_hits.groupby(["source", "target", "window_start"])}
    pairs = []
    for row in ranked.head(MAX_PAIRS_IN_DETAIL).itertuples():
        hits = hits_by_key[(row.source, row.target, row.window_start)]
        ids = [i for s in hits["signal_ids"] for i in s.split(";")]
        pairs.append({"row": row, "hits": hits.to_dict("records"), "evidence": _evidence(sig, docs, ids)})
    dates = [d for d in result.signals["date"] if d]
    files = [Path(p) for p in (inputs or [])]
    run = {
        "run_id": result.run_id, "engine_version": _version(), "started": result.started,
        "run_seconds": result.seconds, "spacy": spacy.__version__, "spacy_model": result.extraction.model.describe(),
        "rules_sha256": rules_hash(), "model_file": str(model_file),
        "model_sha256": _sha256(model_file) if model_file.exists() else None, "window": result.granularity,
        "date_range": [min(dates), max(dates)] if dates else None,
        "inputs": [{"path": str(p), "sha256": _sha256(p) if p.is_file() else None,
                    "records": (result.ingest.files.get(str(p)) if result.ingest else None)} for p in files],
        "input_files": dict(result.ingest.files) if result.ingest else {},
        "counts": {"documents": result.extraction.n_documents, "signals": len(result.signals),
                   "rule_hits": len(result.rule_hits), "pairs": int(len(ranked))},
    }
    (out_dir / "run.json").write_text(json.dumps(run, indent=2) + "\n")
    env = jinja2.Environment(loader=jinja2.PackageLoader("engine.report", "templates"),
                             autoescape=jinja2.select_autoescape(["html", "j2"]))
    html = env.get_template("report.html.j2").render(
        run=run, ranked=ranked.to_dict("records"), pairs=pairs, more_pairs=max(0, len(ranked) - MAX_PAIRS_IN_DETAIL),
        rejected=result.ingest.rejected if result.ingest else [],
        unknown=result.extraction.unknown_actors.to_dict("records"), degraded=result.extraction.model.degraded,
        formula=formula or load_formula(), model_summary=MODEL_SUMMARY,
        charts={"network": charts.network(ranked), "heatmap": charts.heatmap(ranked),
                "trends": charts.trends(result.pair_scores, ranked)},
        max_edges=charts.MAX_NETWORK_EDGES, max_heatmap=charts.MAX_HEATMAP_ACTORS, max_trends=charts.MAX_TREND_PAIRS,
    )
    path = out_dir / "index.html"
    path.write_text(html, encoding="utf-8")
    return path


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("escalation-engine")
    except PackageNotFoundError:
        return "unknown"
