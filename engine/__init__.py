"""Escalation-risk scoring engine: news text -> actor-pair risk scores with evidence."""

from engine.nlp.extract import extract_signals
from engine.rules.models import load_rules
from engine.scoring import Scorer

__all__ = ["Scorer", "extract_signals", "load_rules"]
