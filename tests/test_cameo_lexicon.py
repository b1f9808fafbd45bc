"""The generated CAMEO trigger lexicon: the converter (engine/lexicons/cameo.py), the committed file,
how the signal lexicon loads it (include, analysts' overrides, disable_generated) and how problems in it
are reported."""

from __future__ import annotations

import shutil

import yaml
from typer.testing import CliRunner

from engine.cli import app
from engine.lexicons.cameo import OUT_RELATIVE, SOURCE_RELATIVE, build_triggers, convert, load_roots
from engine.nlp.lexicon import check_signal_file, load_signals
from engine.paths import SIGNALS_FILE
from tests.conftest import REPO, shared_path

ROOTS = {"04": "DEESCALATE", "05": "DEESCALATE", "08": "DEESCALATE", "13": "THREATEN", "15": "MOBILIZE",
         "19": "ATTACK"}

# Our own tiny dictionary in the PETRARCH verb-dictionary format (invented verbs and blocks).
SAMPLE = """\
# TINY TEST DICTIONARY
#
# The MIT License (MIT)
#
# Copyright (c) 2026 Nobody
#
# LAST UPDATE: never

####### SYNONYM SETS #######

&SQUAD
+TROOP
+RIFLEMEN_
+GUN_CREW

####### VERB PATTERNS #######

---  GLOWER   [130]  ---
+GLOWER_AT {+GLOWERED_AT +GLOWERING_AT}
GLOWER
SCOWL  # an analyst's note
SQUINT [---]
FROWN [190]
- * (AT &SQUAD)                                        [150]         # GLOWER
- * FLOWERS                                           [012]         # SCOWL

---  NUDGE   [---]  ---
NUDGE {NUDGES NUDGED NUDGING}
- * TRUCE                                             [0871]        # NUDGE
- * {PEACE TALKS}                                     [:046]        # NUDGE
- * OFF &SQUAD                                        [1931]        # NUDGE
- &SQUAD *                                            [150]         # NUDGE

######## TRANSFORMATIONS ##########

~ a (a b NUDGE) SAY = a b 015
"""


def _by_id(triggers):
    return {t.id: t for t in triggers}


def _verb(lemma):
    """A generated verb slot: a verb that is not a participle modifying a noun ("a crushing response")."""
    return {"LEMMA": lemma, "POS": "VERB", "DEP": {"NOT_IN": ["amod", "compound"]}}


def test_converter_on_a_sample_gives_the_expected_triggers():
    triggers, counts = build_triggers(SAMPLE, ROOTS, drop={"scowl": "test"}, phrase_verbs={"nudge": "test"})
    got = _by_id(triggers)
    assert set(got) == {"cameo-130-verb", "cameo-130-phrasal", "cameo-190-verb", "cameo-080-nudge-phrase",
                        "cameo-190-nudge-off-phrase"}
    # bare verbs grouped per CAMEO root; SQUINT has the null code, SCOWL is on the drop list
    assert got["cameo-130-verb"].pattern == [_verb("glower")]
    assert got["cameo-130-verb"].signal == "THREATEN"
    assert got["cameo-190-verb"].pattern == [_verb("frown")]  # its own code
    assert got["cameo-130-phrasal"].pattern == [_verb("glower"), {"LOWER": "at"}]
    # a phrase pattern: the verb, a few tokens, the required word
    truce = got["cameo-080-nudge-phrase"]
    assert (truce.signal, truce.cameo) == ("DEESCALATE", "080")
    assert truce.pattern[0] == _verb("nudge")
    assert truce.pattern[1]["OP"] == "{0,4}" and truce.pattern[2] == {"LOWER": "truce"}
    # a particle stays next to the verb; a synset gives its one-word members and their plurals
    squad = got["cameo-190-nudge-off-phrase"].pattern
    assert squad[:2] == [_verb("nudge"), {"LOWER": "off"}]
    assert squad[-1] == {"LOWER": {"IN": ["riflemen", "troop", "troops"]}}
    # what was skipped is counted
    assert counts["skipped: patterns coded only in reverse ([:code])"] == 1
    assert counts["skipped: patterns with words before the verb only (subject nouns)"] == 1
    assert counts["skipped: transformation lines (~)"] == 1
    assert counts["skipped: bare verbs dropped by review (DROP)"] == 1
    assert counts["skipped: patterns of ours not emitted (verb not in PHRASE_VERBS)"] == 1  # glower at squad
    assert counts["skipped: patterns that take a verb of ours out of our types (not expressible)"] == 1


def test_converter_output_is_deterministic_yaml_with_provenance():
    text = convert(SAMPLE, ROOTS)
    assert text == convert(SAMPLE, ROOTS)
    assert "openeventdata/petrarch2 @ 676801cd" in text
    assert "# The MIT License (MIT)" in text and "Copyright (c) 2026 Nobody" in text
    assert ".venv/bin/python -m engine.lexicons.cameo --shared ../shared" in text
    assert "#   skipped: transformation lines (~): 1" in text
    entries = yaml.safe_load(text)["triggers"]
    assert [e["id"] for e in entries] == sorted(e["id"] for e in entries)
    assert all(e["id"].startswith("cameo-") and set(e) == {"id", "signal", "cameo", "confidence", "pattern"}
               for e in entries)


def test_committed_generated_file_is_what_the_converter_writes():
    source = shared_path(*SOURCE_RELATIVE.split("/"))
    expected = convert(source.read_text(encoding="utf-8"), load_roots(REPO / "rules" / "cameo_mapping.yaml"))
    assert (REPO / OUT_RELATIVE).read_text(encoding="utf-8") == expected, (
        "rules/generated/cameo_triggers.yaml is stale: run `make lexicons`")


SIGNALS = """\
signal_types:
  THREATEN: {cameo: "13", plover: THREATEN, intensity: 0.6}
  ATTACK: {cameo: "19", plover: ASSAULT, intensity: 0.9}
include: [generated/gen.yaml]
disable_generated: [glare, cameo-190-verb]
triggers:
  - id: menace-verb
    signal: ATTACK
    cameo: "190"
    pattern: [{LEMMA: {IN: [menace]}, POS: VERB}]
"""
GENERATED = """\
triggers:
  - id: cameo-130-verb
    signal: THREATEN
    cameo: "130"
    confidence: 0.6
    pattern: [{LEMMA: {IN: [glare, glower, menace]}, POS: VERB}]
  - id: cameo-190-verb
    signal: ATTACK
    cameo: "190"
    confidence: 0.6
    pattern: [{LEMMA: {IN: [pummel]}, POS: VERB}]
  - id: cameo-130-menace-phrase
    signal: THREATEN
    cameo: "130"
    confidence: 0.7
    pattern: [{LEMMA: menace, POS: VERB}, {LOWER: loudly}]
"""


def _signals_folder(tmp_path, generated: str = GENERATED, signals: str = SIGNALS):
    (tmp_path / "generated").mkdir()
    (tmp_path / "generated" / "gen.yaml").write_text(generated)
    (tmp_path / "signals.yaml").write_text(signals)
    return tmp_path / "signals.yaml"


def test_analyst_trigger_overrides_a_generated_lemma_and_disable_generated_works(tmp_path):
    lexicon, problems = check_signal_file(_signals_folder(tmp_path))
    assert not problems
    triggers = _by_id(lexicon.triggers)
    assert triggers["menace-verb"].origin == "analyst"
    # menace belongs to the analysts (another type, even); glare is disabled by name
    assert triggers["cameo-130-verb"].pattern == [{"LEMMA": {"IN": ["glower"]}, "POS": "VERB"}]
    assert triggers["cameo-130-verb"].origin == "generated"
    assert "cameo-190-verb" not in triggers  # disabled by id
    assert "cameo-130-menace-phrase" not in triggers  # its verb slot lost its only lemma


def test_disable_generated_names_an_unknown_entry(tmp_path):
    path = _signals_folder(tmp_path, signals=SIGNALS.replace("[glare, cameo-190-verb]", "[glare, cameo-190-verbs]"))
    _, problems = check_signal_file(path)
    assert problems == [f"{path}:5: disable_generated: 'cameo-190-verbs' is neither a generated trigger id "
                        "nor a lemma of one (did you mean 'cameo-190-verb'?)"]


def test_shipped_lexicon_loads_generated_triggers_without_analyst_lemmas():
    lexicon = load_signals(str(SIGNALS_FILE))
    analyst = [t for t in lexicon.triggers if t.origin == "analyst"]
    generated = [t for t in lexicon.triggers if t.origin == "generated"]
    assert analyst and generated and all(t.id.startswith("cameo-") for t in generated)
    claimed = set()
    for t in analyst:
        lemma = t.pattern[0].get("LEMMA")
        claimed |= set(lemma["IN"]) if isinstance(lemma, dict) else {lemma} if lemma else set()
    for t in generated:
        for token in t.pattern:
            lemma = token.get("LEMMA")
            values = set(lemma["IN"]) if isinstance(lemma, dict) else {lemma} if lemma else set()
            assert not values & claimed, (t.id, values & claimed)


def test_keyword_baseline_keeps_the_analysts_vocabulary():
    from engine.evaluation import keyword_lemmas

    words = keyword_lemmas()
    assert "attack" in words["ATTACK"]
    assert "overrun" not in words["ATTACK"] and "praise" not in words["DEESCALATE"]  # generated only


def test_generated_trigger_shows_its_provenance_in_pattern_id(extractor):
    [doc] = extractor.nlp.pipe(["Russian troops overran the Ukrainian village of Krynky on Tuesday."])
    attack = [s for s in doc._.signals if s.signal == "ATTACK"]
    assert attack and attack[0].pattern_id.startswith("cameo-19") and attack[0].trigger == "overran"


def test_rules_check_reports_a_broken_generated_entry_as_file_line(tmp_path):
    rules = tmp_path / "rules"
    shutil.copytree(REPO / "rules", rules)
    generated = rules / "generated" / "cameo_triggers.yaml"
    text = generated.read_text()
    broken = ("  - id: cameo-999-broken\n    signal: THREATNE\n    cameo: \"999\"\n    confidence: 0.6\n"
              "    pattern: [{LEMMA: {IN: [glower]}, POS: VERB}]\n"
              "  - id: cameo-998-broken\n    signal: ATTACK\n    cameo: \"998\"\n    confidence: 0.6\n"
              "    pattern: [{LEMMA: {NOT_A_PREDICATE: [glower]}}]\n")
    generated.write_text(text + broken)
    first = text.count("\n") + 1
    result = CliRunner().invoke(app, ["rules", "check", str(rules)])
    assert result.exit_code == 1
    assert (f"{generated}:{first + 1}: cameo-999-broken: unknown signal type 'THREATNE' (did you mean 'THREATEN'?)"
            in result.output)
    assert f"{generated}:{first + 9}: cameo-998-broken: bad Matcher pattern" in result.output


def test_rules_check_says_an_unquoted_yaml_word_became_a_boolean(tmp_path):
    """`{LOWER: no}` is {LOWER: false} to YAML: the check names the cause instead of spaCy's schema error."""
    rules = tmp_path / "rules"
    shutil.copytree(REPO / "rules", rules)
    signals = rules / "signals.yaml"
    text = signals.read_text()
    signals.write_text(text.replace('pattern: [{LOWER: "no"}, {LOWER: {IN: [intention',
                                    'pattern: [{LOWER: no}, {LOWER: {IN: [intention'))
    result = CliRunner().invoke(app, ["rules", "check", str(rules)])
    assert result.exit_code == 1
    assert "no-intention-of-war: bad Matcher pattern: YAML read no/off/false as true/false: quote the word" \
        in result.output
