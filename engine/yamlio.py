"""Safe YAML loading that remembers line numbers and refuses duplicate keys and files that could exhaust the
machine.

Every mapping loaded here is a ``LineDict``: a plain dict plus ``.line`` (its first line) and
``.key_lines`` (the line of each key), so error messages can point at ``FILE:LINE``.

Limits (each refusal is a ``YamlLimitError``, a ``yaml.MarkedYAMLError`` with the file and line):
``MAX_YAML_BYTES`` per file, ``MAX_DEPTH`` levels of nesting, and ``MAX_EXPANDED_NODES`` nodes once every
alias is expanded (a 566-byte chain of aliases can stand for billions of nodes: the "billion laughs");
an alias that refers to the node containing it is refused too. A file that is not UTF-8 or holds characters
YAML forbids, and a value PyYAML cannot build (an integer of 5,000 digits, the date 2024-13-45, a list as a
mapping key), are reported with their line as well: ``load_yaml`` raises only ``yaml.YAMLError`` (always with a
``problem_mark``) or ``DuplicateKeyError`` (with ``.line``).

Parsing: libyaml (PyYAML's C parser) reads a file when it can, the same constructor builds it (same values,
same lines), about 5x faster than PyYAML's pure-Python parser on the shipped dictionaries, which every
command, worker and check loads. A file libyaml refuses, or that is too deep or fails to build, goes
through the pure-Python loader, which words and locates the problem as before. libyaml follows the YAML
spec where PyYAML does not: it also reads a tab as a space between tokens (``country:<TAB>NGA``) and a
``?`` inside a plain scalar in brackets.
"""

from __future__ import annotations

import io
from pathlib import Path

import yaml
from yaml.composer import Composer
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.events import MappingEndEvent, MappingStartEvent, SequenceEndEvent, SequenceStartEvent
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.resolver import Resolver
from yaml.scanner import Scanner

MAX_YAML_BYTES = 8 * 1024 * 1024
MAX_DEPTH = 50
MAX_EXPANDED_NODES = 500_000


class LineDict(dict):
    line: int = 0
    key_lines: dict


class LineList(list):
    line: int = 0
    item_lines: list


class DuplicateKeyError(ValueError):
    def __init__(self, key: str, line: int, first_line: int):
        self.key = key
        self.line = line
        super().__init__(f"duplicate key {key!r} (first defined on line {first_line})")


class YamlLimitError(yaml.MarkedYAMLError):
    """A YAML file refused before it is built: too large, too deep, too many nodes once aliases are expanded,
    not UTF-8. ``problem_mark.line + 1`` is the line."""

    def __init__(self, problem: str, mark: yaml.Mark):
        super().__init__(problem=problem, problem_mark=mark)


def _mark(name: str, line: int, column: int = 0, index: int = 0) -> yaml.Mark:
    """A mark for ``line`` (1-based), as PyYAML's own errors carry."""
    return yaml.Mark(name, index, line - 1, column, None, None)


class _LineConstructor(SafeConstructor):
    """SafeConstructor (no Python objects) that records lines and rejects duplicate keys."""

    def construct_object(self, node, deep=False):
        try:
            return super().construct_object(node, deep=deep)
        except (yaml.YAMLError, DuplicateKeyError):
            raise
        except (ValueError, TypeError, OverflowError, RecursionError) as exc:
            raise ConstructorError(None, None, f"cannot read this value ({type(exc).__name__}: {exc})",
                                   node.start_mark) from None

    def construct_mapping(self, node, deep=False):
        mapping = LineDict()
        mapping.line = node.start_mark.line + 1
        mapping.key_lines = {}
        self.flatten_mapping(node)
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            try:
                hash(key)
            except TypeError:
                raise ConstructorError("while constructing a mapping", node.start_mark,
                                       "found a key that is a list or mapping", key_node.start_mark) from None
            if key in mapping.key_lines:
                raise DuplicateKeyError(key, line, mapping.key_lines[key])
            mapping[key] = self.construct_object(value_node, deep=True)
            mapping.key_lines[key] = line
        return mapping

    def construct_sequence(self, node, deep=False):
        seq = LineList(self.construct_object(child, deep=True) for child in node.value)
        seq.line = node.start_mark.line + 1
        seq.item_lines = [child.start_mark.line + 1 for child in node.value]
        return seq


_LineConstructor.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _LineConstructor.construct_mapping)
_LineConstructor.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _LineConstructor.construct_sequence)


class _LineLoader(Reader, Scanner, Parser, Composer, _LineConstructor, Resolver):
    """PyYAML's pure-Python SafeLoader with ``_LineConstructor``, nesting bounded while it composes. It
    words and locates every problem of a file (the libyaml loader below leaves them to it)."""

    _depth = 0

    def __init__(self, stream):
        Reader.__init__(self, stream)
        Scanner.__init__(self)
        Parser.__init__(self)
        Composer.__init__(self)
        _LineConstructor.__init__(self)
        Resolver.__init__(self)

    def compose_node(self, parent, index):
        # PyYAML composes recursively: bound the depth before Python's recursion limit is reached
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise YamlLimitError(f"nested more than {MAX_DEPTH} levels deep", self.peek_event().start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


try:
    from yaml.cyaml import CParser
except ImportError:  # PyYAML built without libyaml: the pure-Python loader does it all
    CParser = None

if CParser is not None:
    class _CLineLoader(CParser, _LineConstructor, Resolver):
        """The same loader on libyaml's parser and composer (in C: about 5x faster on the shipped
        dictionaries, which every command and worker loads)."""

        def __init__(self, stream):
            CParser.__init__(self, stream)
            _LineConstructor.__init__(self)
            Resolver.__init__(self)


def _named_text(text: str, name: str) -> io.StringIO:
    stream = io.StringIO(text)
    stream.name = name  # libyaml's marks name the file, not <file>
    return stream


def _libyaml_loader(text: str, name: str):
    """(loader, node) of a file libyaml reads without a problem and that is nested at most MAX_DEPTH
    deep, else None: the pure-Python loader then finds and words the problem as it always has. The
    depth is counted on libyaml's events first, because its composer recurses in C, where no
    recursion limit stops a file of a million '['."""
    if CParser is None:
        return None
    events = CParser(_named_text(text, name))
    try:
        depth = 0
        while (event := events.get_event()) is not None:
            kind = type(event)
            if kind is MappingStartEvent or kind is SequenceStartEvent:
                depth += 1
                if depth > MAX_DEPTH:
                    return None
            elif kind is MappingEndEvent or kind is SequenceEndEvent:
                depth -= 1
    except yaml.YAMLError:
        return None
    finally:
        events.dispose()
    loader = _CLineLoader(_named_text(text, name))
    try:
        return loader, loader.get_single_node()
    except yaml.YAMLError:
        loader.dispose()
        return None


def _check_expansion(root, name: str) -> None:
    """Refuse a node graph that is larger than MAX_EXPANDED_NODES once aliases are expanded, or that contains
    itself through an alias. Iterative, with the size of each shared node computed once."""
    size: dict[int, int] = {}
    on_path: set[int] = set()
    stack = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        children = [] if isinstance(node, yaml.ScalarNode) else (
            [n for pair in node.value for n in pair] if isinstance(node, yaml.MappingNode) else list(node.value))
        if done:
            on_path.discard(key)
            size[key] = 1 + sum(size[id(c)] for c in children)
            if size[key] > MAX_EXPANDED_NODES:
                raise YamlLimitError(f"more than {MAX_EXPANDED_NODES:,} values once its aliases (*name) are "
                                     "expanded: refused (an alias bomb?)", node.start_mark)
            continue
        if key in size:
            continue
        if key in on_path:
            raise YamlLimitError("an alias (*name) refers to the node that contains it", node.start_mark)
        on_path.add(key)
        stack.append((node, True))
        stack.extend((c, False) for c in children if id(c) not in size)


def load_yaml(path: str | Path):
    """Load one YAML file safely. Raises yaml.YAMLError (always with a problem_mark) or DuplicateKeyError."""
    with open(path, "rb") as fh:
        data = fh.read(MAX_YAML_BYTES + 1)
    return load_yaml_bytes(data, str(path))


def load_yaml_bytes(data: bytes, name: str):
    """``load_yaml`` of a file's bytes already read; ``name`` is the file named in the marks."""
    if len(data) > MAX_YAML_BYTES:
        raise YamlLimitError(f"file larger than {MAX_YAML_BYTES:,} bytes: refused", _mark(name, 1))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1)
        raise YamlLimitError(f"not valid UTF-8 (byte 0x{data[exc.start]:02x} at line {line}, column {column + 1}); "
                             "save the file as UTF-8", _mark(name, line, column, exc.start)) from None
    found = _libyaml_loader(text, name)
    if found is not None:
        loader, node = found
        try:
            return _build(loader, node, name)
        except (yaml.YAMLError, DuplicateKeyError):
            pass  # worded and located by the pure-Python loader, as it always was
        finally:
            loader.dispose()
    try:
        loader = _LineLoader(text)
        loader.name = name  # marks say FILE, not <unicode string>
        node = loader.get_single_node()
    except yaml.reader.ReaderError as exc:  # a character YAML forbids (control characters ...)
        line = text[: exc.position].count("\n") + 1
        raise YamlLimitError(f"character U+{exc.character:04X} is not allowed in YAML (control character)",
                             _mark(name, line)) from None
    try:
        return _build(loader, node, name)
    finally:
        loader.dispose()


def _build(loader, node, name: str):
    """The document of a composed node graph, once its size with aliases expanded is known to be safe."""
    if node is None:
        return None
    _check_expansion(node, name)
    return loader.construct_document(node)


def line_of(obj, key: str | int | None = None, default: int = 1) -> int:
    """Best line number for ``obj[key]`` (or ``obj`` itself)."""
    if key is not None:
        if isinstance(obj, LineDict) and key in obj.key_lines:
            return obj.key_lines[key]
        if isinstance(obj, LineList) and isinstance(key, int) and key < len(obj.item_lines):
            return obj.item_lines[key]
    return getattr(obj, "line", default) or default
