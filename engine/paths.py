"""Where the shipped rules and model live, and where to look for ../shared data."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
RULES_DIR = Path(os.environ.get("ESCALATION_RULES", REPO_ROOT / "rules"))
SHARED_DIR = Path(os.environ.get("ESCALATION_SHARED", REPO_ROOT.parent / "shared"))

ACTORS_FILE = RULES_DIR / "actors.yaml"
SIGNALS_FILE = RULES_DIR / "signals.yaml"
EVENT_MAPPING_FILE = RULES_DIR / "cameo_mapping.yaml"
