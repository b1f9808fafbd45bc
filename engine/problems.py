"""One located problem type for every checker: ``FILE:LINE: id: message`` (pySigma's located errors
are the model). A ``Problem`` is a ``str`` (so lists of them print, join and compare as before) that
also keeps its parts."""

from __future__ import annotations

import re
from pathlib import Path

_FORMAT = re.compile(r"^(?P<file>.+?):(?P<line>\d+): (?P<id>[^:]*): (?P<message>.*)$", re.S)


class Problem(str):
    """A located problem in a configuration file. ``str(p)`` is ``FILE:LINE: id: message``."""

    file: str
    line: int
    id: str
    message: str

    def __new__(cls, file: str | Path, line: int, id: str, message: str) -> Problem:  # noqa: A002 - pySigma's name
        self = super().__new__(cls, f"{file}:{line}: {id}: {message}")
        self.file, self.line, self.id, self.message = str(file), int(line), str(id), str(message)
        return self

    @classmethod
    def parse(cls, text: str) -> Problem:
        """A ``FILE:LINE: id: message`` string from an older checker, as a Problem."""
        if isinstance(text, Problem):
            return text
        found = _FORMAT.match(text)
        if not found:
            return cls("-", 1, "-", text)
        return cls(found["file"], int(found["line"]), found["id"], found["message"])

    def __reduce__(self):
        return (Problem, (self.file, self.line, self.id, self.message))


def read_yaml(path: str | Path, ident: str = "-"):
    """Load one YAML file for a checker: ``(data, [])``, or ``(None, [Problem])`` for a duplicate key
    or a syntax error (with its line)."""
    import yaml

    from engine.yamlio import DuplicateKeyError, load_yaml

    path = Path(path)
    try:
        return load_yaml(path), []
    except DuplicateKeyError as exc:
        return None, [Problem(path, exc.line, ident, str(exc))]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        return None, [Problem(path, (mark.line + 1) if mark else 1, ident,
                              f"YAML syntax error: {getattr(exc, 'problem', None) or exc}")]
    except OSError as exc:
        return None, [Problem(path, 1, ident, f"cannot read: {exc.strerror or exc}")]


def line_for(raw, loc: tuple) -> int:
    """Walk a pydantic error location through the loaded YAML (LineDict/LineList) to the nearest line."""
    from engine.yamlio import LineDict, LineList, line_of

    node, line = raw, line_of(raw)
    for part in loc:
        if isinstance(node, LineDict) and part in node:
            line = line_of(node, part, line)
            node = node[part]
        elif isinstance(node, LineList) and isinstance(part, int) and part < len(node):
            line = line_of(node, part, line)
            node = node[part]
        else:
            break
    return line


def validation_problems(exc, raw, path: str | Path, ident: str, fields_at=None) -> list[Problem]:
    """A pydantic ValidationError on ``raw`` (loaded from ``path``) as located Problems; an unknown
    key gets a did-you-mean from ``fields_at(loc)`` (the allowed keys where it was found)."""
    from engine.errors import did_you_mean

    problems = []
    for err in exc.errors():
        loc = err["loc"]
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden" and fields_at is not None:
            msg = f"unknown field {loc[-1]!r}{did_you_mean(loc[-1], fields_at(loc))}"
        else:
            where = ".".join(str(p) for p in loc)
            msg = f"{where}: {msg}" if where else msg
        problems.append(Problem(path, line_for(raw, loc), ident, msg))
    return problems
