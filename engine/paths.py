"""Where the shipped rules and model live, and where to look for ../shared data.

The one source of truth for defaults: the CLI's ``--rules``/``--model`` defaults, ``Scorer()`` and
``RunConfig`` all read these. ``ESCALATION_RULES`` replaces the whole default rules folder (every
file of it, for every command).
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
SHIPPED_RULES_DIR = REPO_ROOT / "rules"
RULES_DIR = Path(os.environ.get("ESCALATION_RULES", SHIPPED_RULES_DIR))
MODEL_FILE = REPO_ROOT / "models" / "escalation-classifier.skops"
# the learned second opinion on guessed actor roles (engine/nlp/roles.py), trained on our dev articles
ROLE_RANKER_FILE = REPO_ROOT / "models" / "role-ranker.skops"
# the learned recall backstop for sentence types (engine/nlp/sentence_types.py), trained on our dev articles
SENTENCE_TYPES_FILE = REPO_ROOT / "models" / "sentence-types.skops"
SHARED_DIR = Path(os.environ.get("ESCALATION_SHARED", REPO_ROOT.parent / "shared"))

# the files of a rules folder (scoring rules are RULES_DIR/scoring/*.yaml)
ACTORS_NAME, SIGNALS_NAME, BANDS_NAME, CAMEO_MAPPING_NAME = "actors.yaml", "signals.yaml", "bands.yaml", "cameo_mapping.yaml"
ACTORS_FILE = RULES_DIR / ACTORS_NAME
SIGNALS_FILE = RULES_DIR / SIGNALS_NAME
BANDS_FILE = RULES_DIR / BANDS_NAME
EVENT_MAPPING_FILE = RULES_DIR / CAMEO_MAPPING_NAME
