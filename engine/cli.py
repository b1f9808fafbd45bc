"""The `escalation` command line: argument handling and printing only; work happens in the stages."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from engine.errors import EngineError
from engine.ingest import IngestResult, parse_column_map, parse_date, read_inputs
from engine.paths import MODEL_FILE, RULES_DIR

app = typer.Typer(help="Escalation-risk scoring engine: news text -> actor-pair risk scores with evidence.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
rules_app = typer.Typer(help="Check and test the analysts' YAML rules.", no_args_is_help=True)
app.add_typer(rules_app, name="rules")
console = Console()
err = Console(stderr=True)

# Options shared by the commands that read inputs.
Inputs = Annotated[list[Path], typer.Argument(help="Text files, folders, .jsonl or .csv files (also gzipped), or - for stdin.")]
DateOpt = Annotated[str | None, typer.Option(help="Date (YYYY-MM-DD) for records that carry none, e.g. .txt files.")]
MaxChars = Annotated[int, typer.Option(help="Reject documents longer than this many characters.")]
ColumnMap = Annotated[str | None, typer.Option("--map", help="Other column (CSV) or key (JSONL) names, FIELD=NAME,... "
                                               "e.g. --map id=article_id,text=body,date=published,title=headline.")]
MonthFirst = Annotated[bool, typer.Option("--month-first", help="Read numeric dates such as 04/11/2024 month first "
                                          "(April 11); the default reads them day first (4 November).")]
Degraded = Annotated[bool, typer.Option(help="Use spacy.blank('en') (no parser) - much worse results.")]
Window = Annotated[str, typer.Option(help="Window: day, week or month.")]
RulesDir = Annotated[Path, typer.Option(
    help="Rules folder: scoring/*.yaml, actors.yaml, signals.yaml, bands.yaml, cameo_mapping.yaml (a file it lacks "
         "comes from the shipped rules). Default: $ESCALATION_RULES or the shipped rules/.")]
RulePath = Annotated[Path, typer.Argument(help="A rules folder or one rule file.")]
SHIPPED_RULES = RULES_DIR  # engine/paths.py: the one default (honours ESCALATION_RULES)
ModelFile = Annotated[Path, typer.Option(help="Classifier (.skops); only allow-listed types are loaded.")]
SHIPPED_MODEL = MODEL_FILE


def _date_option(value: str | None, dayfirst: bool = True) -> dt.date | None:
    if value is None:
        return None
    try:
        return parse_date(value, dayfirst=dayfirst)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


def _ingest(inputs: list[Path], date: str | None, max_chars: int, out: Path, column_map: str | None = None,
            month_first: bool = False) -> IngestResult:
    result = read_inputs(inputs, default_date=_date_option(date, not month_first), max_chars=max_chars,
                         column_map=parse_column_map(column_map), dayfirst=not month_first)
    if result.skipped:
        err.print(f"skipped {len(result.skipped)} file(s) of an unknown kind inside input folders: "
                  f"{escape(', '.join(result.skipped[:5]))}{' ...' if len(result.skipped) > 5 else ''}")
    for rej in result.rejected:
        err.print(f"[yellow]rejected[/yellow] {escape(rej.message())}")
    if result.rejected:
        err.print(f"{len(result.rejected)} record(s) rejected; listed in {out / 'rejected.jsonl'}")
    if not result.documents:
        err.print("[red]no usable documents in the input[/red]")
    return result


def _progress(total: int) -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=err, disable=total < 20 or not err.is_terminal)


def _config(rules: Path, window: str = "week", model: Path | None = None):
    """The run configuration of a rules folder: every file of it (see engine/config.py)."""
    from engine.config import FOLDER_FILES, RunConfig

    config = RunConfig.build(rules, model=model, granularity=window)
    if config.defaulted:
        missing = ", ".join(FOLDER_FILES[part] for part in config.defaulted)
        err.print(f"{rules} has no {missing}: using the shipped one(s)")
    return config


def _output_folder(out: Path, inputs: list[Path]):
    """Check --out before any work and hold its lock until the outputs are written."""
    from engine.output import check_out_dir, output_lock

    check_out_dir(out, inputs)
    return output_lock(out)


def _extract(result: IngestResult, degraded: bool, config):
    from engine.nlp.extract import get_extractor

    extractor = get_extractor(config.actors_path, config.signals_path, degraded=degraded)
    if extractor.model.degraded:
        err.print(f"[bold red]{extractor.model.describe()}[/bold red]")
    with _progress(len(result.documents)) as progress:
        task = progress.add_task("extracting", total=len(result.documents))
        return extractor.extract(result.documents, progress=lambda n: progress.advance(task, n))


@app.command()
def extract(
    inputs: Inputs,
    out: Annotated[Path, typer.Option(help="Output folder.")] = Path("out"),
    date: DateOpt = None,
    max_chars: MaxChars = 200_000,
    column_map: ColumnMap = None,
    month_first: MonthFirst = False,
    degraded: Degraded = False,
    rules: RulesDir = SHIPPED_RULES,
) -> None:
    """Extract signals: writes signals.csv/.parquet, unknown_actors.csv, rejected.jsonl and run.json."""
    import time

    from engine.output import new_run_id, run_record, write_run

    with _output_folder(out, inputs):
        config = _config(rules)
        started = dt.datetime.now(dt.UTC)
        result = _ingest(inputs, date, max_chars, out, column_map, month_first)
        extraction = _extract(result, degraded, config)
        run = run_record(run_id=new_run_id(), started=started.isoformat(timespec="seconds"),
                         seconds=round(time.time() - started.timestamp(), 2), config=config, extraction=extraction,
                         ingest=result, inputs=inputs, dates=extraction.signals["date"],
                         counts={"documents": extraction.n_documents, "signals": len(extraction.signals)})
        write_run(out, run=run, tables={"signals": extraction.signals}, unknown_actors=extraction.unknown_actors,
                  ingest=result)
    table = Table(title=f"{len(extraction.signals)} signals in {extraction.n_documents} documents")
    for col in ("signal", "count"):
        table.add_column(col)
    for sig, n in extraction.signals["signal"].value_counts().items():
        table.add_row(str(sig), str(n))
    console.print(table)
    if len(extraction.unknown_actors):
        console.print(f"{len(extraction.unknown_actors)} unknown actor name(s) listed in {out / 'unknown_actors.csv'}")
    console.print(f"tables written to {out}/")


@app.command()
def explain(
    text: Annotated[str, typer.Argument(help="One text to analyse.")],
    date: Annotated[str | None, typer.Option(help="Document date (YYYY-MM-DD).")] = None,
    rules: RulesDir = SHIPPED_RULES,
) -> None:
    """Print the actors, signals, roles and flags found in one text."""
    from engine.nlp.extract import get_extractor

    config = _config(rules)
    extractor = get_extractor(config.actors_path, config.signals_path)
    doc = extractor.nlp.make_doc(text)
    doc._.doc_date = _date_option(date)
    doc = extractor.nlp(doc)
    actors = Table(title="Actors")
    for col in ("text", "code", "how"):
        actors.add_column(col)
    for m in doc._.actor_mentions:
        actors.add_row(m.text, m.code, m.via)
    console.print(actors)
    signals = Table(title="Signals")
    for col in ("trigger", "source", "signal", "target", "negated", "hypothetical", "status", "reported_by",
                "location", "confidence", "pattern"):
        signals.add_column(col)
    for s in doc._.signals:
        signals.add_row(s.trigger, s.source or "?", s.signal, s.target or "?", str(s.negated), str(s.hypothetical),
                        s.status, s.reported_by, s.location, f"{s.confidence:.2f}", s.pattern_id)
    console.print(signals)
    if doc._.unknown_actors:
        console.print("Unknown actors: " + ", ".join(f"{t} ({lab})" for t, lab in doc._.unknown_actors))


@app.command("evaluate-extraction")
def evaluate_extraction(
    gold: Annotated[Path, typer.Argument(help="cameo_gold.jsonl from ../shared/eval/")],
    articles: Annotated[list[Path] | None, typer.Option(
        help="Folders of labelled dev articles (tests/data/articles/dev, .../frozen); repeatable.")] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the figures to this JSON file.")] = None,
) -> None:
    """Precision/recall/F1 per signal type, macro F1, actor and dyad accuracy on labelled sets, next to a
    keyword baseline."""
    import json

    from engine.evaluation import (
        evaluate_articles,
        evaluate_gold,
        evaluation_json,
        render_evaluation,
    )

    evaluations = [evaluate_gold(gold)]
    for folder in articles or []:
        evaluations.append(evaluate_articles(folder, name=f"articles/{folder.name}"))
    for ev in evaluations:
        console.print(render_evaluation(ev))
    if json_out:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(evaluation_json(evaluations), indent=2) + "\n", encoding="utf-8")
        console.print(f"figures written to {json_out}")


def _score(inputs, out, date, max_chars, window, rules, model, degraded, column_map=None, month_first=False):
    from engine.scoring import Scorer

    config = _config(rules, window, model)
    result = _ingest(inputs, date, max_chars, out, column_map, month_first)
    scorer = Scorer(config=config, degraded=degraded)
    if scorer.extractor.model.degraded:
        err.print(f"[bold red]{scorer.extractor.model.describe()}[/bold red]")
    with _progress(len(result.documents)) as progress:
        task = progress.add_task("scoring", total=len(result.documents))
        return scorer.score([], ingest=result, progress=lambda n: progress.advance(task, n))


def _print_ranked(scored, limit: int = 15) -> None:
    ranked = scored.ranked()
    table = Table(title=f"Top pairs ({len(ranked)} in all)")
    for col in ("source", "target", "window", "score", "band", "change", "rules", "model p", "signals"):
        table.add_column(col)
    for r in ranked.head(limit).itertuples():
        change = "" if r.change != r.change else f"{r.change:+.1f}"  # NaN: first window of the pair
        table.add_row(r.source, r.target, r.window_start, f"{r.score:.0f}", r.band, change, f"{r.rules_score:+.1f}",
                      f"{r.model_probability:.2f}", str(r.n_signals))
    console.print(table)


@app.command()
def score(
    inputs: Inputs,
    out: Annotated[Path, typer.Option(help="Output folder.")] = Path("out"),
    date: DateOpt = None,
    max_chars: MaxChars = 200_000,
    column_map: ColumnMap = None,
    month_first: MonthFirst = False,
    window: Window = "week",
    rules: RulesDir = SHIPPED_RULES,
    model: ModelFile = SHIPPED_MODEL,
    degraded: Degraded = False,
) -> None:
    """Extract signals, apply the rules and the classifier: writes signals, rule_hits and pair_scores (CSV + Parquet)."""
    from engine.output import write_result

    with _output_folder(out, inputs):
        scored = _score(inputs, out, date, max_chars, window, rules, model, degraded, column_map, month_first)
        write_result(scored, out, inputs)
    _print_ranked(scored)
    console.print(f"tables written to {out}/")


@app.command()
def report(
    inputs: Inputs,
    out: Annotated[Path, typer.Option(help="Report folder.")] = Path("reports/latest"),
    date: DateOpt = None,
    max_chars: MaxChars = 200_000,
    column_map: ColumnMap = None,
    month_first: MonthFirst = False,
    window: Window = "week",
    rules: RulesDir = SHIPPED_RULES,
    model: ModelFile = SHIPPED_MODEL,
    degraded: Degraded = False,
) -> None:
    """Score the inputs and write a self-contained HTML report (index.html), its tables and run.json."""
    from engine.report.builder import build_report

    with _output_folder(out, inputs):
        scored = _score(inputs, out, date, max_chars, window, rules, model, degraded, column_map, month_first)
        path = build_report(scored, out, inputs)
    _print_ranked(scored)
    console.print(f"report written to {path}")


EventsFile = Annotated[Path, typer.Option(help="ICEWS events file (../shared/data/events/icews18_full.csv.gz).")]
LongRange = Annotated[Path | None, typer.Option(help="Second, long-range set evaluated in monthly windows.")]


def _evaluate_model(events: Path, long_range: Path | None):
    from engine.model.pipeline import train_and_evaluate

    return train_and_evaluate(events, long_range, status=console.status)


@app.command("evaluate-model")
def evaluate_model(events: EventsFile, long_range: LongRange = None) -> None:
    """Time-split evaluation of the classifier next to its three baselines (the model card's figures)."""
    from engine.model.card import describe

    run = _evaluate_model(events, long_range)
    console.print(describe(run.evaluation), markup=False, highlight=False)
    if run.long_range:
        console.print(describe(run.long_range), markup=False, highlight=False)


@app.command()
def train(
    events: EventsFile,
    long_range: LongRange = None,
    out: Annotated[Path, typer.Option(help="Model file (its card is written beside it, .md).")] = SHIPPED_MODEL,
) -> None:
    """Train the classifier on the train windows, evaluate it, write the .skops file and its model card."""
    from engine.model.pipeline import save_with_card

    run = _evaluate_model(events, long_range)
    command = f"escalation train --events {events}" + (f" --long-range {long_range}" if long_range else "")
    card = save_with_card(run, out, command)
    console.print(f"model written to {out} (card: {card}); beats all baselines: "
                  f"{run.evaluation.beats_all_baselines()}")


@rules_app.command("check")
def rules_check(path: RulePath = RULES_DIR) -> None:
    """Validate every file of a rules folder (scoring rules, actors, signals, bands, CAMEO mapping) or one
    rule file; print FILE:LINE: id: message."""
    from engine.config import check_folder

    problems, counts = check_folder(path)
    for problem in problems:
        print(problem)
    checked = f"{counts['files']} files, {counts['rules']} rules" + (
        f", {counts['actors']} actors" if "actors" in counts else "") + (
        f", {counts['triggers']} triggers" if "triggers" in counts else "")
    if problems:
        err.print(f"[red]{len(problems)} problem(s)[/red] ({checked})")
        raise typer.Exit(1)
    console.print(f"{checked}: OK")


@rules_app.command("test")
def rules_test(path: RulePath = RULES_DIR,
               actors: Annotated[Path | None, typer.Option(
                   help="Actor dictionary (default: PATH/actors.yaml or the shipped one).")] = None) -> None:
    """Run every rule's examples (with all rules loaded); report pass/fail per example."""
    from engine.nlp.lexicon import load_actors
    from engine.paths import ACTORS_FILE
    from engine.rules.models import load_rules
    from engine.rules.testing import run_examples

    actors_path = actors or (path / "actors.yaml" if path.is_dir() and (path / "actors.yaml").exists() else ACTORS_FILE)
    results = run_examples(load_rules(path), load_actors(actors_path))
    for r in results:
        mark = "[green]PASS[/green]" if r.passed else "[red]FAIL[/red]"
        console.print(f"{mark} {r.rule_id} {r.kind}[{r.index}] ({r.file}:{r.line}): {r.detail}", highlight=False)
    failed = sum(not r.passed for r in results)
    console.print(f"{len(results) - failed} passed, {failed} failed")
    if failed:
        raise typer.Exit(1)


@rules_app.command("schema")
def rules_schema(out: Annotated[Path | None, typer.Option(help="Write to this file instead of printing.")] = None) -> None:
    """Print the JSON Schema of rule files (for editor validation)."""
    import json

    from engine.rules.models import json_schema

    text = json.dumps(json_schema(), indent=2)
    if out:
        out.write_text(text + "\n")
    else:
        print(text)


def main() -> None:
    try:
        app()
    except EngineError as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}", soft_wrap=True)  # paths and FILE:LINE stay whole
        sys.exit(1)
