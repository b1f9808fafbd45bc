"""Learned role ranking: a second opinion where the rules could only guess who acted or who was hit.

The rules in ``signals.py`` read most sources and targets from the parse, and those are right about nine
times in ten on the dev articles. When the parse gives none, they fall back to guesses (the nearest actor,
the side faced before, the last event of the kind, the speaker, the document's pair), which are right six
or seven times in ten, or leave the role empty. For those roles only, this component scores every country
the document has named so far (and the sentence's own actors after the trigger) as the role's filler, and
takes the best-scored one when its probability clears a threshold:

- a role the parse or a reference gave (basis ``parse`` / ``reference``) is never changed;
- a guessed role is replaced when another country scores at least ``<role>_replace``;
- an empty role is filled when a country scores at least ``<role>_fill``;
- the source and target never become the same country;
- an ATTACK or THREATEN is only completed in a document where the rules themselves found an ATTACK or
  THREATEN with both actors: a hostile pair is the costly mistake, and sport or business copy that
  borrows war words rarely gives the rules one (the ranker alone made pairs in 3 of 11 dev negatives).

A role set here has basis ``ranked`` and lowers the signal's confidence as any guess does. The scorer is one
logistic regression per role (scikit-learn ``Pipeline``) over the features below, trained on the labelled
dev articles by ``python -m engine.nlp.role_training`` (``make train-roles``), with the thresholds chosen
by cross-validation grouped by article; ``models/role-ranker.md`` is its card.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
from spacy.language import Language
from spacy.tokens import Doc

from engine.errors import ModelFileError
from engine.nlp.lexicon import ActorDictionary
from engine.nlp.signals import one_per_event
from engine.schemas import SIGNAL_TYPES
from engine.skops_files import load_allowed

RANKED_BASES = frozenset({"", "speaker", "launch-point", "nearest", "counterpart", "document-pair", "earlier-event"})
RULE_BASES = ("parse", "reference", "speaker", "nearest", "counterpart", "earlier-event", "document-pair",
              "launch-point")
DEPENDENCIES = ("nsubj", "nsubjpass", "dobj", "pobj", "poss", "compound", "amod", "appos", "conj")
PREPOSITIONS = ("on", "against", "at", "into", "by", "from", "in", "with", "to", "toward", "between")
ROLES = ("source", "target")
HOSTILE_PAIR_TYPES = ("ATTACK", "THREATEN")  # the pairs a negative article must not get (issue 10)
THRESHOLD_KEYS = tuple(f"{role}_{action}" for role in ROLES for action in ("replace", "fill"))

# What a candidate country is scored on, in the order the model takes them. The closest mention in the
# signal's sentence gives the syntactic features; earlier sentences and earlier signals give the rest.
FEATURES = (
    "is_rule",  # the country the rules chose for this role
    *(f"rule_{b}" for b in RULE_BASES),  # ... and how they found it
    "rule_empty",  # the rules left this role empty
    "is_other",  # the country the rules chose for the other role
    "is_speaker",  # the speaker of the sentence's reported speech
    "in_sent", "before", "after",  # named in the signal's sentence, before / after the trigger
    "near",  # 1 / (1 + token distance / 5) of its closest mention in the sentence to the trigger
    *(f"dep_{d}" for d in DEPENDENCIES),  # that mention's dependency label
    *(f"prep_{p}" for p in PREPOSITIONS),  # ... and its preposition when it is one's object
    "place",  # that mention is a place ("southern Lebanon")
    "under_trigger", "over_trigger", "child_of_trigger",  # it sits in the trigger's subtree / above it
    "nearest_before", "nearest_after",  # it is the sentence's closest actor before / after the trigger
    "n_mentions",  # log(1 + mentions so far)
    "recency",  # 1 / (1 + sentences since its last mention)
    "early",  # named in the headline or dateline sentence
    "was_source", "was_target",  # log(1 + earlier signals with it as source / target)
    "last_source", "last_target",  # the source / target of the document's previous signal
    *(f"sig_{t}" for t in SIGNAL_TYPES),  # the signal's type
)
FEATURE_INDEX = {name: i for i, name in enumerate(FEATURES)}

ALLOWED_TYPES = frozenset({"sklearn.pipeline.Pipeline", "sklearn.linear_model._logistic.LogisticRegression"})


@dataclass(frozen=True)
class Candidate:
    """One country that could fill a role of one signal."""

    country: str
    code: str  # the actor code it is named by (its closest mention in the sentence, else its latest)
    text: str  # that mention's words
    sentence: int  # the sentence of that mention (doc sentence index), -1 when known only from a signal
    features: dict[str, float]


def candidates(doc: Doc, signals: list, actors: ActorDictionary,
               wanted: set[int] | None = None) -> list[dict[str, list[Candidate]]]:
    """For each signal (or each of the ``wanted`` indices; the others get none), the candidate countries of
    its source and its target, with their features.

    Features read the rules' own choices, so every signal is described before any role is changed."""
    sentences = list(doc.sents)
    sentence_of = {s.start: i for i, s in enumerate(sentences)}
    mentions = [(m, sentence_of[doc[m.head].sent.start]) for m in doc._.actor_mentions or []]
    mention_country = {id(m): actors.side_of(m.code) for m, _ in mentions}
    country = actors.side_of

    out = []
    for n, sig in enumerate(signals):
        if wanted is not None and n not in wanted:
            out.append({role: [] for role in ROLES})
            continue
        k = sig.sent_index
        span = doc.char_span(sig.start_char, sig.end_char, alignment_mode="expand")
        trigger = span.root.i if span is not None else sentences[k].start
        previous = [p for p in signals[:n] if p.sent_index <= k]
        named: dict[str, list] = {}
        for m, s in mentions:
            if s <= k and mention_country[id(m)]:
                named.setdefault(mention_country[id(m)], []).append((m, s))
        for code in [c for p in previous for c in (p.source, p.target)] + [sig.source, sig.target]:
            if country(code):
                named.setdefault(country(code), [])
        here = [(m, s) for m, s in mentions if s == k]
        closest_before = max((m.end for m, _ in here if m.end <= trigger), default=-1)
        closest_after = min((m.start for m, _ in here if m.start > trigger), default=-1)
        speakers = {country(c) for c in sig.reported_by.split(";")} if sig.reported_by else set()
        ruled_out = _ruled_out(doc, sig, signals, here, trigger, country)
        roles = {}
        for role in ROLES:
            rule = country(getattr(sig, role))
            other = country(sig.target if role == "source" else sig.source)
            basis = getattr(sig, f"{role}_basis")
            found = []
            for name, ms in named.items():
                if name != rule and _excluded(role, name, ms, k, ruled_out):
                    continue
                f: dict[str, float] = {"is_rule": name == rule, "rule_empty": not rule,
                                       "is_other": bool(other) and name == other, "is_speaker": name in speakers}
                if name == rule and basis in RULE_BASES:
                    f[f"rule_{basis}"] = 1
                inside = [m for m, s in ms if s == k]
                before = [m for m in inside if m.end <= trigger]
                after = [m for m in inside if m.start > trigger]
                f.update(in_sent=bool(inside), before=bool(before), after=bool(after))
                if inside:
                    closest = min(inside, key=lambda m: abs(m.head - trigger))
                    f["near"] = 1 / (1 + abs(closest.head - trigger) / 5)
                    tok = doc[closest.head]
                    if tok.dep_ in DEPENDENCIES:
                        f[f"dep_{tok.dep_}"] = 1
                    if tok.dep_ == "pobj" and tok.head.lower_ in PREPOSITIONS:
                        f[f"prep_{tok.head.lower_}"] = 1
                    f["place"] = closest.via == "place"
                    f["under_trigger"] = any(a.i == trigger for a in tok.ancestors)
                    f["over_trigger"] = any(a.i == tok.i for a in doc[trigger].ancestors)
                    f["child_of_trigger"] = tok.head.i == trigger
                    f["nearest_before"] = bool(before) and max(m.end for m in before) == closest_before
                    f["nearest_after"] = bool(after) and min(m.start for m in after) == closest_after
                f["n_mentions"] = math.log1p(len(ms))
                last = max((s for _, s in ms), default=-1)
                f["recency"] = 1 / (1 + k - last) if last >= 0 else 0
                f["early"] = any(s <= 1 for _, s in ms)
                f["was_source"] = math.log1p(sum(country(p.source) == name for p in previous))
                f["was_target"] = math.log1p(sum(country(p.target) == name for p in previous))
                if previous:
                    f["last_source"] = country(previous[-1].source) == name
                    f["last_target"] = country(previous[-1].target) == name
                f[f"sig_{sig.signal}"] = 1
                if inside:
                    mention, where = inside[-1], k
                elif ms:
                    mention, where = ms[-1]
                else:
                    mention, where = None, -1
                if mention is not None:
                    code, text = mention.code, mention.text
                else:  # known only as an earlier signal's actor
                    code = next(c for c in [sig.source, sig.target] + [c for p in reversed(previous)
                                                                      for c in (p.source, p.target)]
                                if country(c) == name)
                    text = ""
                found.append(Candidate(name, code, text, where, {a: float(b) for a, b in f.items() if b}))
            roles[role] = found
        out.append(roles)
    return out


def _ruled_out(doc: Doc, sig, signals: list, here: list, trigger: int, country) -> dict[str, set]:
    """What the rules' reading of the sentence already settles, whatever a scorer would say:
    - ``allies``: the sources of the other signals of the same trigger ("South Korea and the United States
      staged drills": allies acting together, not on each other), never the target;
    - ``describing``: tokens that describe the source ("Oman, which has mediated between the Houthis and
      Saudi Arabia, called for restraint"): an actor named only there is not the target."""
    allies = {country(o.source) for o in signals if o is not sig and o.start_char == sig.start_char and o.source}
    describing: set[int] = set()
    for m, _ in here:
        if m.code == sig.source and sig.source:
            head = doc[m.head]
            subtree = {t.i for t in head.subtree}
            if trigger not in subtree:
                describing |= subtree - set(range(m.start, m.end))
    return {"allies": allies - {country(sig.source)}, "describing": describing}


def _excluded(role: str, name: str, mentions: list, k: int, ruled_out: dict[str, set]) -> bool:
    if mentions and all(m.via == "place" for m, _ in mentions) and role == "source":
        return True  # a city or region is where something happened, never who did it ("In Basra, rockets hit")
    if role == "target" and name in ruled_out["allies"]:
        return True
    inside = [m for m, s in mentions if s == k]
    return role == "target" and bool(inside) and all(m.head in ruled_out["describing"] for m in inside)


def hostile_document(signals: list) -> bool:
    """Did the rules find an ATTACK or THREATEN with both actors in the document?"""
    return any(s.signal in HOSTILE_PAIR_TYPES and s.source and s.target for s in signals)


def askable(signal: str, hostile: bool) -> bool:
    """May the ranker change this signal's roles? Not an ATTACK or THREATEN in a document the rules found no
    hostile pair in: it would make the first one (sport, business copy that borrows war words)."""
    return hostile or signal not in HOSTILE_PAIR_TYPES


def feature_matrix(found: list[Candidate]) -> np.ndarray:
    matrix = np.zeros((len(found), len(FEATURES)))
    for row, candidate in enumerate(found):
        for name, value in candidate.features.items():
            matrix[row, FEATURE_INDEX[name]] = value
    return matrix


@dataclass(frozen=True)
class RoleRanker:
    """The two trained scorers and their thresholds (what a run used travels with it: ``path``, ``sha256``)."""

    source: object  # sklearn Pipeline
    target: object
    thresholds: dict[str, float]
    path: str = ""
    sha256: str = ""

    def describe(self) -> str:
        return f"{Path(self.path).name} (sha256 {self.sha256[:12]})"

    def scorer(self, role: str):
        return self.source if role == "source" else self.target

    @cached_property
    def _weights(self) -> dict[str, tuple[np.ndarray, float]]:
        return {role: (self.scorer(role).named_steps["logit"].coef_[0], self.scorer(role).named_steps["logit"].intercept_[0])
                for role in ROLES}

    def probabilities(self, role: str, matrix: np.ndarray) -> np.ndarray:
        """The scorer's ``predict_proba(matrix)[:, 1]``, computed from its weights: the same logistic function
        without scikit-learn's per-call checks, which cost more than the arithmetic on a few rows."""
        weights, intercept = self._weights[role]
        return 1.0 / (1.0 + np.exp(-(matrix @ weights + intercept)))

    def rerank(self, doc: Doc, signals: list, actors: ActorDictionary, confidence: dict[str, float]) -> list:
        """The signals with guessed or empty roles re-decided (in place); see the module docstring."""
        if not signals:
            return signals
        hostile = hostile_document(signals)
        wanted = {n for n, s in enumerate(signals) if askable(s.signal, hostile)
                  and (s.source_basis in RANKED_BASES or s.target_basis in RANKED_BASES)}
        if not wanted:
            return signals
        for sig, roles in zip(signals, candidates(doc, signals, actors, wanted), strict=True):
            current = {role: (getattr(sig, role), getattr(sig, f"{role}_basis")) for role in ROLES}
            for role, chosen in choose(roles, current, self, actors, sig.signal, hostile).items():
                _set_role(sig, role, chosen, not current[role][0], confidence)
        return signals


def choose(roles: dict[str, list[Candidate]], current: dict[str, tuple[str, str]], ranker: RoleRanker,
           actors: ActorDictionary, signal: str, hostile: bool) -> dict[str, Candidate]:
    """The roles to change and their new fillers, given each role's candidates and its (code, basis) from
    the rules. The source is decided first; the target never takes the source's country."""
    codes = {role: code for role, (code, _) in current.items()}
    changed = {}
    if not askable(signal, hostile):
        return changed
    for role in ROLES:
        code, basis = current[role]
        found = roles[role]
        if basis not in RANKED_BASES or not found:
            continue
        other = actors.side_of(codes["target" if role == "source" else "source"])
        scores = ranker.probabilities(role, feature_matrix(found))
        best = next((i for i in np.argsort(-scores, kind="stable") if found[i].country != other), None)
        if best is None or found[best].country == actors.side_of(code):
            continue
        if scores[best] >= ranker.thresholds[f"{role}_{'replace' if code else 'fill'}"]:
            changed[role] = found[best]
            codes[role] = found[best].code
    return changed


def _set_role(sig, role: str, chosen: Candidate, empty: bool, confidence: dict[str, float]) -> None:
    guessed_before = any(getattr(sig, f"{r}_basis") in RANKED_BASES - {""} for r in ROLES)
    setattr(sig, role, chosen.code)
    setattr(sig, f"{role}_text", chosen.text)
    setattr(sig, f"{role}_basis", "ranked")
    value = sig.confidence
    if empty:
        value /= confidence["no_source" if role == "source" else "no_target"]
    if not guessed_before:
        value *= confidence["nearest_actor"]
    sig.confidence = round(min(value, 1.0), 4)
    if chosen.sentence not in (-1, sig.sent_index):
        sig.antecedent_sent = max(sig.antecedent_sent, chosen.sentence)


def load_role_ranker(path: str | Path) -> RoleRanker:
    """Read a role ranker written by ``engine.nlp.role_training`` (skops, allow-listed types only)."""
    path = Path(path)
    stored = load_allowed(path, ALLOWED_TYPES, "run `make train-roles`")
    if not isinstance(stored, dict) or set(stored) != {"source", "target", "thresholds", "features"}:
        raise ModelFileError(f"{path}: not a role ranker (expected source, target, thresholds and features)")
    if tuple(stored["features"]) != FEATURES:
        raise ModelFileError(f"{path}: the ranker's features are not the engine's; retrain it with `make train-roles`")
    thresholds = {str(k): float(v) for k, v in stored["thresholds"].items()}
    if set(thresholds) != set(THRESHOLD_KEYS):
        raise ModelFileError(f"{path}: thresholds must be {', '.join(THRESHOLD_KEYS)}")
    for role in ROLES:
        model = stored[role]
        if getattr(model, "n_features_in_", None) != len(FEATURES) or list(getattr(model, "named_steps", [])) != ["logit"]:
            raise ModelFileError(f"{path}: the {role} scorer is not a logistic regression ('logit') of the engine's "
                                 f"{len(FEATURES)} features")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return RoleRanker(stored["source"], stored["target"], thresholds, str(path), digest)


class RoleRankerComponent:
    def __init__(self, ranker: RoleRanker, actors: ActorDictionary, confidence: dict[str, float]):
        self.ranker = ranker
        self.actors = actors
        self.confidence = confidence

    def __call__(self, doc: Doc) -> Doc:
        if doc._.signals:
            # a re-decided role can make two signals of one sentence name the same event
            doc._.signals = one_per_event(self.ranker.rerank(doc, doc._.signals, self.actors, self.confidence))
        return doc


@Language.factory("escalation_roles", default_config={"model_path": ""},
                  assigns=["doc._.signals"],
                  requires=["doc._.signals", "doc._.actor_mentions", "token.dep", "doc.sents"])
def make_role_ranker(nlp: Language, name: str, model_path: str) -> RoleRankerComponent:
    from engine.paths import ROLE_RANKER_FILE

    detector = nlp.get_pipe("escalation_signals")  # the rules' dictionary and confidence factors
    return RoleRankerComponent(load_role_ranker(model_path or ROLE_RANKER_FILE), detector.actors, detector.conf)
