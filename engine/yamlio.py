"""Safe YAML loading that remembers line numbers and refuses duplicate keys.

Every mapping loaded here is a ``LineDict``: a plain dict plus ``.line`` (its first line) and
``.key_lines`` (the line of each key), so error messages can point at ``FILE:LINE``.
"""

from __future__ import annotations

from pathlib import Path

import yaml


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


class _LineLoader(yaml.SafeLoader):
    """SafeLoader (no Python objects) that records lines and rejects duplicate keys."""

    def construct_mapping(self, node, deep=False):
        mapping = LineDict()
        mapping.line = node.start_mark.line + 1
        mapping.key_lines = {}
        self.flatten_mapping(node)
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
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


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _LineLoader.construct_mapping)
_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _LineLoader.construct_sequence)


def load_yaml(path: str | Path):
    """Load one YAML file safely. Raises yaml.YAMLError (with a mark) or DuplicateKeyError."""
    with open(path, encoding="utf-8") as fh:
        return yaml.load(fh, Loader=_LineLoader)  # noqa: S506 - _LineLoader derives from SafeLoader


def line_of(obj, key: str | int | None = None, default: int = 1) -> int:
    """Best line number for ``obj[key]`` (or ``obj`` itself)."""
    if key is not None:
        if isinstance(obj, LineDict) and key in obj.key_lines:
            return obj.key_lines[key]
        if isinstance(obj, LineList) and isinstance(key, int) and key < len(obj.item_lines):
            return obj.item_lines[key]
    return getattr(obj, "line", default) or default
