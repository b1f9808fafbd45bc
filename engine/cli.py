"""The `escalation` command line: argument handling and printing only; work happens in the stages."""

from __future__ import annotations

import collections
import contextlib
import datetime as dt
import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from engine.errors import EngineError
from engine.ingest import (
    IngestResult,
    InputStream,
    parse_column_map,
    parse_date,
    read_inputs,
    stream_inputs,
)
from engine.paths import MODEL_FILE, RULES_DIR

HELP_OPTIONS = {"help_option_names": ["-h", "--help"]}
app = typer.Typer(help="Escalation-risk scoring engine: news text -> actor-pair risk scores with evidence.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
                  context_settings=HELP_OPTIONS, rich_markup_mode=None)
rules_app = typer.Typer(help="Check and test the analysts' YAML rules.", no_args_is_help=True,
                        context_settings=HELP_OPTIONS, rich_markup_mode=None)
app.add_typer(rules_app, name="rules")


def _print_version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            print(f"escalation-engine {version('escalation-engine')}")
        except PackageNotFoundError:
            print("escalation-engine (not installed as a package)")
        raise typer.Exit()


@app.callback()
def _root(version: Annotated[bool, typer.Option("--version", callback=_print_version, is_eager=True,
                                               help="Print the engine's version and exit.")] = False,
          quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing but warnings and errors.")] = False,
          json_output: Annotated[bool, typer.Option(
              "--json", help="Print the result as one JSON document (machine output) instead of tables; "
                             "put it before the command: escalation --json score ...")] = False) -> None:
    """Escalation-risk scoring engine: news text -> actor-pair risk scores with evidence."""
    OUTPUT.json = json_output
    OUTPUT.quiet = quiet
    console.quiet = quiet or json_output  # JSON alone on stdout


class _Output:
    json = False
    quiet = False


OUTPUT = _Output()


def _print_json(data) -> None:
    """One JSON document on stdout (values that JSON lacks, such as dates and NaN, as strings or null)."""
    import json

    import pandas as pd

    def default(value):
        return None if value is pd.NA else str(value)

    print(json.dumps(data, default=default, allow_nan=False, ensure_ascii=False))


def _records(frame) -> list[dict]:
    return [{k: (None if isinstance(v, float) and v != v else v) for k, v in row.items()}
            for row in frame.to_dict(orient="records")]
# Piped or redirected output is not cut to 80 columns: tables and FILE:LINE messages stay whole for grep.
PIPED_WIDTH = 250
console = Console(width=None if sys.stdout.isatty() else PIPED_WIDTH)
err = Console(stderr=True, width=None if sys.stderr.isatty() else PIPED_WIDTH)

# Options shared by the commands that read inputs.
Inputs = Annotated[list[Path], typer.Argument(
    metavar="INPUT", help="Text files, folders, .jsonl or .csv files (also gzipped), or - for stdin.")]
DateOpt = Annotated[str | None, typer.Option(help="Date (YYYY-MM-DD) for records that carry none, e.g. .txt files.")]
MaxChars = Annotated[int, typer.Option(help="Reject documents longer than this many characters.")]
ColumnMap = Annotated[str | None, typer.Option("--map", help="Other column (CSV) or key (JSONL) names, FIELD=NAME,... "
                                               "e.g. --map id=article_id,text=body,date=published,title=headline.")]
MonthFirst = Annotated[bool, typer.Option("--month-first", help="Read numeric dates such as 04/11/2024 month first "
                                          "(April 11); the default reads them day first (4 November).")]
Degraded = Annotated[bool, typer.Option(help="Use spacy.blank('en') (no parser) - much worse results.")]
def _window_option(value: str) -> str:
    if value not in ("day", "week", "month"):
        raise typer.BadParameter(f"{value!r} is not a window: use day, week or month")
    return value


Window = Annotated[str, typer.Option(help="Window: day, week or month.", callback=_window_option)]


def _level_option(value: str) -> str:
    if value not in ("unit", "organ"):
        raise typer.BadParameter(f"{value!r} is not a level: use unit or organ")
    return value


Level = Annotated[str, typer.Option(help="Pairs of units (a state's organs such as IRNMIL roll into IRN; armed "
                                         "groups and proxies stay themselves) or of organs (the actors as "
                                         "extracted).", callback=_level_option)]
RulesDir = Annotated[Path, typer.Option(
    help="Rules folder: scoring/*.yaml, actors.yaml, signals.yaml, bands.yaml, cameo_mapping.yaml (a file it lacks "
         "comes from the shipped rules).", show_default="$ESCALATION_RULES or the shipped rules/")]
RulePath = Annotated[Path, typer.Argument(help="A rules folder or one rule file.",
                                          show_default="$ESCALATION_RULES or the shipped rules/")]
SHIPPED_RULES = RULES_DIR  # engine/paths.py: the one default (honours ESCALATION_RULES)
ModelFile = Annotated[Path, typer.Option(help="Classifier (.skops); only allow-listed types are loaded.",
                                         show_default="models/escalation-classifier.skops")]
SHIPPED_MODEL = MODEL_FILE
# run history and executors (engine/history.py, engine/executor.py; README "Daily runs")
HistoryFile = Annotated[Path | None, typer.Option(
    "--history", help="Run history, one DuckDB file (created if absent): stored documents are not extracted again "
    "and the input is scored with the stored signals; also writes alerts.jsonl. Default: off "
    "(suggested: history/escalation.duckdb).")]
ExecutorName = Annotated[str, typer.Option("--executor", help="Where extraction runs: local or dask.")]
Scheduler = Annotated[str | None, typer.Option(
    "--scheduler", help="Dask scheduler address (tcp://HOST:8786) for --executor dask; default: a LocalCluster.")]
Workers = Annotated[int, typer.Option("--workers", min=1, help="Worker processes of the LocalCluster that "
                                      "--executor dask starts when no --scheduler is given (1 thread each).")]
# extraction on this machine (README "Feed scale"); engine.nlp.extract.DEFAULT_BATCH_SIZE, not imported here
# so that --help stays fast
BATCH_SIZE = 16
BatchSize = Annotated[int, typer.Option("--batch-size", min=1, help="Documents per spaCy batch (nlp.pipe); "
                                        "larger batches of long documents take more memory.")]
NProcess = Annotated[int, typer.Option("--n-process", min=1, help="Worker processes that extract (each loads "
                                       "spaCy once); same signals as 1. For --executor local.")]


def _date_option(value: str | None, dayfirst: bool = True) -> dt.date | None:
    if value is None:
        return None
    try:
        return parse_date(value, dayfirst=dayfirst)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


def _print_rejected(rej) -> None:
    err.print(f"[yellow]rejected[/yellow] {escape(rej.message())}")


def _print_skipped(result: IngestResult) -> None:
    if result.skipped:
        err.print(f"skipped {len(result.skipped)} file(s) of an unknown kind inside input folders: "
                  f"{escape(', '.join(result.skipped[:5]))}{' ...' if len(result.skipped) > 5 else ''}")


def _print_read(result: IngestResult, out: Path) -> None:
    """What reading the input came to (the rejects were printed as they were found)."""
    if result.rejected:
        err.print(f"{len(result.rejected)} record(s) rejected; listed in {out / 'rejected.jsonl'}")
    if not result.documents:
        err.print("[red]no usable documents in the input[/red]")


def _ingest(inputs: list[Path], date: str | None, max_chars: int, out: Path, column_map: str | None = None,
            month_first: bool = False) -> IngestResult:
    """The whole input in memory (``rules diff`` scores it twice)."""
    result = read_inputs(inputs, default_date=_date_option(date, not month_first), max_chars=max_chars,
                         column_map=parse_column_map(column_map), dayfirst=not month_first)
    _print_skipped(result)
    for rej in result.rejected:
        _print_rejected(rej)
    _print_read(result, out)
    return result


def _open_inputs(inputs: list[Path], date: str | None, max_chars: int, column_map: str | None = None,
                 month_first: bool = False) -> InputStream:
    """The input, read record by record as extraction goes; every path checked first (InputError)."""
    stream = stream_inputs(inputs, default_date=_date_option(date, not month_first), max_chars=max_chars,
                           column_map=parse_column_map(column_map), dayfirst=not month_first,
                           on_reject=_print_rejected)
    _print_skipped(stream.result)
    return stream


def _exit_if_nothing_read(ingest: IngestResult | None) -> None:
    """A run that accepted no document did nothing useful: its outputs (rejected.jsonl above all) are
    written, and the exit status says so."""
    if ingest is not None and not ingest.documents:
        raise typer.Exit(1)


class _DocumentsColumn(ProgressColumn):
    """Documents done and documents a second."""

    def render(self, task) -> Text:
        docs = task.fields.get("docs")
        if docs is None:
            return Text("")
        elapsed = task.elapsed or 0
        rate = f"{docs / elapsed:,.1f} docs/s" if elapsed > 0.5 and docs else "? docs/s"
        return Text(f"{docs:,} docs {rate}", style="progress.data.speed")


class _TimeLeftColumn(TimeRemainingColumn):
    """Time left while it can be told (a stage of unknown length, or one done, shows none)."""

    def render(self, task) -> Text:
        if task.total is None or task.finished:
            return Text("")
        return Text.assemble(super().render(task), " left")


class _RunProgress:
    """The progress of a run on stderr: a bar over the input's bytes with documents, docs/s and time left
    while extracting, then one line per later stage (rules, pair scores) with its time. Hidden with -q and
    when stderr is not a terminal: a log then gets one plain line per stage instead (none with -q)."""

    def __init__(self, stream: InputStream):
        self.stream = stream
        self.shown = err.is_terminal and not OUTPUT.quiet
        self.logged = not err.is_terminal and not OUTPUT.quiet
        self.bar = Progress(TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(), _DocumentsColumn(),
                            TimeElapsedColumn(), _TimeLeftColumn(), console=err,
                            disable=not self.shown)
        self.positions: collections.deque[int] = collections.deque()  # input position after each document read
        self.docs = 0
        self.task = None
        self.stage_name, self.stage_start = "", 0.0

    def documents(self):
        """The input's documents, noting where each ended in the input (the bar follows extraction, not reading)."""
        for document in self.stream:
            self.positions.append(self.stream.bytes_read)
            yield document

    def advance(self, n: int) -> None:
        """``n`` more documents done."""
        position = None
        for _ in range(min(n, len(self.positions))):
            position = self.positions.popleft()
        self.docs += n
        if position is not None:
            self.bar.update(self.task, completed=position, docs=self.docs)
        else:
            self.bar.update(self.task, docs=self.docs)

    def stage(self, name: str) -> None:
        """A later stage starts (the one before it is done)."""
        self._end_stage()
        self.stage_name, self.stage_start = name, time.perf_counter()
        read = self.stream.bytes_read or 1
        self.bar.update(self.task, total=read, completed=read)
        self.task = self.bar.add_task(name, total=None)

    def _end_stage(self) -> None:
        took = time.perf_counter() - self.stage_start
        if self.stage_name == "extracting":
            rate = f", {self.docs / took:,.1f} docs/s" if took > 0 else ""
            line = f"extracted {self.docs:,} document(s) in {took:,.1f} s{rate}"
        else:
            line = f"{self.stage_name}: {took:,.1f} s"
        if self.logged:
            err.print(line, highlight=False)
        elif self.task is not None and self.stage_name != "extracting":
            self.bar.update(self.task, total=1, completed=1, description=line)

    def __enter__(self) -> _RunProgress:
        self.bar.__enter__()
        self.stage_name, self.stage_start = "extracting", time.perf_counter()
        self.task = self.bar.add_task("extracting", total=self.stream.total_bytes, docs=0)
        return self

    def __exit__(self, kind, *exc) -> None:
        if kind is None:
            self._end_stage()
        self.bar.__exit__(kind, *exc)


def _config(rules: Path, window: str = "week", model: Path | None = None, level: str = "unit"):
    """The run configuration of a rules folder: every file of it (see engine/config.py)."""
    from engine.config import FOLDER_FILES, RunConfig

    config = RunConfig.build(rules, model=model, granularity=window, level=level)
    if config.defaulted:
        missing = ", ".join(FOLDER_FILES[part] for part in config.defaulted)
        err.print(f"{rules} has no {missing}: using the shipped one(s)")
    return config


def _output_folder(out: Path, inputs: list[Path]):
    """Check --out before any work and hold its lock until the outputs are written."""
    from engine.output import check_out_dir, output_lock

    check_out_dir(out, inputs)
    return output_lock(out)


def _executor(name: str, scheduler: str | None, workers: int, config, degraded: bool, batch_size: int = BATCH_SIZE,
              n_process: int = 1):
    """The extraction executor (engine/executor.py): checked, and a Dask cluster reached, before any work."""
    from engine.executor import ExtractorSpec, make_executor

    spec = ExtractorSpec.of(config.actors_path, config.signals_path, degraded)
    if name == "dask":
        if n_process > 1:
            raise typer.BadParameter("--n-process is for --executor local; a Dask cluster has --workers",
                                     param_hint="--n-process")
        err.print(f"extraction on Dask: {scheduler or f'a LocalCluster of {workers} worker process(es)'}")
        return make_executor(name, spec, scheduler, n_workers=workers)
    return make_executor(name, spec, scheduler, batch_size=batch_size, n_process=n_process)


PARTS_FOLDER = "signals.parts"


@contextlib.contextmanager
def _signal_parts(out: Path):
    """``OUT/signals.parts``: the Parquet parts of the signals, written while extraction runs (see
    engine/nlp/extract.py). A killed or failed run leaves them there (what it had extracted); the next
    run into the folder removes them first, and a run that finished removes them once signals.parquet
    is written."""
    import shutil

    folder = out / PARTS_FOLDER
    shutil.rmtree(folder, ignore_errors=True)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def _extract(stream: InputStream, degraded: bool, config, executor, parts: Path):
    from engine.nlp.extract import get_extractor

    extractor = get_extractor(config.actors_path, config.signals_path, degraded=degraded)
    if extractor.model.degraded:
        err.print(f"[bold red]{extractor.model.describe()}[/bold red]")
    with _RunProgress(stream) as progress:
        return executor.extract(progress.documents(), progress=progress.advance, parts_dir=parts)


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
    executor: ExecutorName = "local",
    scheduler: Scheduler = None,
    workers: Workers = 2,
    batch_size: BatchSize = BATCH_SIZE,
    n_process: NProcess = 1,
) -> None:
    """Extract signals: writes signals.csv/.parquet, unknown_actors.csv, rejected.jsonl and run.json."""
    from engine.output import new_run_id, run_record, write_run

    with _output_folder(out, inputs), _signal_parts(out) as parts:
        config = _config(rules)
        started = dt.datetime.now(dt.UTC)
        stream = _open_inputs(inputs, date, max_chars, column_map, month_first)
        with _executor(executor, scheduler, workers, config, degraded, batch_size, n_process) as runner:
            extraction = _extract(stream, degraded, config, runner, parts)
        result = stream.result
        _print_read(result, out)
        run = run_record(run_id=new_run_id(), started=started.isoformat(timespec="seconds"),
                         seconds=round(time.time() - started.timestamp(), 2), config=config, extraction=extraction,
                         ingest=result, inputs=inputs, dates=extraction.signals["date"],
                         counts={"documents": extraction.n_documents, "signals": len(extraction.signals)})
        write_run(out, run=run, tables={"signals": extraction.signals}, unknown_actors=extraction.unknown_actors,
                  ingest=result)
    if OUTPUT.json:
        _print_json({"documents": extraction.n_documents, "signals": len(extraction.signals),
                     "by_type": {str(k): int(v) for k, v in extraction.signals["signal"].value_counts().items()},
                     "rejected": len(result.rejected), "unknown_actors": len(extraction.unknown_actors),
                     "out": str(out)})
    table = Table(title=f"{len(extraction.signals)} signals in {extraction.n_documents} documents")
    for col in ("signal", "count"):
        table.add_column(col)
    for sig, n in extraction.signals["signal"].value_counts().items():
        table.add_row(str(sig), str(n))
    console.print(table)
    if len(extraction.unknown_actors):
        console.print(f"{len(extraction.unknown_actors)} unknown actor name(s) listed in {out / 'unknown_actors.csv'}")
    console.print(f"tables written to {out}/")
    _exit_if_nothing_read(result)


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
    figurative = extractor.gate.figurative(doc)
    if figurative:
        console.print(f"No signals: the text is {figurative}; a run takes none from it.")
        return
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
    def actor(code: str, basis: str) -> str:  # how it was found, unless read from the parse
        return "?" if not code else code if basis in ("", "parse") else f"{code} ({basis})"

    for s in doc._.signals:
        signals.add_row(s.trigger, actor(s.source, s.source_basis), s.signal, actor(s.target, s.target_basis),
                        str(s.negated), str(s.hypothetical), s.status, s.reported_by, s.location,
                        f"{s.confidence:.2f}", s.pattern_id)
    console.print(signals)
    console.print(f"Read with {extractor.model.describe()}.")
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


def _score(inputs, out, date, max_chars, window, rules, model, degraded, column_map=None, month_first=False,
           level="unit", executor: str = "local", scheduler: str | None = None, workers: int = 2,
           history: Path | None = None, batch_size: int = BATCH_SIZE, n_process: int = 1, parts: Path | None = None):
    import functools

    from engine.scoring import Scorer

    config = _config(rules, window, model, level)
    with contextlib.ExitStack() as stack:
        store = None
        if history is not None:  # a foreign or corrupt file stops the run before any work
            from engine.history import History

            store = stack.enter_context(History.open(history))
        runner = stack.enter_context(_executor(executor, scheduler, workers, config, degraded, batch_size,
                                               n_process))
        stream = _open_inputs(inputs, date, max_chars, column_map, month_first)
        scorer = Scorer(config=config, degraded=degraded)
        if scorer.extractor.model.degraded:
            err.print(f"[bold red]{scorer.extractor.model.describe()}[/bold red]")
        extract = functools.partial(runner.extract, parts_dir=parts)
        with _RunProgress(stream) as progress:
            if store is None:
                scored = scorer.score(documents=progress.documents(), ingest=stream.result, progress=progress.advance,
                                      extract=extract, stage=progress.stage)
            else:
                from engine.history import score_with_history

                scored = score_with_history(scorer, store, progress.documents(), ingest=stream.result,
                                            extract=extract, inputs=inputs, progress=progress.advance,
                                            stage=progress.stage).result
        _print_read(stream.result, out)
        if store is None:
            return scored
        info = scored.history
        err.print(f"history {history}: {info['new_documents']} new, {info['revised_documents']} revised, "
                  f"{info['stored_documents']} already stored document(s); windows from {info['scored_from']} "
                  f"rescored; {info['changed_pair_scores']} pair score(s) added or changed; {info['alerts']} alert(s)")
        return scored


def _print_ranked(scored, limit: int = 15) -> None:
    ranked = scored.ranked()
    if OUTPUT.json:
        _print_json({"run_id": scored.run_id, "level": scored.config.level, "granularity": scored.granularity,
                     "signals": len(scored.signals), "rule_hits": len(scored.rule_hits), "ranked": _records(ranked)})
        return
    as_of = f" as of the {scored.granularity} of {ranked['as_of'].iat[0]}" if len(ranked) else ""
    table = Table(title=f"Top pairs{as_of} ({len(ranked)} in all; {scored.config.level} level)")
    for col in ("source", "target", "window", "score", "band", "change", "rules", "model p", "signals"):
        table.add_column(col)
    for r in ranked.head(limit).itertuples():
        change = "" if r.change != r.change else f"{r.change:+.1f}"  # NaN: first window of the pair
        # a pair not seen in the latest window: its last window, and its score decayed since
        window = r.window_start + (f" (last seen, {r.windows_since} ago; was {r.window_score:.0f})" if r.stale else "")
        table.add_row(r.source, r.target, window, f"{r.score:.0f}", r.band, change, f"{r.rules_score:+.1f}",
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
    level: Level = "unit",
    rules: RulesDir = SHIPPED_RULES,
    model: ModelFile = SHIPPED_MODEL,
    degraded: Degraded = False,
    history: HistoryFile = None,
    executor: ExecutorName = "local",
    scheduler: Scheduler = None,
    workers: Workers = 2,
    batch_size: BatchSize = BATCH_SIZE,
    n_process: NProcess = 1,
) -> None:
    """Extract signals, apply the rules and the classifier: writes signals, rule_hits and pair_scores (CSV + Parquet)."""
    from engine.output import write_result

    with _output_folder(out, inputs), _signal_parts(out) as parts:
        scored = _score(inputs, out, date, max_chars, window, rules, model, degraded, column_map, month_first, level,
                        executor, scheduler, workers, history, batch_size, n_process, parts)
        write_result(scored, out, inputs)
    _print_ranked(scored)
    console.print(f"tables written to {out}/")
    _exit_if_nothing_read(scored.ingest)


@app.command()
def report(
    inputs: Inputs,
    out: Annotated[Path, typer.Option(help="Report folder.")] = Path("reports/latest"),
    date: DateOpt = None,
    max_chars: MaxChars = 200_000,
    column_map: ColumnMap = None,
    month_first: MonthFirst = False,
    window: Window = "week",
    level: Level = "unit",
    rules: RulesDir = SHIPPED_RULES,
    model: ModelFile = SHIPPED_MODEL,
    degraded: Degraded = False,
    history: HistoryFile = None,
    executor: ExecutorName = "local",
    scheduler: Scheduler = None,
    workers: Workers = 2,
    batch_size: BatchSize = BATCH_SIZE,
    n_process: NProcess = 1,
    evidence: Annotated[int, typer.Option(min=1, help="Evidence sentences shown per pair (the rest are in the "
                                          "tables).")] = 5,
    pdf: Annotated[bool, typer.Option("--pdf", help="Also write report.pdf, printed by the system Chromium.")] = False,
) -> None:
    """Score the inputs and write a self-contained HTML report (index.html), its tables and run.json."""
    from engine.report.builder import build_report

    if pdf:
        from engine.report.screenshot import require_chromium

        require_chromium()  # before any work: a clear message when Chromium is missing
    with _output_folder(out, inputs), _signal_parts(out) as parts:
        scored = _score(inputs, out, date, max_chars, window, rules, model, degraded, column_map, month_first, level,
                        executor, scheduler, workers, history, batch_size, n_process, parts)
        path = build_report(scored, out, inputs, evidence=evidence, pdf=pdf)
    _print_ranked(scored)
    console.print(f"report written to {path}" + (f" and {out / 'report.pdf'}" if pdf else ""))
    _exit_if_nothing_read(scored.ingest)


@app.command("history")
def history_command(
    source: Annotated[str, typer.Argument(help="Source actor code, e.g. IRN.")],
    target: Annotated[str, typer.Argument(help="Target actor code, e.g. ISR.")],
    history: Annotated[Path | None, typer.Option(
        "--history", help="Run history file. Default: $ESCALATION_HISTORY or history/escalation.duckdb.")] = None,
    window: Annotated[str | None, typer.Option(help="Only this window size (day, week, month).")] = None,
) -> None:
    """Print a pair's stored scores by window, oldest first, with band, change and top drivers."""
    import os

    from engine.history import DEFAULT_HISTORY, History, pair_history

    path = history or Path(os.environ.get("ESCALATION_HISTORY", DEFAULT_HISTORY))
    with History.open(path, create=False) as store:
        rows = pair_history(store, source, target, window)
    if rows.empty:
        console.print(f"no stored scores for {source} -> {target} in {path}")
        raise typer.Exit(1)
    console.print(f"{source} -> {target}: {len(rows)} window(s) in {path}", highlight=False, markup=False)
    for r in rows.itertuples():  # one line per window (easy to read, grep and diff)
        change = "new" if r.change != r.change else f"{r.change:+.1f}"
        console.print(f"{r.window_start}..{r.window_end} ({r.granularity})  score {r.score:5.1f}  {r.band:<8}  "
                      f"change {change:>6}  rules {r.rules_score:+6.1f}  model p {r.model_probability:.2f}  "
                      f"signals {r.n_signals}  drivers: {r.top_drivers}", highlight=False, markup=False, soft_wrap=True)


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
    if OUTPUT.json:
        _print_json({"ok": not problems, "checked": counts, "problems": [str(p) for p in problems]})
        if problems:
            raise typer.Exit(1)
        return
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
        console.print(f"{mark} {escape(f'{r.rule_id} {r.kind}[{r.index}] ({r.file}:{r.line}): {r.detail}')}", highlight=False)
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


BacktestEvents = Annotated[Path, typer.Option(
    "--events", help="Event file to replay (ICEWS format, ../shared/data/events/icews18_full.csv.gz).")]


def _backtest_progress(n_rules: int, ablation: bool):
    """A progress bar over the backtest's steps (reading, rules, scores, one per rule ablated)."""
    progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                        console=err, disable=not err.is_terminal)
    task = progress.add_task("backtest", total=3 + (n_rules if ablation else 0))

    def step(text: str) -> None:
        progress.update(task, description=text, advance=0 if text.startswith("reading") else 1)
        if not err.is_terminal:
            err.print(text, highlight=False)

    return progress, step


@rules_app.command("backtest")
def rules_backtest(
    path: RulePath = RULES_DIR,
    events: BacktestEvents = ...,
    window: Annotated[str, typer.Option(help="Window: week (ICEWS18) or month (ICEWS 2005-15).")] = "week",
    out: Annotated[Path, typer.Option(help="Folder for backtest.md and backtest.json.")] = Path("backtest"),
    model: ModelFile = SHIPPED_MODEL,
    ablation: Annotated[bool, typer.Option(help="Also drop each rule in turn (the ablation table).")] = True,
) -> None:
    """Replay event history through the rules and the full score; measure how well each window's score and band
    anticipate a material-conflict event in the next window (test windows of a time split only), next to
    persistence and attack-rate baselines, with a rule ablation table. Writes backtest.md and backtest.json."""
    from engine.backtest import render_markdown, run_backtest, write_backtest

    if window not in ("week", "month"):
        raise typer.BadParameter(f"unknown window {window!r} (week or month)", param_hint="--window")
    if not events.is_file():
        raise typer.BadParameter(f"{events}: no such file", param_hint="--events")
    with _output_folder(out, [events]):
        config = _config(path, window, model)
        progress, step = _backtest_progress(len(config.rules), ablation)
        with progress:
            result = run_backtest(events, config, window, ablation=ablation, progress=step)
        command = f"escalation rules backtest {path} --events {events} --window {window}"
        written = write_backtest(result, out, command)
    console.print(render_markdown(result), markup=False, highlight=False, soft_wrap=True)
    console.print(f"written: {', '.join(str(w) for w in written)}", highlight=False)


@rules_app.command("diff")
def rules_diff(
    old: Annotated[Path, typer.Argument(help="The rules folder before the change.")],
    new: Annotated[Path, typer.Argument(help="The rules folder after the change.")],
    inputs: Annotated[list[Path] | None, typer.Argument(
        help="News input as for `score` (files, folders, .jsonl/.csv, -); or use --events.")] = None,
    events: Annotated[Path | None, typer.Option(
        "--events", help="Event data (ICEWS format) instead of news: also diffs the backtest figures.")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON instead of Markdown.")] = False,
    limit: Annotated[int, typer.Option(help="Moved pairs shown in the Markdown (JSON lists all).")] = 50,
    date: DateOpt = None,
    max_chars: MaxChars = 200_000,
    column_map: ColumnMap = None,
    month_first: MonthFirst = False,
    window: Window = "week",
    model: ModelFile = SHIPPED_MODEL,
    degraded: Degraded = False,
    level: Level = "unit",
) -> None:
    """Score the same input with two rule folders; list the pairs whose band or score moved, with the rule hits
    added, removed or changed behind each move (Markdown, or JSON with --json)."""
    import json

    from engine.rules.diff import diff_backtests, diff_scored, render_diff

    if bool(inputs) == (events is not None):
        raise typer.BadParameter("give news INPUT files or --events FILE (one of them)")
    old_config, new_config = _config(old, window, model, level), _config(new, window, model, level)
    if events is not None:
        from engine.backtest import run_backtest

        if not events.is_file():
            raise typer.BadParameter(f"{events}: no such file", param_hint="--events")
        runs = []
        for name, config in (("old", old_config), ("new", new_config)):
            with console.status(f"backtest with the {name} rules ({config.rules_dir})") if not json_out \
                    else _quiet():
                runs.append(run_backtest(events, config, window, ablation=False))
        result = diff_backtests(runs[0], runs[1], str(old), str(new), f"{events} ({window}ly windows)")
    else:
        from engine.scoring import Scorer

        ingested = _ingest(inputs, date, max_chars, Path("."), column_map, month_first)
        scored = []
        for config in (old_config, new_config):
            scorer = Scorer(config=config, degraded=degraded)
            scored.append(scorer.score([], ingest=ingested))
        result = diff_scored(scored[0], scored[1], str(old), str(new),
                             ", ".join(str(i) for i in inputs) + f" ({len(ingested.documents)} documents)")
    if json_out:
        print(json.dumps(result.to_json(), indent=2, default=str))
    else:
        console.print(render_diff(result, limit), markup=False, highlight=False, soft_wrap=True)


def _quiet():
    from contextlib import nullcontext

    return nullcontext()


def main() -> None:
    """Entry point. A user error (EngineError) is one message and exit 1; ``--debug`` (anywhere on the line)
    shows its traceback instead."""
    debug = "--debug" in sys.argv
    if debug:
        sys.argv.remove("--debug")
    try:
        app()
    except EngineError as exc:
        if debug:
            raise
        err.print(f"[red]error:[/red] {escape(str(exc))}", soft_wrap=True)  # paths and FILE:LINE stay whole
        sys.exit(1)
