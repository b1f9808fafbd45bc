"""The `escalation` command line: argument handling and printing only; work happens in the stages."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from engine.errors import EngineError
from engine.ingest import IngestResult, parse_date, read_inputs

app = typer.Typer(help="Escalation-risk scoring engine: news text -> actor-pair risk scores with evidence.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
rules_app = typer.Typer(help="Check and test the analysts' YAML rules.", no_args_is_help=True)
app.add_typer(rules_app, name="rules")
console = Console()
err = Console(stderr=True)

# Options shared by the commands that read inputs.
Inputs = Annotated[list[Path], typer.Argument(help="Text files, folders, .jsonl or .csv files.")]
DateOpt = Annotated[str | None, typer.Option(help="Date (YYYY-MM-DD) for records that carry none, e.g. .txt files.")]
MaxChars = Annotated[int, typer.Option(help="Reject documents longer than this many characters.")]
Degraded = Annotated[bool, typer.Option(help="Use spacy.blank('en') (no parser) - much worse results.")]
Window = Annotated[str, typer.Option(help="Window: day, week or month.")]
RulesDir = Annotated[Path, typer.Option(help="Rules folder.")]
RulePath = Annotated[Path, typer.Argument(help="A rules folder or one rule file.")]
SHIPPED_RULES = Path(__file__).resolve().parent.parent / "rules"
ModelFile = Annotated[Path, typer.Option(help="Classifier (.skops); only allow-listed types are loaded.")]
SHIPPED_MODEL = Path(__file__).resolve().parent.parent / "models" / "escalation-classifier.skops"


def _date_option(value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return parse_date(value)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


def _ingest(inputs: list[Path], date: str | None, max_chars: int, out: Path) -> IngestResult:
    result = read_inputs(inputs, default_date=_date_option(date), max_chars=max_chars)
    for rej in result.rejected:
        err.print(f"[yellow]rejected[/yellow] {rej.message()}")
    result.write_rejected(out)
    if result.rejected:
        err.print(f"{len(result.rejected)} record(s) rejected; written to {out / 'rejected.jsonl'}")
    if not result.documents:
        err.print("[red]no usable documents in the input[/red]")
    return result


def _progress(total: int) -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=err, disable=total < 20 or not err.is_terminal)


def _extract(result: IngestResult, degraded: bool):
    from engine.nlp.extract import get_extractor

    extractor = get_extractor(degraded=degraded)
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
    degraded: Degraded = False,
) -> None:
    """Extract signals: writes signals.csv/.parquet, unknown_actors.csv and rejected.jsonl."""
    from engine.output import write_table

    result = _ingest(inputs, date, max_chars, out)
    extraction = _extract(result, degraded)
    write_table(extraction.signals, out, "signals")
    extraction.unknown_actors.to_csv(out / "unknown_actors.csv", index=False)
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
) -> None:
    """Print the actors, signals, roles and flags found in one text."""
    from engine.nlp.extract import get_extractor

    extractor = get_extractor()
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
def evaluate_extraction(gold: Annotated[Path, typer.Argument(help="cameo_gold.jsonl from ../shared/eval/")]) -> None:
    """Precision/recall/F1 per signal type and actor accuracy on a labelled set, next to a keyword baseline."""
    from engine.evaluation import evaluate_gold, render_evaluation

    console.print(render_evaluation(evaluate_gold(gold)))


def _score(inputs, out, date, max_chars, window, rules, model, degraded):
    from engine.scoring import Scorer

    result = _ingest(inputs, date, max_chars, out)
    scorer = Scorer(rules=rules, model=model, granularity=window, degraded=degraded)
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
    window: Window = "week",
    rules: RulesDir = SHIPPED_RULES,
    model: ModelFile = SHIPPED_MODEL,
    degraded: Degraded = False,
) -> None:
    """Extract signals, apply the rules and the classifier: writes signals, rule_hits and pair_scores (CSV + Parquet)."""
    from engine.output import write_table

    scored = _score(inputs, out, date, max_chars, window, rules, model, degraded)
    for name in ("signals", "rule_hits", "pair_scores"):
        write_table(getattr(scored, name), out, name)
    scored.extraction.unknown_actors.to_csv(out / "unknown_actors.csv", index=False)
    _print_ranked(scored)
    console.print(f"tables written to {out}/")


@app.command()
def report(
    inputs: Inputs,
    out: Annotated[Path, typer.Option(help="Report folder.")] = Path("reports/latest"),
    date: DateOpt = None,
    max_chars: MaxChars = 200_000,
    window: Window = "week",
    rules: RulesDir = SHIPPED_RULES,
    model: ModelFile = SHIPPED_MODEL,
    degraded: Degraded = False,
) -> None:
    """Score the inputs and write a self-contained HTML report (index.html), its tables and run.json."""
    from engine.report.builder import build_report

    scored = _score(inputs, out, date, max_chars, window, rules, model, degraded)
    path = build_report(scored, out, inputs)
    _print_ranked(scored)
    console.print(f"report written to {path}")


EventsFile = Annotated[Path, typer.Option(help="ICEWS events file (../shared/data/events/icews18_full.csv.gz).")]
LongRange = Annotated[Path | None, typer.Option(help="Second, long-range set evaluated in monthly windows.")]


def _evaluate_model(events: Path, long_range: Path | None):
    from engine.model.events import from_icews, load_cameo_mapping
    from engine.model.train import evaluate, training_rows
    from engine.nlp.lexicon import load_actors
    from engine.paths import ACTORS_FILE, EVENT_MAPPING_FILE
    from engine.rules.models import load_rules

    actors, rules, mapping = load_actors(ACTORS_FILE), load_rules(SHIPPED_RULES), load_cameo_mapping(EVENT_MAPPING_FILE)
    with console.status(f"building weekly features from {events.name}"):
        rows = training_rows(from_icews(events, mapping, actors), rules, actors, "week", 30)
        main_eval, model = evaluate(rows, events.name, "week")
    long_eval = None
    if long_range is not None:
        with console.status(f"building monthly features from {long_range.name}"):
            long_rows = training_rows(from_icews(long_range, mapping, actors), rules, actors, "month", 30)
            long_eval, _ = evaluate(long_rows, long_range.name, "month")
    return main_eval, long_eval, model


@app.command("evaluate-model")
def evaluate_model(events: EventsFile, long_range: LongRange = None) -> None:
    """Time-split evaluation of the classifier next to its three baselines (the model card's figures)."""
    from engine.model.card import describe

    main_eval, long_eval, _ = _evaluate_model(events, long_range)
    console.print(describe(main_eval), markup=False, highlight=False)
    if long_eval:
        console.print(describe(long_eval), markup=False, highlight=False)


@app.command()
def train(
    events: EventsFile,
    long_range: LongRange = None,
    out: Annotated[Path, typer.Option(help="Model file (its card is written beside it, .md).")] = SHIPPED_MODEL,
) -> None:
    """Train the classifier on the train windows, evaluate it, write the .skops file and its model card."""
    import hashlib

    from engine.model.card import model_card
    from engine.model.train import coefficients, save_model

    main_eval, long_eval, model = _evaluate_model(events, long_range)
    save_model(model, out)
    sha = hashlib.sha256(out.read_bytes()).hexdigest()
    command = f"escalation train --events {events}" + (f" --long-range {long_range}" if long_range else "")
    out.with_suffix(".md").write_text(model_card(main_eval, long_eval, command, sha, coefficients(model)))
    console.print(f"model written to {out} (card: {out.with_suffix('.md')}); beats all baselines: "
                  f"{main_eval.beats_all_baselines()}")


@rules_app.command("check")
def rules_check(path: RulePath = Path("rules")) -> None:
    """Validate rule files (and the actor and signal dictionaries); print FILE:LINE: rule-id: message."""
    from engine.nlp.lexicon import check_actor_file, check_signal_file
    from engine.rules.models import check_rules

    rules, problems = check_rules(path)
    if path.is_dir():
        for name, checker in (("actors.yaml", check_actor_file), ("signals.yaml", check_signal_file)):
            if (path / name).exists():
                problems += checker(path / name)[1]
    for problem in problems:
        print(problem)
    if problems:
        err.print(f"[red]{len(problems)} problem(s)[/red]")
        raise typer.Exit(1)
    console.print(f"{len(rules)} rules OK")


@rules_app.command("test")
def rules_test(path: RulePath = Path("rules"),
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
        err.print(f"[red]error:[/red] {exc}")
        sys.exit(1)
