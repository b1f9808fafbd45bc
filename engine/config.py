"""A run's configuration, built once from a rules folder and carried to the report.

``RunConfig`` holds every file a run reads: the scoring rules (``scoring/*.yaml``), the actor
dictionary, the signal lexicon, the score formula and bands, the CAMEO mapping and the classifier,
plus the window size and the sha256 of each file. Each part may be given built, as a path, or left
out; a part left out comes from the rules folder, and only when the folder has no such file from
the shipped defaults (``engine/paths.py``), which ``defaulted`` then names (Presidio's style:
defaults only where absent). Extraction, rules, scoring, the report and ``run.json`` all read the
same object, so what a run used is what it records.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from engine.actor_dictionary import ActorDictionary
from engine.errors import ConfigError, did_you_mean
from engine.formula import LEVELS, ScoreFormula, check_formula
from engine.nlp.lexicon import load_actors
from engine.paths import (
    ACTORS_NAME,
    BANDS_NAME,
    CAMEO_MAPPING_NAME,
    MODEL_FILE,
    RULES_DIR,
    SHIPPED_RULES_DIR,
    SIGNALS_NAME,
)
from engine.problems import Problem, read_yaml, validation_problems
from engine.rules.models import LoadedRule, load_rules, rule_files
from engine.schemas import SIGNAL_TYPES
from engine.windows import GRANULARITIES
from engine.yamlio import line_of, load_yaml_bytes

FOLDER_FILES = {"actors": ACTORS_NAME, "signals": SIGNALS_NAME, "bands": BANDS_NAME, "cameo_mapping": CAMEO_MAPPING_NAME}


# --------------------------------------------------------------------------- cameo_mapping.yaml
class CameoMappingFile(BaseModel):
    """rules/cameo_mapping.yaml: CAMEO root ("13") -> signal type, for external event data."""

    model_config = ConfigDict(extra="forbid")
    roots: dict[str | int, str]


def check_cameo_mapping(path: str | Path) -> tuple[dict[str, str] | None, list[Problem]]:
    """Validate a CAMEO mapping; return root -> signal type (or None) and FILE:LINE problems."""
    raw, problems = read_yaml(path, "cameo_mapping")
    if problems:
        return None, problems
    if not isinstance(raw, dict):
        return None, [Problem(path, 1, "cameo_mapping", "expected a mapping with a 'roots' mapping")]
    try:
        CameoMappingFile.model_validate(dict(raw))
    except ValidationError as exc:
        return None, validation_problems(exc, raw, path, "cameo_mapping", lambda loc: list(CameoMappingFile.model_fields))
    mapping: dict[str, str] = {}
    roots = raw["roots"]
    for key, value in roots.items():
        root, line = str(key).zfill(2), line_of(roots, key)
        if not (root.isdigit() and len(root) == 2 and 1 <= int(root) <= 20):
            problems.append(Problem(path, line, root, "a CAMEO root is a two-digit code from 01 to 20"))
        elif root in mapping:
            problems.append(Problem(path, line, root, "root listed twice"))
        if value not in SIGNAL_TYPES:
            problems.append(Problem(path, line, root, f"unknown signal type {value!r}"
                                    + (did_you_mean(value, SIGNAL_TYPES) or f" (one of {', '.join(SIGNAL_TYPES)})")))
        mapping[root] = str(value)
    return (mapping if not problems else None), problems


def load_cameo_mapping(path: str | Path) -> dict[str, str]:
    mapping, problems = check_cameo_mapping(path)
    if problems:
        raise ConfigError("invalid CAMEO mapping:\n" + "\n".join(problems))
    return mapping


# --------------------------------------------------------------------------- the run configuration
def included_files(path: Path) -> list[Path]:
    """The files a dictionary names under ``include:`` (relative to it: the generated lexicons), so
    that the run's hashes cover them too. Problems with them are the dictionary checker's to report."""
    try:
        data = Path(path).read_bytes()
    except OSError:  # unreadable: its own checker says why
        return []
    return [Path(path).parent / name for name in _include_names(data, str(path))]


@lru_cache(maxsize=32)
def _include_names(data: bytes, name: str) -> tuple[str, ...]:
    """The names under ``include:`` of a dictionary's content (each content parsed once: every
    RunConfig.build asks, and actors.yaml and signals.yaml are large)."""
    try:
        loaded = load_yaml_bytes(data, name)
    except Exception:  # noqa: BLE001 - unreadable: its own checker says why
        return ()
    names = loaded.get("include") if isinstance(loaded, dict) else None
    return tuple(n for n in names if isinstance(n, str)) if isinstance(names, list) else ()


def sha256_of(path: Path | None) -> str | None:
    if path is None or not Path(path).is_file():
        return None
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@dataclass
class RunConfig:
    """Everything a run reads, loaded and hashed once. Build it with ``RunConfig.build``."""

    rules_dir: Path
    rules: list[LoadedRule]
    actors: ActorDictionary
    formula: ScoreFormula
    cameo_mapping: dict[str, str]
    actors_path: Path
    signals_path: Path
    bands_path: Path | None
    cameo_mapping_path: Path | None
    model_path: Path | None
    granularity: str = "week"
    defaulted: tuple[str, ...] = ()  # parts the folder lacks, taken from the shipped rules
    hashes: dict[str, str | None] = field(default_factory=dict)  # file path -> sha256
    # one hash of every YAML file read (in path order, each as name + bytes): for a whole rules
    # folder, the hash of its *.yaml files
    rules_sha256: str = ""
    _model: Any = field(default=None, repr=False)
    level: str = "unit"  # pairs of units (a state's organs rolled into it) or "organ" (actors as extracted)

    @classmethod
    def build(cls, rules: str | Path | list[LoadedRule] | None = None, *,
              actors: str | Path | ActorDictionary | None = None, signals: str | Path | None = None,
              bands: str | Path | ScoreFormula | None = None, cameo_mapping: str | Path | dict | None = None,
              model: str | Path | Any | None = None, granularity: str = "week", level: str = "unit") -> RunConfig:
        """The configuration of a rules folder (default: ``engine.paths.RULES_DIR``), with any part
        replaced by a built object or another file. ``rules`` may also be one rule file or a list of
        loaded rules (the other parts then come from the default folder)."""
        if granularity not in GRANULARITIES:
            raise ConfigError(f"unknown window {granularity!r} (day, week or month)")
        if level not in LEVELS:
            raise ConfigError(f"unknown level {level!r} ({' or '.join(LEVELS)})")
        folder = RULES_DIR
        if isinstance(rules, str | Path) and Path(rules).is_dir():
            folder = Path(rules)
        elif isinstance(rules, str | Path) and not Path(rules).exists():
            raise ConfigError(f"{rules}: rules folder not found")
        defaulted: list[str] = []

        def in_folder(part: str) -> Path:
            path = folder / FOLDER_FILES[part]
            if path.exists():
                return path
            defaulted.append(part)
            return SHIPPED_RULES_DIR / FOLDER_FILES[part]

        loaded_rules = rules if isinstance(rules, list) else load_rules(rules if rules is not None else folder)
        if isinstance(actors, ActorDictionary):
            actor_dict, actors_path = actors, Path(actors.path)
        else:
            actors_path = Path(actors) if actors is not None else in_folder("actors")
            actor_dict = load_actors(actors_path)
        signals_path = Path(signals) if signals is not None else in_folder("signals")
        if isinstance(bands, ScoreFormula):
            formula, bands_path = bands, None
        else:
            bands_path = Path(bands) if bands is not None else in_folder("bands")
            formula, problems = check_formula(bands_path)
            if problems:
                raise ConfigError("invalid score formula:\n" + "\n".join(problems))
        if isinstance(cameo_mapping, dict):
            mapping, mapping_path = dict(cameo_mapping), None
        else:
            mapping_path = Path(cameo_mapping) if cameo_mapping is not None else in_folder("cameo_mapping")
            mapping = load_cameo_mapping(mapping_path)
        built_model = None
        if model is None or isinstance(model, str | Path):
            model_path = Path(model) if model is not None else MODEL_FILE  # loaded (and checked) on first use
        else:
            built_model, model_path = model, None

        if isinstance(rules, list):
            rule_paths = sorted({Path(r.file) for r in loaded_rules})
        else:
            rule_paths = rule_files(rules if rules is not None else folder)
        read = [*rule_paths, actors_path, signals_path, bands_path, mapping_path]
        read += [*included_files(actors_path), *included_files(signals_path)]
        yaml_files = sorted({p for p in read if p is not None and p.is_file()})
        hashes, combined = {}, hashlib.sha256()
        for path in yaml_files:
            data = path.read_bytes()
            hashes[str(path)] = hashlib.sha256(data).hexdigest()
            combined.update(path.name.encode() + data)
        if model_path is not None:
            hashes[str(model_path)] = sha256_of(model_path)
        return cls(folder, loaded_rules, actor_dict, formula, mapping, actors_path, signals_path, bands_path,
                   mapping_path, model_path, granularity, tuple(defaulted), hashes, combined.hexdigest(), built_model,
                   level=level)

    @property
    def model(self):
        """The classifier, loaded on first use (skops, allow-listed types only)."""
        if self._model is None:
            from engine.model.train import load_model

            self._model = load_model(self.model_path)
        return self._model

    @cached_property
    def signals(self):
        """The signal lexicon (validated; loading it needs spaCy's Matcher)."""
        from engine.nlp.lexicon import load_signals

        return load_signals(self.signals_path)

    @property
    def model_sha256(self) -> str | None:
        return self.hashes.get(str(self.model_path)) if self.model_path else None

    def describe(self) -> dict:
        """What run.json records of the configuration: each file with its sha256."""
        return {"rules_dir": str(self.rules_dir), "window": self.granularity, "level": self.level,
                "files": [{"path": p, "sha256": h} for p, h in self.hashes.items()],
                "defaulted": list(self.defaulted), "n_rules": len(self.rules)}


def check_folder(path: str | Path) -> tuple[list[Problem], dict[str, int]]:
    """``rules check``: every file of a rules folder (or one rule file), as located Problems, and
    what was checked (files, rules, actors, triggers)."""
    from engine.nlp.lexicon import check_actor_file, check_signal_file
    from engine.rules.models import check_rules

    path = Path(path)
    rules, problems = check_rules(path)
    counts = {"files": len(rule_files(path)), "rules": len(rules)}
    if path.is_dir():
        checkers = {"actors": check_actor_file, "signals": check_signal_file,
                    "bands": check_formula, "cameo_mapping": check_cameo_mapping}
        for part, checker in checkers.items():
            file = path / FOLDER_FILES[part]
            if not file.exists():
                continue
            counts["files"] += 1 + len([p for p in included_files(file) if p.is_file()])
            built, found = checker(file)
            problems += [Problem.parse(p) for p in found]
            if part == "actors" and built is not None:
                counts["actors"] = len(built.actors)
                from engine.rules.models import check_rule_codes

                problems += check_rule_codes(rules, built.actors)  # codes in the rules' conditions
            if part == "signals" and built is not None:
                counts["triggers"] = len(built.triggers)
    return problems, counts
