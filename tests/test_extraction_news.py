"""Real-news phenomena (issue 10): the sentences a new user tried, each with the pair it must yield,
and the dev-article labels' format. Sentences are ours."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.evaluation import load_articles

ARTICLES = Path(__file__).parent / "data" / "articles"


def _signals(extractor, text: str):
    from engine.ingest import Document

    return extractor.extract([Document("t", text, None)]).signals


def _pairs(signals, signal: str) -> set[tuple[str, str]]:
    rows = signals[signals["signal"] == signal]
    return set(zip(rows["source"], rows["target"], strict=True))


def _countries(extractor, pairs):
    return {(extractor.actors.country_of(s) or s, extractor.actors.country_of(t) or t) for s, t in pairs}


def test_minister_says_capital_will_respond(extractor):
    sig = _signals(extractor, "Iran's foreign minister said Tehran would respond decisively to any Israeli aggression.")
    rows = sig[sig["signal"] == "THREATEN"]
    assert ("IRN", "ISR") in _countries(extractor, zip(rows["source"], rows["target"], strict=True))
    assert not rows["hypothetical"].any()  # the threat is made; "would" is part of it


def test_proxy_by_description_launching_from_host_territory(extractor):
    sig = _signals(extractor, "Iranian-backed militias launched drones at U.S. troops from Iraqi territory.")
    rows = sig[(sig["signal"] == "ATTACK") & (sig["source"] == "IRQUAF")]
    assert len(rows) == 1
    assert extractor.actors.country_of(rows.iloc[0]["target"]) == "USA"
    assert rows.iloc[0]["location"] == "IRQ"


def test_pronoun_in_next_sentence_is_the_troops(extractor):
    sig = _signals(extractor, "Israeli troops massed on the Lebanese border. They are expected to invade.")
    invade = sig[(sig["signal"] == "ATTACK") & (sig["sent_index"] == 1)]
    assert len(invade) == 1
    assert extractor.actors.country_of(invade.iloc[0]["source"]) == "ISR"
    assert invade.iloc[0]["target"] == "LBN"


def test_threat_target_is_the_object_of_the_threatened_act(extractor):
    sig = _signals(extractor, "Hezbollah threatened to strike Tel Aviv if Israel attacks Beirut.")
    assert ("LBNHEZ", "ISR") in _pairs(sig, "THREATEN")
    conditional = sig[(sig["signal"] == "ATTACK") & (sig["source"] == "ISR")]
    assert conditional["hypothetical"].all() and set(conditional["target"]) == {"LBN"}


def test_collapsed_ceasefire_is_no_deescalation(extractor):
    sig = _signals(extractor, "The ceasefire between Israel and Hezbollah collapsed.")
    assert sig[sig["signal"] == "DEESCALATE"].empty


def test_violated_ceasefire_is_an_attack_on_the_other_side(extractor):
    sig = _signals(extractor, "Hezbollah violated the ceasefire with Israel on Sunday.")
    assert ("LBNHEZ", "ISR") in _pairs(sig, "ATTACK")
    assert sig[sig["signal"] == "DEESCALATE"].empty


def test_one_event_named_twice_is_one_signal(extractor):
    sig = _signals(extractor, "Hamas fired rockets at Israel on Monday, the third such attack this week.")
    attacks = sig[sig["signal"] == "ATTACK"]
    assert len(attacks) == 1 and _pairs(sig, "ATTACK") == {("PSEHAM", "ISR")}


def test_condemning_a_strike_does_not_make_the_condemner_the_attacker(extractor):
    sig = _signals(extractor, "Iran condemned the strike on Damascus.")
    assert "IRN" not in set(sig[sig["signal"] == "ATTACK"]["source"])
    assert set(sig[sig["signal"] == "DEMAND"]["source"]) == {"IRN"}


def test_definite_description_refers_back_to_the_group(extractor):
    text = ("Hezbollah fired rockets at Haifa on Tuesday. The Iranian-backed group said it acted in "
            "solidarity with Gaza. The group also launched drones at an army post near Metula.")
    sig = _signals(extractor, text)
    third = sig[(sig["sent_index"] == 2) & (sig["signal"] == "ATTACK")]
    assert set(third["source"]) == {"LBNHEZ"}
    # the evidence says where the actor came from
    assert set(third["source_basis"]) == {"reference"} and set(third["antecedent_sent"]) <= {0, 1}


def test_side_not_named_is_the_one_faced_before(extractor):
    text = ("Indian troops fired on Pakistani posts along the Line of Control on Monday. "
            "Pakistan said on Tuesday it remained committed to the ceasefire.")
    sig = _signals(extractor, text)
    later = sig[(sig["sent_index"] == 1) & (sig["signal"] == "DEESCALATE")]
    assert _countries(extractor, zip(later["source"], later["target"], strict=True)) == {("PAK", "IND")}
    assert set(later["target_basis"]) == {"counterpart"} and set(later["antecedent_sent"]) == {0}


def test_speaker_pronoun_inside_reported_speech(extractor):
    sig = _signals(extractor, "The Israeli military said it had struck a Hamas command centre in Gaza.")
    assert ("ISRMIL", "PSEHAM") in _pairs(sig, "ATTACK")


def test_headline_and_dateline_are_their_own_sentences(extractor):
    text = "Israel strikes Beirut suburb\n\nBEIRUT (AP) -- Iran warned Israel on Monday."
    sig = _signals(extractor, text)
    threat = sig[sig["signal"] == "THREATEN"].iloc[0]
    assert "suburb" not in threat["sentence"] and threat["sentence"].startswith("Iran warned")
    assert sig[sig["signal"] == "ATTACK"].iloc[0]["sent_index"] == 0


@pytest.mark.parametrize("part", ["dev", "frozen"])
def test_dev_articles_are_well_formed(part):
    articles, problems = load_articles(ARTICLES / part)
    assert not problems, "\n".join(problems)
    assert articles


def test_dev_set_size_and_negatives():
    articles = [a for part in ("dev", "frozen") for a in load_articles(ARTICLES / part)[0]]
    frozen = load_articles(ARTICLES / "frozen")[0]
    assert len(articles) >= 40
    assert sum(a.kind == "negative" for a in articles) >= 8
    assert len(frozen) * 4 >= len(articles)  # about a third held out
    for art in articles:
        words = len(art.text.split())
        assert 300 <= words <= 700, (art.id, words)


def test_load_articles_reports_a_misquoted_sentence(tmp_path):
    (tmp_path / "x1.txt").write_text("Headline\n\nIran warned Israel on Monday.\n", encoding="utf-8")
    (tmp_path / "x1.yaml").write_text(
        "id: x1\ndate: 2024-11-04\nkind: conflict\ntitle: Headline\nkey_pairs: [[IRN, ISR]]\n"
        "events:\n  - {sentence: 'Iran threatened Israel', signal: THREATEN, source: IRN, target: ISR}\n",
        encoding="utf-8")
    articles, problems = load_articles(tmp_path)
    assert not articles and "found 0 times" in problems[0]


def test_company_named_after_a_country_is_not_the_state(extractor):
    sig = _signals(extractor, "Zain Iraq, a unit of the Zain Group, bombarded customers with cheap offers. "
                              "Qatar Airways attacked the pricing of its rivals.")
    both = sig[(sig["source"] != "") & (sig["target"] != "")]
    assert both.empty, both[["source", "signal", "target"]]


def test_talks_with_a_named_party_are_coded_both_ways(extractor):
    sig = _signals(extractor, "Iran held talks with Saudi Arabia in Baghdad on Monday.")
    assert {("IRN", "SAU"), ("SAU", "IRN")} <= _pairs(sig, "DEESCALATE")
    assert "IRQ" not in set(sig["target"])  # where talks happen is no party to them


def test_components_declare_what_they_assign_and_require(extractor):
    problems = extractor.nlp.analyze_pipes(pretty=False)["problems"]
    assert not any(problems.values()), problems
    meta = extractor.nlp.get_pipe_meta("escalation_signals")
    assert "doc._.signals" in meta.assigns and "doc._.actor_mentions" in meta.requires


def test_degraded_mode_runs_end_to_end_on_word_forms():
    """--degraded (spacy.blank, no tagger/parser/NER) must extract, not crash: word-form patterns and the
    nearest-actor fallback."""
    from engine.ingest import Document
    from engine.nlp.extract import Extractor

    extractor = Extractor(degraded=True)
    assert extractor.model.degraded
    sig = extractor.extract([Document("d", "Iran threatened Israel on Monday. Hezbollah fired rockets at Haifa.",
                                      None)]).signals
    assert ("IRN", "ISR") in _pairs(sig, "THREATEN")
    assert "LBNHEZ" in set(sig[sig["signal"] == "ATTACK"]["source"])
    assert set(sig["source_basis"]) <= {"nearest", "reference", ""}


def test_fast_trigger_lookups_match_what_one_matcher_would(extractor):
    """One-word triggers looked up by word and multi-word ones run only where a word they require
    stands give the same matches as one Matcher holding every pattern."""
    from spacy.matcher import Matcher

    detector = extractor.nlp.get_pipe("escalation_signals")
    assert detector.single_word and detector.anchored  # the fast paths are in use
    full = Matcher(extractor.nlp.vocab)
    for trigger in detector.lexicon.triggers:
        full.add(trigger.id, [trigger.pattern])
    texts = [a.text for a in load_articles(ARTICLES / "dev")[0][:6]]
    for doc in extractor.nlp.pipe(texts):
        strings = extractor.nlp.vocab.strings
        expected = sorted((strings[k], s, e) for k, s, e in full(doc))
        got = sorted(detector._pattern_matches(doc) + detector._single_word_matches(doc))
        assert got == expected


def test_gate_parses_only_sentences_that_can_hold_a_signal_and_maps_evidence_back(extractor):
    from engine.ingest import Document

    text = ("Markets rose on Monday.\n\nShares of bakeries climbed 3% in early trading. Bond yields were flat. "
            "Analysts expect a quiet week.\n\nHezbollah fired rockets at northern Israel on Monday, the army said. "
            "Farmers reported a good harvest of olives this autumn.")
    result = next(extractor.iter_signals([Document("g", text, None)]))
    assert result.parsed_share < 0.7  # the quiet sentences were not parsed
    attack = next(s for s in result.signals if s.signal == "ATTACK")
    assert text[attack.start_char:attack.end_char] == attack.trigger
    assert text[attack.sent_start:attack.sent_end] == attack.sentence
    assert attack.sentence.startswith("Hezbollah fired rockets")
    start, end = result.sentences[attack.sent_index]
    assert text[start:end] == attack.sentence
    assert (attack.source, attack.target) == ("LBNHEZ", "ISR")


def test_one_string_is_one_document_and_oversized_texts_are_refused():
    from engine.errors import InputError
    from engine.nlp.extract import as_documents, extract_signals

    assert ("IRN", "ISR") in _pairs(extract_signals("Iran fired missiles at Israel.", date="2024-11-04"), "ATTACK")
    with pytest.raises(InputError, match="limit is 1,000,000"):
        as_documents(["word " * 250_001])


def test_a_city_is_territory_never_an_actor(extractor):
    sig = _signals(extractor, "Hezbollah fired rockets at Haifa on Tuesday. In Basra, rockets hit a U.S. base.")
    assert ("LBNHEZ", "ISR") in _pairs(sig, "ATTACK")
    assert "IRQ" not in set(sig["source"])  # where it happened did not do it
    assert extractor.actors.places.get("Haifa") == "ISR"


SPORT_PAGE = (
    "Rovers storm the Shed end as Iraq's champions are routed\n\n"
    "Rovers launched wave after wave of attacks on Saturday and bombarded the visitors' goal for ninety minutes, "
    "and the league leaders finally broke through when their striker scored from the penalty spot. The coach said "
    "his players had fought like soldiers and that the club would not surrender the title without a battle. "
    "Fans in the stadium sang long after the final whistle. The visiting goalkeeper, a former Iraqi international, "
    "kept the score down with three saves, and his coach promised a response in the return match next season. "
    "The referee showed five yellow cards in a derby that both clubs described as a war. The league said it would "
    "review the penalty. Rovers' chairman told reporters the squad would regroup before the cup tie in midweek, "
    "where another assault on the trophy begins. Their midfielder, who missed the last two matches, returns for the "
    "tournament. Players and fans alike called the win the start of a campaign for the championship, and the team "
    "will now defend its lead at the top of the league against three rivals in the next fortnight of matches.")


def test_sport_page_with_war_words_yields_no_signal(extractor):
    """A sport page where war words are metaphors ("bombarded the visitors' goal") is read as such copy:
    no signal, and the gate says why."""
    assert len(SPORT_PAGE.split()) >= 150
    assert _signals(extractor, SPORT_PAGE).empty
    reason = extractor.gate.figurative(extractor.nlp.make_doc(SPORT_PAGE))
    assert reason.startswith("read as sport/business copy")


CAR_PRICE_WAR = (
    "Korean carmaker opens new front in Mexico's price war\n\n"
    "MEXICO CITY, June 3 - South Korea's second-largest carmaker cut the price of its small hatchback by 12% on "
    "Monday, firing the latest shot in a price war that Chinese makers started last year. Dealers in Monterrey "
    "and Guadalajara said showrooms filled within hours as buyers who had waited for months rushed in. The "
    "Chinese carmakers answered with an offensive of their own: free servicing for three years and cheaper "
    "financing at every dealership. Analysts said the battle for the country's buyers would squeeze the "
    "margins of every automaker in the market. Japanese makers, long the leaders, said they would not follow "
    "the cuts, and one executive called them a war no one can win. Mexico's industry association "
    "said deliveries of cars rose 9% in May from a year earlier, with the cheapest sedan and hatchback models "
    "selling fastest. Unions at the older plants in Puebla warned that the invasion of low-cost imports "
    "threatens thousands of jobs and asked the government to raise duties on cars built in China.")


def test_car_price_war_copy_yields_no_signal(extractor):
    """Business copy about a price war among carmakers, with "offensive", "invasion" and countries named: no
    signal and no pair (the car-trade words of ``figurative_copy`` read it as such copy)."""
    assert len(CAR_PRICE_WAR.split()) >= 150
    assert _signals(extractor, CAR_PRICE_WAR).empty
    assert extractor.gate.figurative(extractor.nlp.make_doc(CAR_PRICE_WAR)).startswith("read as sport/business")


def test_conflict_news_that_mentions_a_match_is_kept(extractor):
    text = ("Drones hit stadium area in Kharkiv before league match\n\n"
            "Russian drones struck the area around the city's football stadium on Saturday, hours before a league "
            "match, wounding four people, the regional governor said. The match was postponed and the club said "
            "players and fans were safe. Ukrainian air defences shot down eleven of the drones, the air force said, "
            "and Kyiv urged its allies to send more air-defence systems. Russian troops also shelled border villages "
            "in the region overnight, killing two civilians, and the military said soldiers had repelled an attack "
            "near Vovchansk. Officials said the missile and drone attacks on the city have intensified since "
            "spring, with energy sites hit almost every week, and that the border areas are shelled daily by "
            "Russian artillery. The governor urged residents to stay in shelters during the air-raid alerts, and "
            "said schools in the city would keep teaching online until the end of the month because of the attacks.")
    assert len(text.split()) >= 150
    assert extractor.gate.figurative(extractor.nlp.make_doc(text)) == ""
    assert ("RUS", "UKR") in _countries(extractor, _pairs(_signals(extractor, text), "ATTACK"))
