"""pandera schemas for every table the engine produces, and one ``validate`` that reports row by row.

Tables are strict (no unknown columns), coerced, and validated lazily so that a failure lists
every failing row and check at once, wrapped in the engine's ``TableValidationError``.
"""

from __future__ import annotations

from typing import Literal, get_args

import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaError, SchemaErrors
from pandera.typing.pandas import Series

from engine.errors import TableValidationError

SIGNAL_TYPES = ["THREATEN", "MOBILIZE", "ATTACK", "DEMAND", "DEESCALATE"]
STATUSES = ["past", "ongoing", "planned", "unknown"]
ISO_DATE = r"^\d{4}-\d{2}-\d{2}$"


ACTOR_BASES = ("", "parse", "reference", "speaker", "launch-point", "nearest", "counterpart", "document-pair",
               "earlier-event", "ranked")


class SignalsTable(pa.DataFrameModel):
    """One row per detected signal: who did what to whom, where in which text, how sure."""

    signal_id: Series[str] = pa.Field(unique=True)
    doc_id: Series[str]
    date: Series[str] = pa.Field(str_matches=r"^(\d{4}-\d{2}-\d{2})?$")  # empty: undated document
    sent_index: Series[int] = pa.Field(ge=0)
    start_char: Series[int] = pa.Field(ge=0)
    end_char: Series[int] = pa.Field(ge=1)
    sent_start: Series[int] = pa.Field(ge=0)
    sent_end: Series[int] = pa.Field(ge=1)
    source: Series[str]
    target: Series[str]
    signal: Series[str] = pa.Field(isin=SIGNAL_TYPES)
    cameo: Series[str] = pa.Field(str_matches=r"^\d{2,4}$")
    intensity: Series[float] = pa.Field(ge=0, le=1)
    negated: Series[bool]
    hypothetical: Series[bool]
    status: Series[str] = pa.Field(isin=STATUSES)
    reported_by: Series[str]
    location: Series[str]
    confidence: Series[float] = pa.Field(ge=0, le=1)
    pattern_id: Series[str]
    trigger: Series[str]
    source_text: Series[str]
    target_text: Series[str]
    # how each actor was found (see engine/nlp/signals.py): parse, reference (a pronoun or description
    # resolved to an earlier mention), nearest (the nearest actor of the sentence), counterpart (the side
    # the other actor has faced in this document), earlier-event ("the attack" = the last attack named),
    # ranked (chosen by the learned role ranker, engine/nlp/roles.py, where the rules guessed or found none);
    # empty when the actor is unknown
    source_basis: Series[str] = pa.Field(isin=ACTOR_BASES)
    target_basis: Series[str] = pa.Field(isin=ACTOR_BASES)
    antecedent_sent: Series[int] = pa.Field(ge=-1)  # sentence an actor was taken from; -1: this one
    sentence: Series[str]

    class Config:
        strict = True
        coerce = True

    @pa.dataframe_check(error="source and target must differ")
    def source_differs_from_target(cls, df: pd.DataFrame) -> Series[bool]:
        return (df["source"] == "") | (df["source"] != df["target"])

    @pa.dataframe_check(error="evidence span must lie inside its sentence (sent_start <= start_char < end_char <= sent_end)")
    def span_inside_sentence(cls, df: pd.DataFrame) -> Series[bool]:
        return (df["sent_start"] <= df["start_char"]) & (df["start_char"] < df["end_char"]) & (
            df["end_char"] <= df["sent_end"]
        )


class DirectedPairTable(pa.DataFrameModel):
    """Base of the tables keyed by a directed pair of known actors: both codes present, and different."""

    source: Series[str] = pa.Field(str_length={"min_value": 1})
    target: Series[str] = pa.Field(str_length={"min_value": 1})

    class Config:
        strict = True
        coerce = True

    @pa.dataframe_check(error="source and target must differ")
    def source_differs_from_target(cls, df: pd.DataFrame) -> Series[bool]:
        return df["source"] != df["target"]


Band = Literal["LOW", "GUARDED", "ELEVATED", "HIGH", "SEVERE"]  # lowest first
BANDS: list[str] = list(get_args(Band))


class RuleHitsTable(DirectedPairTable):
    """One row per rule firing; a pair's rules score is the sum of its rows' contributions."""

    run_id: Series[str]
    window_start: Series[str] = pa.Field(str_matches=ISO_DATE)
    window_end: Series[str] = pa.Field(str_matches=ISO_DATE)
    rule_id: Series[str] = pa.Field(str_matches=r"^[a-z0-9]+(-[a-z0-9]+)*$")
    contribution: Series[float] = pa.Field(ge=-1000, le=1000)
    signal_ids: Series[str]
    explanation: Series[str]
    band_floor: Series[str] = pa.Field(isin=["", *BANDS])  # "" unless the rule sets a floor
    band_cap: Series[str] = pa.Field(isin=["", *BANDS])
    # the rule's status (rules/scoring: status: stable | experimental); a table written before the
    # column existed reads as stable
    rule_status: Series[str] = pa.Field(isin=["stable", "experimental"], default="stable")

    class Config:
        add_missing_columns = True


class PairScoresTable(DirectedPairTable):
    """One row per directed pair and window: rules part, model part, combined 0-100 score and band."""

    run_id: Series[str]
    window_start: Series[str] = pa.Field(str_matches=ISO_DATE)
    window_end: Series[str] = pa.Field(str_matches=ISO_DATE)
    rules_score: Series[float]
    model_probability: Series[float] = pa.Field(ge=0, le=1)
    score: Series[float] = pa.Field(ge=0, le=100)
    band: Series[str] = pa.Field(isin=BANDS)
    band_floor: Series[str] = pa.Field(isin=["", *BANDS])  # the highest floor a rule hit set, or ""
    band_cap: Series[str] = pa.Field(isin=["", *BANDS])  # the lowest cap a rule hit set, or ""
    change: Series[float] = pa.Field(nullable=True)
    n_signals: Series[int] = pa.Field(ge=0)
    top_drivers: Series[str]

    class Config:
        unique = ["source", "target", "window_start"]


def _problems(exc: SchemaErrors | SchemaError, df: pd.DataFrame) -> list[str]:
    cases = exc.failure_cases
    if cases is None or len(cases) == 0:
        return [str(exc)]
    problems: list[str] = []
    seen_row_checks: set[tuple] = set()
    for _, case in cases.iterrows():
        check, value, index = case.get("check"), case.get("failure_case"), case.get("index")
        has_index = index is not None and not pd.isna(index)
        where = f"row {int(index)}" if has_index else "table"
        if case.get("schema_context") == "DataFrameSchema" and has_index:
            # a check across columns: report it once per row, with the row's actor pair
            if (index, check) in seen_row_checks:
                continue
            seen_row_checks.add((index, check))
            shown = {k: df.loc[index, k] for k in ("source", "target") if k in df.columns and index in df.index}
            problems.append(f"{where}: row check failed: {check}: {shown}")
        else:
            column = case.get("column")
            col = f"column {column!r}" if column is not None and not pd.isna(column) else "table"
            problems.append(f"{where}: {col}: failed {check}: value {value!r}")
    return problems


def validate(model: type[pa.DataFrameModel], df: pd.DataFrame, table: str) -> pd.DataFrame:
    """Validate ``df`` lazily against ``model``; raise TableValidationError listing every failure."""
    try:
        return model.validate(df, lazy=True)
    except (SchemaErrors, SchemaError) as exc:
        raise TableValidationError(table, _problems(exc, df)) from None


def empty_frame(model: type[pa.DataFrameModel]) -> pd.DataFrame:
    """An empty, valid table with the model's columns and dtypes."""
    return model.validate(pd.DataFrame({c: pd.Series(dtype=object) for c in model.to_schema().columns}))
