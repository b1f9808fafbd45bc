"""The Phoenix actor converter (engine/lexicons/phoenix.py), the generated file it commits and how the
analysts' actors.yaml overrides it."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from engine.lexicons import phoenix
from engine.nlp.lexicon import check_actor_file, load_actors
from engine.paths import ACTORS_FILE, REPO_ROOT
from tests.conftest import shared_path

GENERATED = REPO_ROOT / "rules" / "generated" / "phoenix_actors.yaml"

# Our own tiny sample in the Phoenix format: a country with variants, a demonym, its capital, other
# cities and a leader; a state organ; a dated office holder; an armed group with a leader among its
# aliases; an international body and one of its officials.
COUNTRIES = """\
# comment line
ZEMBLA_  [ZMB]
+ZEMBLAN_
+ZEMBLAA_
+ONHAVA_
+KALIXTA_
+HARBOURTOWN_ # a city, not the capital
# National Institutions
ZEMBLAN_ROYAL_ARMY
+ZRA
	[ZMBMIL]
KING_CHARLES_XAVIER_  # CountryInfo.txt
	[ZMBGOV 590101-591231]
ZEMBLAN_HILL_FRONT_ [ZMBREB]
+HILL_FRONT
+ODON_SMITH
"""
INTERNATIONAL = """\
WORLD_FOOD_PROGRAMME_ [IGOUNOWFP]
+WFP_
JANE_ROE_ [IGOUNOWFP]
"""


@pytest.fixture()
def sample_shared(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "lexicons" / "petrarch2"
    folder.mkdir(parents=True)
    (folder / phoenix.COUNTRIES_FILE).write_text(COUNTRIES, encoding="utf-8")
    (folder / phoenix.INTERNATIONAL_FILE).write_text(INTERNATIONAL, encoding="utf-8")
    (folder / phoenix.MILNONSTATE_FILE).write_text("", encoding="utf-8")
    monkeypatch.setitem(phoenix.CAPITALS, "ZMB", ("Onhava",))
    monkeypatch.setitem(phoenix.CAPITALS, "OTH", ("Onhava",))
    monkeypatch.setattr(phoenix, "REGION_COUNTRIES", phoenix.REGION_COUNTRIES | {"ZMB"})
    return tmp_path


def test_converter_on_a_sample(sample_shared):
    entries, _ = phoenix.build(sample_shared)
    by_code = {e.code: e for e in entries}
    assert set(by_code) == {"ZMB", "ZMBMIL", "ZMBREB", "IGOUNOWFP"}
    country = by_code["ZMB"]
    assert country.name == "Zembla"
    assert country.names == {"Zembla", "Zemblaa", "Onhava"}  # spelling variant and capital, no other city
    assert country.demonyms == {"Zemblan", "Zemblans"}
    assert by_code["ZMBMIL"].names == {"Zemblan Royal Army", "ZRA"} and by_code["ZMBMIL"].parent == "ZMB"
    group = by_code["ZMBREB"]
    assert group.names == {"Zemblan Hill Front", "Hill Front"}  # the leader among the aliases is left out
    assert group.country == "ZMB" and group.parent == "ZMB"
    assert by_code["IGOUNOWFP"].names == {"World Food Programme", "WFP"}  # not its official
    text = phoenix.convert(sample_shared)
    assert text == phoenix.convert(sample_shared)
    assert f"{phoenix.SOURCE_REPO} @ {phoenix.SOURCE_COMMIT}" in text and "MIT License" in text
    assert phoenix.COMMAND in text


def test_drop_list_and_shared_names(sample_shared):
    (sample_shared / "lexicons" / "petrarch2" / phoenix.COUNTRIES_FILE).write_text(
        COUNTRIES + "CHAD_  [TCD]\n+CHADIAN_\nOTHERLAND_  [OTH]\n+ONHAVA_\n", encoding="utf-8")
    entries, stats = phoenix.build(sample_shared)
    by_code = {e.code: e for e in entries}
    assert "Chad" not in by_code["TCD"].names and "Chadian" in by_code["TCD"].demonyms
    assert "Onhava" not in by_code["ZMB"].names and "Onhava" not in by_code["OTH"].names  # shared: dropped
    assert stats["dropped_reviewed"] >= 1 and stats["dropped_shared"] >= 1
    assert all(reason for reason in phoenix.DROP.values())


def test_committed_file_is_the_converters_output():
    shared = shared_path("lexicons", "petrarch2").parent.parent
    assert GENERATED.read_text(encoding="utf-8") == phoenix.convert(shared), (
        f"rules/generated/phoenix_actors.yaml is stale: run {phoenix.COMMAND}")


def _rules(tmp_path: Path, actors: str, generated: str) -> Path:
    (tmp_path / "generated").mkdir()
    (tmp_path / "generated" / "gen.yaml").write_text(textwrap.dedent(generated), encoding="utf-8")
    path = tmp_path / "actors.yaml"
    path.write_text(textwrap.dedent(actors), encoding="utf-8")
    return path


def test_analysts_win(tmp_path):
    path = _rules(tmp_path, """\
        roles: {GOV: [government], MIL: [army]}
        include: [generated/gen.yaml]
        actors:
          - {code: ZMB, name: Zembla (analysts), names: [Zembla, Onhava]}
        """, """\
        actors:
          - {code: ZMB, name: Zembla, names: [Zembla, Zemblaa], demonyms: [Zemblan]}
          - {code: OTH, name: Otherland, names: [Otherland, Onhava], demonyms: [Otherlander]}
          - {code: OTHMIL, name: Otherland military, parent: OTH, names: [Otherland Army]}
        """)
    actors, problems = check_actor_file(path)
    assert problems == []
    assert actors.get("ZMB").name == "Zembla (analysts)"
    assert "Zemblaa" not in actors.names and "Zemblan" not in actors.demonyms  # the whole entry is replaced
    assert actors.names["Onhava"] == "ZMB"  # generated name the analysts use: dropped from OTH
    assert actors.names["Otherland Army"] == "OTHMIL"
    assert {"OTHGOV", "OTHMIL", "ZMBGOV"} <= set(actors.actors)  # country+role codes of generated countries
    assert actors.get("OTHGOV").parent == "OTH"


def test_generated_problems_are_reported_at_their_line(tmp_path):
    path = _rules(tmp_path, """\
        include: [generated/gen.yaml, generated/missing.yaml]
        actors:
          - {code: ZMB, names: [Zembla]}
          - {code: ZMB, names: [Zembla again]}
        """, """\
        actors:
          - {code: OTH, names: [Otherland]}
          - {code: OTHREB, parent: NOPE, nmes: [x]}
          - {code: ABC, names: [Otherland]}
        """)
    actors, problems = check_actor_file(path)
    assert actors is None
    text = "\n".join(problems)
    gen = tmp_path / "generated" / "gen.yaml"
    assert f"{gen}:3: OTHREB: unknown parent 'NOPE'" in text
    assert f"{gen}:3: OTHREB: unknown field 'nmes'" in text
    assert f"{gen}:4: ABC: name 'Otherland' already belongs to OTH" in text
    assert f"{path}:4: ZMB: duplicate actor code" in text  # analysts' own conflicts stay errors
    assert "missing.yaml not found" in text


@pytest.fixture(scope="module")
def resolver():
    from engine.nlp.extract import get_extractor

    nlp = get_extractor().nlp

    def codes(text: str) -> dict[str, str]:
        return {m.text: m.code for m in nlp(text)._.actor_mentions}

    return codes


def test_shipped_dictionary_loads_with_the_generated_actors():
    actors = load_actors(ACTORS_FILE)
    assert actors.get("TWN") and actors.get("TWNGOV").parent == "TWN" and actors.get("PHLMIL")
    assert actors.get("SOMREB").country == "SOM"
    assert actors.get("ISRMIL").name == "Israel Defense Forces"  # the analysts' entry, not Phoenix's


@pytest.mark.parametrize("text, mention, code", [
    ("China sent warships toward Taiwan.", "Taiwan", "TWN"),
    ("Protesters gathered in Manila on Friday.", "Manila", "PHL"),
    ("A Filipino crew was released.", "Filipino", "PHL"),
    ("Kenyan troops crossed the border.", "Kenyan troops", "KENMIL"),
    ("Al-Shabaab attacked a base in Somalia.", "Al-Shabaab", "SOMREB"),
])
def test_generated_names_resolve(resolver, text, mention, code):
    assert resolver(text).get(mention) == code


@pytest.mark.parametrize("text", [
    "Chad Smith scored twice on Saturday.",
    "Mali Jones and Victoria Beckham attended the show.",
    "The Niger Delta militants cut pipelines.",
    "A guinea pig escaped from the classroom.",
])
def test_ambiguous_words_do_not_resolve(resolver, text):
    assert resolver(text) == {}
