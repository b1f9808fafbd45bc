"""Generate ``rules/generated/cameo_triggers.yaml`` from PETRARCH2's CAMEO verb dictionary.

    .venv/bin/python -m engine.lexicons.cameo --shared ../shared      (= make lexicons)

Source: ``../shared/lexicons/petrarch2/CAMEO.2.0.txt`` (openeventdata/petrarch2 @ 676801cd, MIT).
Its format (the file's own comments and PETRARCH's dictionary documentation):

- ``&NAME`` then ``+WORD`` lines: a synonym set (synset). Members get regular plurals (S, IES, ES)
  unless the member or the label ends in ``_``; ``_`` joins the words of a phrase.
- ``---  NAME   [code]  ---``: a verb block. Its lines are the block's verbs: ``WORD {irregular forms}
  [own code]``; ``+WORD_PARTICLE`` is a phrasal verb (``+CALL_UP``). A verb without its own code takes
  the block's; ``---`` is the null code (the bare verb is no event).
- ``- PRE * POST [code]``: a pattern of the block, for every verb of the block: ``*`` is the verb, the
  other words must occur around it (a space lets words come between, ``_`` does not); ``(...)`` marks a
  prepositional phrase and ``{...}`` a noun phrase (we read both as plain words); ``&NAME`` is a synset;
  ``A/B`` alternatives; ``$`` / ``+`` / ``%`` stand for the source / target / compound actor and ``^``
  skips a noun phrase (we let a few words come between there instead). ``[a:b]`` codes a->b as ``a``
  and the reverse as ``b``; ``[:b]`` (only the reverse) cannot be a trigger of ours and is skipped.
- ``~ ...`` lines (transformations of reported speech) are skipped.

Only CAMEO roots that ``rules/cameo_mapping.yaml`` maps to a signal type are kept (03 04 05 08 ->
DEESCALATE, 10-12 -> DEMAND, 13 -> THREATEN, 15 -> MOBILIZE, 17-20 -> ATTACK). Output, sorted so that
regeneration gives identical bytes:

- ``cameo-<root>0-verb``: the bare verbs of one CAMEO root, ``[{LEMMA: {IN: [...]}, POS: VERB}]``;
  a verb takes its own code, else its block's; a verb coded to two signal types is left out;
- ``cameo-<root>0-phrasal``: the root's phrasal verbs, ``[{LEMMA: {IN: [...]}, POS: VERB}, {LOWER:
  {IN: [particles]}}]``;
- ``cameo-<root>0-<verbs>-phrase``: phrase patterns of the few ``PHRASE_VERBS`` (everyday verbs whose
  object names the event): the verb, a particle right after it if the pattern has one ("set off"),
  at most ``GAP`` tokens, then the pattern's last required word (the intermediate words, mostly
  prepositions, are dropped). Roots of one signal type are merged for a verb, verbs of one block
  with the same words are merged, and a word a verb takes under two signal types is left out.

Why so few phrase patterns: spaCy's Matcher tries every pattern at every token, and each distinct
``IN`` list is a Python call per token. All 4,661 dictionary patterns as Matcher patterns took longer
than parsing the text; the grouping above keeps the generated lexicon at about 80 patterns.

In generated patterns only the verb slot uses ``LEMMA``: that is what the loader
(``engine/nlp/lexicon.py``) removes when an analyst's trigger or ``disable_generated`` claims a lemma.

Exceptions the Matcher cannot express are counted and skipped: a pattern that gives a verb of ours a
code outside our roots (``WARN ... (OF EXODUS) [012]``) would need a negative pattern. The reviewed
restrictions (``DROP``, ``PHRASE_VERBS``, ``PHRASE_SKIP``) carry their reasons below.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import yaml

SOURCE_RELATIVE = "lexicons/petrarch2/CAMEO.2.0.txt"
SOURCE_REPOSITORY = "openeventdata/petrarch2"
SOURCE_COMMIT = "676801cd"
SOURCE_FOLDER = "petrarch2/data/dictionaries/"
COMMAND = ".venv/bin/python -m engine.lexicons.cameo --shared ../shared"
OUT_RELATIVE = "rules/generated/cameo_triggers.yaml"

CONFIDENCE_VERB = 0.6  # a bare verb of the dictionary (analysts' own triggers have 0.7-0.85)
CONFIDENCE_PHRASAL = 0.65  # verb + particle ("call up")
CONFIDENCE_PHRASE = 0.7  # verb + required context words
GAP = 4  # at most this many tokens between the words of a phrase pattern (none of GAP_STOP, same sentence)
GAP_STOP = [",", ";", ":", "and", "but", "or"]  # a phrase does not reach across a clause or a coordination

# ---------------------------------------------------------------------------------------------
# Reviewed restrictions (lemmas, lower case; a phrasal verb as "verb particle"), each group with its
# reason. Reviewed against conflict-news English, the shared CAMEO gold set and the dev articles
# (tests/data/articles/dev): the dictionary's blocks are WordNet synsets, so they carry rare senses,
# and many of its verbs are everyday words that are events only with context PETRARCH checks in the
# parse tree and a Matcher pattern cannot.
DROP: dict[str, str] = {}  # never a bare or phrasal verb trigger


def _drop(reason: str, words: str) -> None:
    for word in words.split(","):
        DROP[word.strip()] = reason


_drop("plans and intentions: mostly about hostile acts here (they mark a signal as planned, rules/signals.yaml)",
      "aim, decide, determine, expect, intend, mean, plan, prepare, ready, seek, strive, endeavor, endeavour, want, "
      "train, groom, vote, signal, subscribe, certify, resurrect, resuscitate, revive")
_drop("movement, thinking and perception verbs of the CONSULT synsets: not a consultation by themselves",
      "acquaint, approach, arrive, assemble, attend, brave, cable, cluster, conglomerate, congregate, conjoin, "
      "consider, constellate, contemplate, converge, debate, depart, egress, elicit, embark, encounter, excogitate, "
      "face, flock, gather, go, hear, innovate, insert, journey, learn, leave, meditate, mull, muse, ponder, "
      "promulgate, reason, reconsider, reinvite, ruminate, speculate, think, tour, touring, travel, unite, weigh, "
      "join, summon")
_drop("hostile or military senses dominate in conflict news (confront X, amass troops, host militias, Iran-backed/"
      "allied/supported groups, deal a blow, organise/orchestrate attacks, celebrate an attack)",
      "confront, amass, host, back, ally, support, deal, organise, organize, orchestrate, celebrate, embolden, encourage, "
      "inspire, galvanize, rouse, spur, tempt, expose, reveal, unveil, admit, confess, divulge, confide, profess")
_drop("too general to be a diplomatic act", "affect, impact, influence, promote, associate, correlate, concert, "
      "conform, integrate, prefer, value, prize, esteem, exalt, glorify, sanctify, toast, triumph, exult, exuberate, "
      "cheer, clap, commemorate, reward, greet, unionise, unionize, synchronise, synchronize, harmonise, harmonize, "
      "legitimise, legitimize, formalize, invigorate, enliven, revitalize, advertise, advertize, bargain, barter, "
      "haggle, affirm, reassert, forgave, forgiven, bless, admire, felicitate")
_drop("YIELD synsets: everyday or legal senses, or a military sense (liberate a city, succumb to wounds)",
      "allow, approve, authorise, authorize, bide, clear, countenance, declassify, decriminalise, decriminalize, "
      "detach, disconnect, emancipate, empower, enable, exculpate, exonerate, fill, legislate, legalise, legalize, "
      "liberate, loosen, pass, permit, recede, resettle, resign, retire, satify, submit, succumb, tease, tolerate, "
      "undo, untie, verify, vindicate, yield, abandon, concession")
_drop("DEMAND synsets: general verbs (need, order, push, bid to) or an order to attack",
      "bid, campaign, crusade, decree, necessitate, need, order, push")
_drop("DISAPPROVE synsets: verbs of saying, feeling or mourning, or legal/sporting senses; allege is "
      "reporting (the alleged attack); degrade is military (degrade its capabilities)",
      "allege, degrade, argue, aver, avow, challenge, charge, compensate, compete, contend, contest, contrast, counter, "
      "counterbalance, cry, despair, differ, disappoint, discourage, dishearten, express, grieve, mourn, sadden, "
      "wail, weep, humble, humiliate, lecture, suspect, swear, slight, savage")
_drop("REJECT synsets: delays and failures that are not a rejection of a demand (fail, decline to comment, hamper "
      "rescue work); breach is a violation (an attack, rules/signals.yaml)",
      "breach, decline, defect, defer, delay, fail, forestall, hamper, hinder, impede, inhibit, override, overrule, "
      "postpone, prevent, procrastinate, remit, retard, shelve, stall, stymie, table")
_drop("THREATEN synsets: endanger civilians and risk (a hypothetical marker) are no threat by an actor",
      "endanger, risk")
_drop("MOBILIZE synsets: garner support and rally supporters are politics, routine patrols no build-up",
      "garner, rally, patrol")
_drop("COERCE synsets: policy, legal-civil and everyday senses (ban, block, impose sanctions, take, remove, force "
      "X to, contain, pull); reinforce is a mobilisation (rules/signals.yaml)",
      "appropriate, ban, bar, bill, blacklist, blackmail, block, cage, catch, censor, compel, constrain, contain, "
      "curb, enclose, enforce, exclude, extract, fine, forbid, force, grab, impel, impose, inflict, levy, moderate, "
      "overturn, penalize, pirate, pluck, prohibit, proscribe, pull, reinforce, remove, restrain, restrict, "
      "revolutionise, revolutionize, segregate, shun, sue, take, tax, veto, withhold, illegalise, illegalize, "
      "criminalise, criminalize, disallow, embargo, demolish, exile")
_drop("ASSAULT synsets: figurative or everyday senses (beat a rival, hurt the economy, crack, tear, spoil)",
      "beat, bruise, contaminate, corrupt, crack, dishonor, dishonour, hurt, impair, kick, lash, mar, rip, spoil, "
      "tarnish, tear, vitiate, wrestle")
_drop("FIGHT synsets: figurative, sporting or unrelated senses (break, engage in talks, match, ring, reside, "
      "inhabit, dominate, overcome, die in an attack: the victims are the subject)",
      "best, blow, break, bust, circle, conflict, die, disarm, dominate, engage, hammer, hang, infest, inhabit, "
      "master, match, overcome, overshadow, overtake, overwhelm, pit, quarrel, reside, ring, ruin, shatter, "
      "struggle, surmount, altercate")
_drop("phrasal verbs of the CONSULT, YIELD and other synsets that are no event of ours",
      "go away, go forth, go to, go through, go by, leave behind, ask for, run into, give notice, find out, "
      "walk out, get together, send word, get out, hash out, talk over, conform to, give up, settle on, dress down, "
      "pull together, vote down, arrest and, beef up, foray into, square off, intrude on, fight down, drop out, "
      "gear up, drum up, communicate with, pull out, side with")

# Verbs whose phrase patterns become triggers: one per verb and CAMEO root, the verb followed within
# GAP tokens by the last required word of one of its patterns of that root. Kept to a few everyday
# verbs whose object names the event ("open fire", "lift the blockade", "issue an ultimatum"): every
# Matcher pattern is tried at every token, so thousands of phrase patterns would cost more than the
# parse itself (measured: 1,465 patterns took 11 s on the 212 gold sentences x 5 that spaCy parsed in 8 s).
PHRASE_VERBS: dict[str, str] = {}
for _verb in ("open", "stage", "set", "hold", "issue", "give", "lift", "reach", "ease", "take", "declare",
              "mount", "refuse", "lodge", "conduct", "impose", "disperse", "receive", "cancel"):
    PHRASE_VERBS[_verb] = "everyday verb; the event is in its object"
# (verb, CAMEO root) phrase triggers left out, with the reason
PHRASE_SKIP: dict[tuple[str, str], str] = {
    ("hold", "17"): "held in custody/prison: a standing detention, background in news rather than an event",
    ("hold", "18"): "held captive/hostage: a standing state, reported with the release or the deal",
}
# last words of a pattern that say nothing about the event by themselves
PHRASE_STOP = frozenset(
    "with on off in into at for from between if up back down out to of over after by aside inside publicly "
    "bitterly part power effect right free border area land members leader aide way game against closed death "
    "dictator dictators governor governors king kings minister ministers president presidents queen queens ruler "
    "rulers sultan sultans".split()
)
# a pattern word right after the verb that is one of these is a particle: it stays in the trigger ("set off
# a bomb", "lay down arms"), next to the verb
PARTICLES = frozenset("off down up out back aside away".split())

# ---------------------------------------------------------------------------------------------
HEADER_RE = re.compile(r"^---\s+(\S+)\s+\[([^\]]*)\]")
CODE_RE = re.compile(r"\[([^\]]*)\]")
BRACES_RE = re.compile(r"\{[^}]*\}")
PLAIN_WORD_RE = re.compile(r"^[A-Za-z]+$")
YAML_SPECIAL = {"y", "n", "yes", "no", "on", "off", "true", "false", "null"}


@dataclass
class Verb:
    words: tuple[str, ...]  # lower case; more than one for a phrasal verb
    code: str | None  # its own code, if any
    line: int


@dataclass
class Slot:
    options: frozenset[str]  # lower-case word forms, any of which fills the slot
    label: str  # for trigger ids: the word or synset name
    gap_before: bool  # other words may come before it (space in the dictionary), else adjacent ("_")


@dataclass
class Pattern:
    pre: list[Slot]
    post: list[Slot]
    code: str
    line: int


@dataclass
class Block:
    name: str
    code: str
    line: int
    verbs: list[Verb] = field(default_factory=list)
    patterns: list[Pattern] = field(default_factory=list)


@dataclass
class Dictionary:
    synsets: dict[str, list[str]]
    blocks: list[Block]
    skipped: Counter


def _strip_comment(line: str) -> str:
    line = line.split("#", 1)[0]
    return line.split(";", 1)[0].rstrip()


def _plural(word: str) -> str:
    if word.endswith("y"):
        return word[:-1] + "ies"
    if word.endswith("ss"):
        return word + "es"
    return word + "s"


def parse_dictionary(text: str) -> Dictionary:
    """Read synsets, verb blocks and patterns; skip (and count) what we do not use."""
    synsets: dict[str, list[str]] = {}
    raw_patterns: list[tuple[Block, str, int]] = []
    blocks: list[Block] = []
    skipped: Counter = Counter()
    synset: str | None = None
    block: Block | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = _strip_comment(raw).strip()
        if not raw.strip():
            synset = None  # a blank line ends a synset (a comment line does not)
            continue
        if not line:
            continue
        if line.startswith("~"):
            skipped["transformation lines (~)"] += 1
            continue
        header = HEADER_RE.match(line)
        if header:
            synset = None
            block = Block(header.group(1), header.group(2).strip(), number)
            blocks.append(block)
            continue
        if line.startswith("&"):
            label = line.split()[0][1:]
            synset = label
            synsets[label] = []
            block = None
            continue
        if synset is not None and line.startswith("+"):
            synsets[synset].append(line[1:].split()[0])
            continue
        if block is None:
            skipped["lines outside a verb block or synset"] += 1
            continue
        if line.startswith("-"):
            raw_patterns.append((block, line[1:], number))
            continue
        code_match = CODE_RE.search(BRACES_RE.sub("", line))
        head = BRACES_RE.sub("", line).split("[", 1)[0].split()
        if not head:
            skipped["verb lines without a verb"] += 1
            continue
        word = head[0]
        words = tuple(w.lower() for w in word.lstrip("+").split("_") if w)
        if len(head) > 1 or not words:
            skipped["verb lines that are not one verb"] += 1
            continue
        block.verbs.append(Verb(words, code_match.group(1).strip() if code_match else None, number))
    dictionary = Dictionary(synsets, blocks, skipped)
    for block, body, number in raw_patterns:
        pattern = _parse_pattern(body, number, dictionary)
        if pattern is not None:
            block.patterns.append(pattern)
    return dictionary


def _synset_options(label: str, dictionary: Dictionary) -> frozenset[str] | None:
    name = label.rstrip("_")
    key = next((k for k in (name, name + "_") if k in dictionary.synsets), None)
    if key is None:
        return None
    options = set()
    for member in dictionary.synsets[key]:
        no_plural = key.endswith("_") or member.endswith("_")
        parts = [p for p in member.lower().split("_") if p]
        if len(parts) != 1 or "-" in parts[0]:
            continue  # a phrase cannot fill a one-token slot
        options.add(parts[0])
        if not no_plural and not parts[0].endswith("s"):
            options.add(_plural(parts[0]))
    return frozenset(options)


def _parse_pattern(body: str, number: int, dictionary: Dictionary) -> Pattern | None:
    skipped = dictionary.skipped
    code_match = CODE_RE.search(body)
    if not code_match:
        skipped["patterns without a code"] += 1
        return None
    words = body[: code_match.start()]
    code = code_match.group(1).strip()
    slots: list[Slot | str] = []  # "V" for the verb
    gap = True
    for token in words.replace("(", " ").replace(")", " ").replace("{", " ").replace("}", " ").split():
        if token in ("*", "**"):
            slots.append("V")
            gap = True
            continue
        if token in ("$", "+", "%", "^"):
            gap = True  # an actor or a skipped noun phrase: a few words may come between
            continue
        if "*" in token:
            skipped["patterns with the verb inside a phrase (A_*_B)"] += 1
            return None
        parts = [p for p in token.split("_") if p]
        for k, part in enumerate(parts):
            if part.startswith("&"):
                options = _synset_options(part[1:], dictionary)
                if options is None:
                    skipped["patterns naming an undefined synset"] += 1
                    return None
                label = part[1:].lower()
            else:
                pieces = part.lower().split("/")
                if any("-" in p for p in pieces):
                    if len(pieces) > 1:
                        skipped["patterns with a hyphenated alternative"] += 1
                        return None
                    # spaCy splits "sit-in" into sit, -, in
                    for j, piece in enumerate(re.split(r"(-)", pieces[0])):
                        if piece:
                            slots.append(Slot(frozenset([piece]), piece, gap and k == 0 and j == 0))
                    gap = True
                    continue
                options, label = frozenset(pieces), pieces[0]
            slots.append(Slot(options, label, gap and k == 0))
        gap = True
    verbs = [i for i, s in enumerate(slots) if s == "V"]
    if len(verbs) != 1:
        skipped["patterns without exactly one verb (*)"] += 1
        return None
    at = verbs[0]
    pre, post = slots[:at], slots[at + 1:]
    if not pre and not post:
        skipped["patterns with no context word"] += 1
        return None
    return Pattern(pre, post, code, number)  # type: ignore[arg-type]


def _first_code(code: str | None) -> str | None:
    """``a:b`` -> a; ``:b``, ``---`` and empty -> None."""
    if not code:
        return None
    first = code.split(":", 1)[0].strip().rstrip("-")
    return first if first.isdigit() else None


# ---------------------------------------------------------------------------------------------
@dataclass
class Generated:
    id: str
    signal: str
    cameo: str
    confidence: float
    pattern: list
    blocks: list[str]  # source verb blocks, for the comment above the entry


def build_triggers(text: str, roots: dict[str, str], drop: dict[str, str] | None = None,
                   phrase_verbs: dict[str, str] | None = None) -> tuple[list[Generated], Counter]:
    """Convert the dictionary text; return the triggers (sorted) and the counts of what was kept/skipped."""
    drop = DROP if drop is None else drop
    phrase_verbs = PHRASE_VERBS if phrase_verbs is None else phrase_verbs
    dictionary = parse_dictionary(text)
    counts: Counter = Counter()
    skipped = dictionary.skipped

    def signal_of(code: str | None) -> str | None:
        return roots.get(code[:2]) if code else None

    # 1. bare verbs and phrasal verbs with a code of ours
    bare: dict[str, set[str]] = defaultdict(set)  # lemma -> codes of ours
    bare_blocks: dict[str, set[str]] = defaultdict(set)
    phrasal: dict[str, dict] = {}  # root -> {"verbs", "particles", "blocks"}
    for block in dictionary.blocks:
        for verb in block.verbs:
            raw_code = verb.code if verb.code is not None else block.code
            code = _first_code(raw_code)
            counts["dictionary verbs"] += 1
            if signal_of(code) is None:
                continue
            lemma = verb.words[0]
            if len(verb.words) == 1 and lemma in drop:
                skipped["bare verbs dropped by review (DROP)"] += 1
                continue
            if len(verb.words) > 1:
                if lemma.endswith(("ed", "ing")) or lemma in ("is", "was", "are", "were", "be", "shot"):
                    skipped["phrasal verbs whose first word is inflected"] += 1
                elif len(verb.words) > 2:
                    skipped["phrasal verbs of three words or more"] += 1
                elif " ".join(verb.words) in drop:
                    skipped["phrasal verbs dropped by review (DROP)"] += 1
                else:
                    entry = phrasal.setdefault(code[:2], {"verbs": set(), "particles": set(), "blocks": set()})
                    entry["verbs"].add(lemma)
                    entry["particles"].add(verb.words[1])
                    entry["blocks"].add(block.name)
                    counts["phrasal verbs kept"] += 1
                continue
            bare[lemma].add(code)
            bare_blocks[lemma].add(block.name)
    bare_root: dict[str, str] = {}
    for lemma, codes in sorted(bare.items()):
        signals = {signal_of(c) for c in codes}
        if len(signals) > 1:
            skipped["bare verbs coded to two signal types (left out)"] += 1
            continue
        bare_root[lemma] = min(codes)[:2]  # the most general code when a verb sits in several blocks
    by_root: dict[str, list[str]] = defaultdict(list)
    for lemma, root in bare_root.items():
        by_root[root].append(lemma)

    triggers: list[Generated] = []
    for root, lemmas in sorted(by_root.items()):
        blocks = sorted({b for lemma in lemmas for b in bare_blocks[lemma]})
        triggers.append(Generated(f"cameo-{root}0-verb", roots[root], f"{root}0", CONFIDENCE_VERB,
                                  [_verb(sorted(lemmas))], blocks))
        counts["bare verbs kept"] += len(lemmas)
    for root, entry in sorted(phrasal.items()):
        pattern = [_verb(sorted(entry["verbs"])), _word(entry["particles"])]
        triggers.append(Generated(f"cameo-{root}0-phrasal", roots[root], f"{root}0", CONFIDENCE_PHRASAL,
                                  pattern, sorted(entry["blocks"])))

    # 2. phrase patterns of PHRASE_VERBS with a code of ours: verb + the pattern's last required word
    bare_signal = {lemma: roots[root] for lemma, root in bare_root.items()}
    phrase_words: dict[tuple[str, str, str], set[str]] = defaultdict(set)  # (verb, root, particle) -> last words
    phrase_blocks: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    for block in dictionary.blocks:
        block_signal = signal_of(_first_code(block.code))
        verbs = sorted({v.words[0] for v in block.verbs if len(v.words) == 1} & set(phrase_verbs))
        for pattern in block.patterns:
            counts["dictionary patterns"] += 1
            if ":" in pattern.code and not pattern.code.split(":", 1)[0].strip():
                skipped["patterns coded only in reverse ([:code])"] += 1
                continue
            code = _first_code(pattern.code)
            signal = signal_of(code)
            if signal is None:
                if block_signal is not None:
                    skipped["patterns that take a verb of ours out of our types (not expressible)"] += 1
                continue
            if not verbs:
                skipped["patterns of ours not emitted (verb not in PHRASE_VERBS)"] += 1
                continue
            if not pattern.post:
                skipped["patterns with words before the verb only (subject nouns)"] += 1
                continue
            words = set(pattern.post[-1].options) - PHRASE_STOP
            first = pattern.post[0].options
            particle = sorted(first)[0] if len(pattern.post) > 1 and first <= PARTICLES else ""
            if not words:
                skipped["patterns whose last word is a preposition or a general word"] += 1
                continue
            for verb in verbs:
                if (verb, code[:2]) in PHRASE_SKIP:
                    skipped["phrase patterns left out by review (PHRASE_SKIP)"] += 1
                    continue
                if bare_signal.get(verb) == signal:
                    continue  # the bare verb gives this type anyway
                phrase_words[(verb, code[:2], particle)] |= words
                phrase_blocks[(verb, code[:2], particle)].add(block.name)
            counts["phrase patterns kept"] += 1
    # a word that one verb takes under roots of two signal types is ambiguous: left out of both
    types_of: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    for (verb, root, particle), words in phrase_words.items():
        for word in words:
            types_of[(verb, particle, word)].add(roots[root])
    # roots of one signal type are merged (the trigger's cameo is the lowest root); verbs that then take
    # the same words are merged too (they come from one dictionary block: set/stage, give/issue)
    merged: dict[tuple[str, str, str], dict] = {}  # (verb, signal, particle) -> words, roots, blocks
    for (verb, root, particle), words in sorted(phrase_words.items()):
        ambiguous = {w for w in words if len(types_of[(verb, particle, w)]) > 1}
        skipped["phrase words of one verb under two signal types (left out)"] += len(ambiguous)
        if words - ambiguous:
            entry = merged.setdefault((verb, roots[root], particle), {"words": set(), "roots": set(), "blocks": set()})
            entry["words"] |= words - ambiguous
            entry["roots"].add(root)
            entry["blocks"] |= phrase_blocks[(verb, root, particle)]
    by_words: dict[tuple, dict] = {}
    for (verb, signal, particle), entry in sorted(merged.items()):
        key = (signal, particle, tuple(sorted(entry["words"])), min(entry["roots"]))
        group = by_words.setdefault(key, {"verbs": [], "blocks": set()})
        group["verbs"].append(verb)
        group["blocks"] |= entry["blocks"]
    for (signal, particle, words, root), group in sorted(by_words.items()):
        verbs = group["verbs"]
        pattern = [_verb(verbs)] + ([{"LOWER": particle}] if particle else []) + [_gap(), _word(words)]
        name = "-".join(verbs + ([particle] if particle else []))
        triggers.append(Generated(f"cameo-{root}0-{name}-phrase", signal, f"{root}0", CONFIDENCE_PHRASE,
                                  pattern, sorted(group["blocks"])))
        counts["phrase triggers"] += 1
    triggers.sort(key=lambda t: (t.cameo, t.id))
    counts["triggers"] = len(triggers)
    return triggers, counts + Counter({f"skipped: {k}": v for k, v in skipped.items()})


# a participle that modifies a noun is no event of its own ("a crushing response", "Iran-backed militias")
NOT_VERB_DEPS = ["amod", "compound"]


def _verb(lemmas: list[str]) -> dict:
    """The verb slot: the only token of a generated pattern that uses LEMMA (the loader's overrides rely on it)."""
    lemma = lemmas[0] if len(lemmas) == 1 else {"IN": lemmas}
    return {"LEMMA": lemma, "POS": "VERB", "DEP": {"NOT_IN": NOT_VERB_DEPS}}


def _gap() -> dict:
    return {"LOWER": {"NOT_IN": GAP_STOP}, "IS_SENT_START": False, "OP": f"{{0,{GAP}}}"}


def _word(options_set) -> dict:
    options = sorted(options_set)
    return {"LOWER": options[0] if len(options) == 1 else {"IN": options}}


# ---------------------------------------------------------------------------------------------
def _scalar(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    text = str(value)
    if PLAIN_WORD_RE.match(text) and text.lower() not in YAML_SPECIAL:
        return text
    return json.dumps(text)


def _flow(value) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_flow(v) for v in value) + "]"
    return _scalar(value)


def render(triggers: list[Generated], counts: Counter, roots: dict[str, str], source_sha256: str,
           licence: str) -> str:
    lines = [
        "# GENERATED FILE - do not edit by hand. Regenerate with (from the repository root):",
        f"#   {COMMAND}        (= make lexicons)",
        "# Converter: engine/lexicons/cameo.py (its docstring explains the conversion; its DROP,",
        "# PHRASE_VERBS and PHRASE_SKIP lists hold the reviewed restrictions, each with its reason).",
        "#",
        f"# Source: ../shared/{SOURCE_RELATIVE}, the CAMEO verb dictionary of PETRARCH2",
        f"#   ({SOURCE_REPOSITORY} @ {SOURCE_COMMIT}, {SOURCE_FOLDER}CAMEO.2.0.txt), sha256 {source_sha256}",
        "#",
    ]
    lines += ["# " + line if line else "#" for line in licence.strip().splitlines()]
    lines += [
        "#",
        "# Kept: CAMEO roots mapped by rules/cameo_mapping.yaml: "
        + ", ".join(f"{r} {s}" for r, s in sorted(roots.items())) + ".",
        "# Loaded through `include:` in rules/signals.yaml. An analyst trigger there that uses a lemma takes",
        "# that lemma out of these patterns; `disable_generated:` there removes lemmas or trigger ids.",
        "#",
        "# Counts:",
    ]
    lines += [f"#   {key}: {value}" for key, value in sorted(counts.items())]
    lines += ["", "triggers:"]
    for t in triggers:
        lines.append(f"  # {t.signal} {t.cameo}: from {', '.join(t.blocks)}")
        lines.append(f"  - id: {t.id}")
        lines.append(f"    signal: {t.signal}")
        lines.append(f'    cameo: "{t.cameo}"')
        lines.append(f"    confidence: {t.confidence}")
        lines.append(f"    pattern: {_flow(t.pattern)}")
    text = "\n".join(lines) + "\n"
    parsed = yaml.safe_load(text)["triggers"]  # what we wrote is what the loader will read
    assert [p["pattern"] for p in parsed] == [t.pattern for t in triggers]
    return text


def licence_notice(text: str) -> str:
    """The MIT notice of the source file's own header (from 'The MIT License' to its last line)."""
    lines, keep = [], False
    for line in text.splitlines():
        if not line.startswith("#"):
            if keep:
                break
            continue
        body = line[1:].strip()
        if body.startswith("The MIT License"):
            keep = True
        if keep:
            if body.startswith("LAST UPDATE"):
                break
            lines.append(body)
    return "\n".join(lines).strip()


def load_roots(mapping_path: Path) -> dict[str, str]:
    data = yaml.safe_load(mapping_path.read_text(encoding="utf-8"))
    return {str(k): str(v) for k, v in data["roots"].items()}


def convert(text: str, roots: dict[str, str]) -> str:
    triggers, counts = build_triggers(text, roots)
    sha = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return render(triggers, counts, roots, sha, licence_notice(text))


def main(argv: list[str] | None = None) -> int:
    from engine.paths import REPO_ROOT, SHARED_DIR

    parser = argparse.ArgumentParser(prog="python -m engine.lexicons.cameo", description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=SHARED_DIR, help="the shared data folder (../shared)")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / OUT_RELATIVE)
    parser.add_argument("--mapping", type=Path, default=REPO_ROOT / "rules" / "cameo_mapping.yaml")
    parser.add_argument("--check", action="store_true", help="exit 1 if --out differs from what would be written")
    args = parser.parse_args(argv)
    source = args.shared / SOURCE_RELATIVE
    if not source.exists():
        print(f"error: {source} not found (give --shared)", file=sys.stderr)
        return 2
    text = convert(source.read_text(encoding="utf-8"), load_roots(args.mapping))
    if args.check:
        same = args.out.exists() and args.out.read_text(encoding="utf-8") == text
        print(f"{args.out}: {'up to date' if same else 'differs from the converter output'}")
        return 0 if same else 1
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    n = text.count("\n  - id: ")
    print(f"wrote {args.out}: {n} triggers from {source}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
