"""Loading skops model files safely: every type the file names must be on the caller's allow-list.

A skops file never unpickles, but it can still name any importable function or class; a model file is
code-like, so only the shapes of our own models may come in. This is checked against EVERY type named in
the file's schema, including those skops would trust by default.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import skops.io as sio

from engine.errors import ModelFileError

# Containers and arrays estimators are stored with.
ALLOWED_DATA_TYPES = frozenset({
    "builtins.dict", "builtins.list", "builtins.tuple", "builtins.str", "builtins.int", "builtins.float",
    "builtins.bool", "numpy.ndarray", "numpy.float64", "numpy.float32", "numpy.int64", "numpy.int32",
    "numpy.bool_",
})


def model_file_types(path: str | Path) -> set[str]:
    """Every ``module.Class`` named anywhere in a skops file's schema (estimators, functions, containers, dtypes)."""
    with zipfile.ZipFile(path) as archive:
        schema = json.loads(archive.read("schema.json"))
    found: set[str] = set()
    stack = [schema]
    while stack:  # iterative: a hostile schema may nest deeper than Python's recursion limit
        item = stack.pop()
        if isinstance(item, dict):
            if "__class__" in item or "__module__" in item:
                found.add(f"{item.get('__module__')}.{item.get('__class__')}")
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


def load_allowed(path: str | Path, allowed_types: set[str] | frozenset[str], missing_hint: str):
    """The object stored in a skops file, after refusing any type outside ``allowed_types`` and the data types."""
    path = Path(path)
    if not path.exists():
        raise ModelFileError(f"{path}: model file not found ({missing_hint})")
    try:
        untrusted = set(sio.get_untrusted_types(file=path))
        named = model_file_types(path)
    except Exception as exc:  # noqa: BLE001 - not a skops archive at all
        raise ModelFileError(f"{path}: not a readable skops model file ({type(exc).__name__}: {exc})") from None
    refused = sorted((untrusted | named) - set(allowed_types) - ALLOWED_DATA_TYPES)
    if refused:
        raise ModelFileError(f"{path}: refusing to load types not on the allow-list: {', '.join(refused)}")
    try:
        return sio.load(path, trusted=sorted(untrusted))
    except Exception as exc:  # noqa: BLE001
        raise ModelFileError(f"{path}: cannot be loaded ({type(exc).__name__}: {exc})") from None
