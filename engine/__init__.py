"""Escalation-risk scoring engine: news text -> actor-pair risk scores with evidence.

The public names are imported on first use, so that importing one stage (``engine.report``,
``engine.rules``) does not load the others (spaCy, the scorer).
"""

__all__ = ["RunConfig", "Scorer", "extract_signals", "load_rules"]

_WHERE = {"RunConfig": "engine.config", "Scorer": "engine.scoring", "extract_signals": "engine.nlp.extract",
          "load_rules": "engine.rules.models"}


def __getattr__(name: str):
    if name in _WHERE:
        import importlib

        return getattr(importlib.import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'engine' has no attribute {name!r}")
