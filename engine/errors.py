"""The engine's exceptions. Each carries the location (file, line, record, row) where known."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def did_you_mean(value: object, options: Iterable[str]) -> str:
    """' (did you mean 'X'?)' for the closest option, or '' when nothing is close."""
    hint = difflib.get_close_matches(str(value), list(options), n=1)
    return f" (did you mean {hint[0]!r}?)" if hint else ""


class EngineError(Exception):
    """Base class for every error the engine raises on purpose."""


class ModelNotInstalledError(EngineError):
    """No statistical spaCy pipeline could be loaded."""


class TableValidationError(EngineError):
    """A DataFrame failed its pandera schema; ``problems`` lists each failing row and check."""

    def __init__(self, table: str, problems: list[str]):
        self.table = table
        self.problems = problems
        shown = "\n".join(f"  - {p}" for p in problems[:50])
        more = f"\n  ... and {len(problems) - 50} more" if len(problems) > 50 else ""
        super().__init__(f"{table} table failed validation ({len(problems)} problems):\n{shown}{more}")


class RuleFileError(EngineError):
    """One or more rule files are invalid; ``problems`` are ``FILE:LINE: rule-id: message`` strings."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("invalid rule files:\n" + "\n".join(problems))


class RuleActionError(EngineError):
    """An exception raised while a rule's action ran (durable-rules would swallow it)."""

    def __init__(self, rule_id: str, pair: str, cause: BaseException):
        self.rule_id = rule_id
        self.pair = pair
        self.cause = cause
        super().__init__(f"rule {rule_id!r} failed on pair {pair}: {type(cause).__name__}: {cause}")


class ModelFileError(EngineError):
    """A classifier file could not be loaded safely."""


class ConfigError(EngineError):
    """A YAML configuration file (actors, signals, scoring) is invalid."""


class InputError(EngineError):
    """An input cannot be read as input at all: a missing path, an unknown file kind, an unreadable file, a FIFO
    or device, a folder that links back into itself, or a bad reading option (column map, size limit).

    Record-level problems are never raised: they become rejected records (``engine.ingest.Rejected``)."""
