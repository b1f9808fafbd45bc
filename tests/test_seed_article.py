"""The real seed article (../shared/seeds, 2024-11-01): the signals its story is about."""

from __future__ import annotations

from engine.nlp.lexicon import load_actors
from engine.paths import ACTORS_FILE


def _rows(signals, **conditions):
    mask = True
    for column, value in conditions.items():
        if isinstance(value, set):
            mask = mask & signals[column].isin(value)
        else:
            mask = mask & (signals[column] == value)
    return signals[mask]


def test_iran_plans_attack_on_israel_from_iraq(seed_article_signals):
    rows = _rows(seed_article_signals, source={"IRN", "IRNMIL"}, target="ISR", signal={"ATTACK", "MOBILIZE"},
                 status="planned", location="IRQ")
    assert len(rows) >= 2
    assert not rows["negated"].any()


def test_israel_struck_iran(seed_article_signals):
    rows = _rows(seed_article_signals, source="ISR", target="IRN", signal="ATTACK", status="past")
    assert len(rows) == 1 and not rows.iloc[0]["hypothetical"]


def test_irgc_arms_militias(seed_article_signals):
    assert len(_rows(seed_article_signals, source="IRNMIL", target="IRQUAF", signal="MOBILIZE")) == 1


def test_militia_attacks_on_us_ongoing(seed_article_signals):
    actors = load_actors(ACTORS_FILE)
    rows = _rows(seed_article_signals, source="IRQUAF", signal="ATTACK", status="ongoing")
    assert any(actors.country_of(t) == "USA" for t in rows["target"])


def test_factions_threaten_israel(seed_article_signals):
    rows = _rows(seed_article_signals, source="IRQUAF", target="ISR", signal="THREATEN")
    assert len(rows) == 1 and rows.iloc[0]["reported_by"] == "IRQUAF"


def test_us_warning_to_iraq(seed_article_signals):
    rows = _rows(seed_article_signals, source={"USA", "USAGOV"}, target={"IRQ", "IRQGOV"},
                 signal={"THREATEN", "DEMAND"})
    assert {"THREATEN", "DEMAND"} <= set(rows["signal"])


def test_israel_striking_iraq_is_hypothetical(seed_article_signals):
    rows = _rows(seed_article_signals, source="ISR", target="IRQ", signal="ATTACK")
    assert len(rows) == 1
    row = rows.iloc[0]
    assert row["hypothetical"] and not row["negated"] and row["reported_by"] == "USAGOV"
    assert "If you don't" in row["sentence"]


def test_deescalation_from_us_and_iraq(seed_article_signals):
    rows = _rows(seed_article_signals, signal="DEESCALATE")
    actors = load_actors(ACTORS_FILE)
    countries = {actors.country_of(s) for s in rows["source"]}
    assert {"USA", "IRQ"} <= countries


def test_evidence_spans_point_into_the_text(seed_article_signals):
    from tests.conftest import shared_path

    text = next(shared_path("seeds").glob("*.txt")).read_text().strip()
    for row in seed_article_signals.itertuples():
        assert text[row.start_char:row.end_char] == row.trigger
        assert text[row.sent_start:row.sent_end] == row.sentence


def test_event_date_read_from_text(seed_article_signals):
    dated = _rows(seed_article_signals, source="ISR", signal="ATTACK", date="2024-10-25")
    assert len(dated) == 1 and "Oct. 25" in dated.iloc[0]["sentence"]
