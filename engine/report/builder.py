"""The HTML risk report: one self-contained file, plus the run's tables and run.json.

index.html carries its CSS, its one script (sort, filter, open on link, expand for print: allowed
by its sha256 in the Content-Security-Policy, no 'unsafe-inline' for scripts) and its charts
(matplotlib, inline SVG); the policy forbids every request. Templates are Jinja2 files beside this
module; every value is escaped. Names, rule descriptions, bands and formula come from the run's
configuration (``result.config``), never from the shipped defaults.
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import jinja2
import pandas as pd

from engine.output import write_result
from engine.report import charts
from engine.report.brief import (
    DEFAULT_EVIDENCE,
    Evidence,
    brief_items,
    driving_hit,
    strongest_evidence,
)
from engine.report.words import STATUS_WORDS, Names, feature_phrase, model_terms, signal_word
from engine.schemas import BANDS

MAX_PAIRS_IN_DETAIL = 50
BRIEF_SENTENCE_CHARS = 320
SCRIPT = (Path(__file__).parent / "templates" / "report.js").read_text(encoding="utf-8")
SCRIPT_HASH = "sha256-" + base64.b64encode(hashlib.sha256(SCRIPT.encode("utf-8")).digest()).decode()

MODEL_SUMMARY = ("The classifier is a calibrated logistic regression trained on ICEWS 2018 events in weekly "
                 "windows; on later weeks it reached the figures in models/escalation-classifier.md and beat "
                 "persistence, the 4-week attack rate and the rules score alone. It was trained on coded events, "
                 "not on our extraction, so its probabilities on news text are less certain.")


def build_report(result, out_dir: Path, inputs: list[Path] | None = None, *, previous: pd.DataFrame | None = None,
                 evidence: int = DEFAULT_EVIDENCE, pdf: bool = False) -> Path:
    """Write the report of a ScoreResult (index.html, its tables, run.json; report.pdf with ``pdf``)
    into ``out_dir``, all or nothing (``engine.output.write_run``); return index.html's path.

    ``previous``: the previous run's pair scores (source, target, score, band, optionally
    window_start), for a brief against the previous run instead of the previous window;
    ``evidence``: sentences shown per pair (the rest are in signals.csv)."""
    files: dict[str, bytes] = {}

    def render(result, run):
        html = render_report(result, run, previous=previous, evidence=evidence)
        if pdf:
            from engine.report.screenshot import pdf_of_html

            files["report.pdf"] = pdf_of_html(html)
        return html

    write_result(result, Path(out_dir), inputs, render=render, files=files)
    return Path(out_dir) / "index.html"


def _rule_name(rule_id: str) -> str:
    return rule_id.replace("-", " ")


class _Context:
    """What the template needs of one run, with names in place of codes."""

    def __init__(self, result, evidence: int):
        config = result.config
        self.name = Names(config.actors)
        unit_of = getattr(config.actors, "unit_of", None)
        self.unit = (lambda code: unit_of(code) if code else code) if unit_of else None
        self.window = config.granularity
        self.formula = config.formula
        self.descriptions = {r.id: " ".join(str(r.rule.description or "").split()) for r in config.rules}
        self.evidence_limit = evidence
        self.signals = result.signals.set_index("signal_id", drop=False)
        self.docs = {d.id: d for d in (result.ingest.documents if result.ingest else [])}
        keys = ["source", "target", "window_start"]
        self.rule_hits = result.rule_hits.reset_index(drop=True)
        self.hit_rows = self.rule_hits.groupby(keys).indices if not self.rule_hits.empty else {}
        # the two largest rule contributions of every pair-window, in words (one pass, not one per row)
        scored = self.rule_hits[self.rule_hits["contribution"] != 0]
        scored = scored.assign(_abs=-scored["contribution"].abs()).sort_values([*keys, "_abs"], kind="stable")
        top = scored[scored.groupby(keys, sort=False).cumcount() < 2]
        self.rule_drivers: dict[tuple, list[str]] = {}
        for key, rule, points in zip(top[keys].itertuples(index=False, name=None), top["rule_id"],
                                     top["contribution"], strict=True):
            self.rule_drivers.setdefault(key, []).append(f"{_rule_name(rule)} {points:+.1f}")

    def pair_hits(self, row: dict) -> pd.DataFrame:
        rows = self.hit_rows.get((row["source"], row["target"], row["window_start"]))
        return self.rule_hits.iloc[rows] if rows is not None else self.rule_hits.iloc[:0]

    def band_note(self, row: dict) -> str:
        """Why the band is not the score's band: a floor or a cap set by a rule."""
        score_band = self.formula.band(float(row["score"]))
        if score_band == row["band"]:
            return ""
        raised = BANDS.index(row["band"]) > BANDS.index(score_band)
        column = "band_floor" if raised else "band_cap"
        hits = self.pair_hits(row)
        rules = sorted(set(hits.loc[hits[column] == row[column], "rule_id"])) if not hits.empty else []
        verb = "held up at" if raised else "held down at"
        by = f" by {', '.join(_rule_name(r) for r in rules)}" if rules else " by a rule"
        return f"{verb} {row['band']}{by}; the score alone gives {score_band}"

    def drivers(self, row: dict) -> list[str]:
        out = list(self.rule_drivers.get((row["source"], row["target"], row["window_start"]), []))
        out += [f"model: {feature_phrase(n, self.window)} {'↑' if v > 0 else '↓'}"
                for n, v in model_terms(row.get("top_drivers", ""))[:1]]
        return out

    def rule_line(self, hit: dict | None) -> str:
        if hit is None:
            return ""
        return self.descriptions.get(hit["rule_id"], "") or _rule_name(hit["rule_id"])

    def evidence_dict(self, ev: Evidence) -> dict:
        row = ev.signal
        offset = int(row["sent_start"])
        start, end = int(row["start_char"]) - offset, int(row["end_char"]) - offset
        doc = self.docs.get(row["doc_id"])
        flags = [name for name in ("negated", "hypothetical") if bool(row[name])]
        reported = [self.name(c) if c.isupper() else c for c in str(row.get("reported_by") or "").split(";") if c]
        return {
            "id": row["signal_id"], "before": row["sentence"][:start], "trigger": row["sentence"][start:end],
            "after": row["sentence"][end:], "signal": signal_word(row["signal"]), "signal_code": row["signal"],
            "source": self.name(row["source"]), "source_code": row["source"] or "?",
            "target": self.name(row["target"]), "target_code": row["target"] or "?",
            "status": STATUS_WORDS.get(row["status"], row["status"]), "flags": flags, "reported_by": reported,
            "location": self.name(row["location"]) if row["location"] else "", "confidence": float(row["confidence"]),
            "date": row["date"], "doc_id": row["doc_id"], "title": doc.title if doc else "",
            "url": doc.url if doc and doc.url.startswith(("http://", "https://")) else "",
            "copies": ev.copies,
        }

    def evidence_of(self, signal_ids, pair: tuple[str, str] | None = None) -> tuple[list[dict], int]:
        ids = [i for i in dict.fromkeys(signal_ids) if i in self.signals.index]
        chosen, left_out = strongest_evidence(self.signals.loc[ids].reset_index(drop=True), self.evidence_limit, pair,
                                              self.unit)
        return [self.evidence_dict(e) for e in chosen], left_out

    def row_view(self, row: dict) -> dict:
        change = row.get("change")
        return {**row, "source_name": self.name(row["source"]), "target_name": self.name(row["target"]),
                "band_note": self.band_note(row), "drivers": self.drivers(row),
                "change_text": "new" if change is None or pd.isna(change) else f"{change:+.1f}"}


def _signal_ids(hits: pd.DataFrame) -> list[str]:
    return [i for s in hits["signal_ids"] for i in str(s).split(";") if i] if not hits.empty else []


def _as_of(result) -> dict | None:
    """The run's latest scored window, or None when nothing was scored."""
    scores = result.pair_scores
    if not scores.empty:
        last = scores.sort_values("window_start").iloc[-1]
        return {"start": last["window_start"], "end": last["window_end"],
                "windows": int(scores["window_start"].nunique())}
    return None


def _document_dates(result) -> list[str]:
    dates = sorted(d.date for d in (result.ingest.documents if result.ingest else []) if d.date)
    return [dates[0].isoformat(), dates[-1].isoformat()] if dates else []


def render_report(result, run: dict, *, previous: pd.DataFrame | None = None, evidence: int = DEFAULT_EVIDENCE) -> str:
    """index.html of a ScoreResult and its run record (see ``build_report`` for the options)."""
    ctx = _Context(result, evidence)
    ranked = result.ranked()
    ranked_rows = [ctx.row_view(r) for r in ranked.to_dict("records")]

    brief = {}
    for kind, items in brief_items(result.pair_scores, previous).items():
        views = []
        for item in items:
            hits = ctx.pair_hits(item.row)
            note = ctx.band_note(item.row)
            hit = driving_hit(hits, band_raised=note.startswith("held up"), falling=kind == "fall")
            pair = (item.row["source"], item.row["target"])
            chosen = ctx.evidence_of(str(hit["signal_ids"]).split(";"), pair)[0][:1] if hit else []
            if not chosen:
                chosen = ctx.evidence_of(_signal_ids(hits), pair)[0][:1]
            views.append({"kind": kind, "row": ctx.row_view(item.row), "previous_score": item.previous_score,
                          "previous_band": item.previous_band, "why": ctx.rule_line(hit),
                          "rule": hit["rule_id"] if hit else "", "points": float(hit["contribution"]) if hit else 0.0,
                          "evidence": chosen[0] if chosen else None})
        brief[kind] = views

    pairs = []
    for row in ranked.head(MAX_PAIRS_IN_DETAIL).to_dict("records"):
        hits = ctx.pair_hits(row)
        shown, left_out = ctx.evidence_of(_signal_ids(hits), (row["source"], row["target"]))
        hit_rows = [{**h, "description": ctx.descriptions.get(h["rule_id"], ""), "rule_name": _rule_name(h["rule_id"])}
                    for h in hits.to_dict("records")]
        model = [(feature_phrase(n, ctx.window), n, v) for n, v in model_terms(row["top_drivers"])]
        pairs.append({"row": ctx.row_view(row), "hits": hit_rows, "evidence": shown, "left_out": left_out,
                      "model_terms": model})

    names = ctx.name
    env = jinja2.Environment(loader=jinja2.PackageLoader("engine.report", "templates"),
                             autoescape=jinja2.select_autoescape(["html", "j2"]))
    rejected = result.ingest.rejected if result.ingest else []
    return env.get_template("report.html.j2").render(
        run=run, ranked=ranked_rows, pairs=pairs, more_pairs=max(0, len(ranked) - MAX_PAIRS_IN_DETAIL),
        brief=brief, as_of=_as_of(result), document_dates=_document_dates(result), evidence_limit=evidence,
        counts={**run.get("counts", {}), "rejected": len(rejected)}, against_previous_run=previous is not None,
        rejected=rejected, unknown=result.extraction.unknown_actors.to_dict("records"),
        degraded=result.extraction.model.degraded, formula=ctx.formula, model_summary=MODEL_SUMMARY,
        window_word=ctx.window,
        charts={"network": charts.network(ranked, names, ctx.formula.bands), "heatmap": charts.heatmap(ranked, names),
                "trends": charts.trends(result.pair_scores, ranked, names, ctx.window)},
        max_edges=charts.MAX_NETWORK_EDGES, max_heatmap=charts.MAX_HEATMAP_ACTORS, max_trends=charts.MAX_TREND_PAIRS,
        script=SCRIPT, script_hash=SCRIPT_HASH,
    )
