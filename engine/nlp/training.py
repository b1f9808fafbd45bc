"""What the two trainers of the extraction's learned components share: writing the model file with its
card, and the command line (``python -m engine.nlp.type_training`` / ``engine.nlp.role_training``)."""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import platform
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import sklearn
import skops
import skops.io as sio

from engine.paths import REPO_ROOT


def repo_path(path: Path) -> str:
    """A path as the card shows it: relative to the repository when inside it."""
    try:
        return str(path.resolve().relative_to(REPO_ROOT))
    except ValueError:
        return str(path)


def save_with_card(stored: dict, out: Path, card: str, title: str, command: str) -> Path:
    """Write ``stored`` to the skops file ``out`` and its model card (``out`` with ``.md``) beside it: the
    header, provenance and environment around the ``card`` body."""
    out.parent.mkdir(parents=True, exist_ok=True)
    sio.dump(stored, out)
    digest = hashlib.sha256(out.read_bytes()).hexdigest()
    path = out.with_suffix(".md")
    path.write_text(f"""# Model card: {title}

Written by `{command}` on {dt.date.today().isoformat()}; do not edit by hand.
File: `{repo_path(out)}`, loaded only through skops with an allow-list of types (`engine/skops_files.py`);
sha256 `{digest}`.

{card.strip()}

## Environment
python {platform.python_version()}, scikit-learn {sklearn.__version__}, skops {skops.__version__},
numpy {np.__version__}
""", encoding="utf-8")
    return path


def main(argv: list[str] | None, prog: str, description: str, default_out: Path,
         train_and_save: Callable[[list[Path], Path, str], str]) -> int:
    """Parse ``--articles`` (repeatable) and ``--out``, check the folders, then ``train_and_save(folders, out,
    command)``, which returns the summary line to print; 2 with a message for bad input."""
    parser = argparse.ArgumentParser(prog=f"python -m {prog}", description=description)
    parser.add_argument("--articles", type=Path, action="append", required=True,
                        help="folder of labelled articles (*.yaml + *.txt); repeatable")
    parser.add_argument("--out", type=Path, default=default_out, help="model file to write")
    args = parser.parse_args(argv)
    for folder in args.articles:
        if not folder.is_dir():
            print(f"error: {folder}: not a folder of labelled articles", file=sys.stderr)
            return 2
    command = f"python -m {prog} " + " ".join(f"--articles {f}" for f in args.articles)
    print(f"extracting and training on {', '.join(map(str, args.articles))} ...", file=sys.stderr)
    try:
        summary = train_and_save(args.articles, args.out, command)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {args.out} and {args.out.with_suffix('.md')}")
    print(summary)
    return 0
