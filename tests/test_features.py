"""The classifier's features from the dyad-event table, checked against numbers worked out by hand:
no window may see its own or a later window in its history features, reciprocity and the shares."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engine.model.features import FEATURES, build_features

WEEKS = pd.date_range("2024-01-01", periods=6, freq="W-MON")  # Mondays


def _events(rows):
    """rows: (source, target, week index, signal, extra dict)."""
    out = []
    for i, (source, target, week, signal, *extra) in enumerate(rows):
        row = {"date": WEEKS[week] + pd.Timedelta(days=2), "source": source, "target": target, "source_fine": source,
               "target_fine": target, "signal": signal, "cameo": {"ATTACK": "190"}.get(signal, "130"),
               "intensity": 0.5, "confidence": 1.0, "negated": False, "hypothetical": False, "proxy": False,
               "origin": f"e{i}"}
        row.update(extra[0] if extra else {})
        out.append(row)
    return pd.DataFrame(out)


def _features(events, **kwargs):
    rows = build_features(events, "week", **kwargs)
    return rows.set_index(["source", "target", "window_start"])


def test_history_features_exclude_the_current_and_later_windows():
    # A->B: attacks (CAMEO 190) and demands; the k-window conflict share is sum(conflict) / sum(signals)
    counts = {0: (1, 1), 1: (3, 0), 2: (0, 2), 3: (7, 1)}  # week: (attacks, demands)
    rows = ([("A", "B", w, "ATTACK") for w, (a, _) in counts.items() for _ in range(a)]
            + [("A", "B", w, "DEMAND") for w, (_, d) in counts.items() for _ in range(d)] + [("A", "B", 5, "THREATEN")])
    f = _features(_events(rows))
    attacks = {w: a for w, (a, _) in counts.items()} | {4: 0, 5: 0}
    totals = {w: a + d for w, (a, d) in counts.items()} | {4: 0, 5: 1}
    for week in range(6):
        span = range(max(0, week - 3), week + 1)  # t-3 .. t
        expected = sum(attacks[w] for w in span) / sum(totals[w] for w in span)
        assert f.loc[("A", "B", WEEKS[week]), "conflict_share_k"] == pytest.approx(expected), week
    # rel_volume: n(t) / (n(t) + mean n over the previous (up to) 4 windows)
    past = np.mean([totals[w] for w in range(3)])
    assert f.loc[("A", "B", WEEKS[3]), "rel_volume"] == pytest.approx(8 / (8 + past))
    assert f.loc[("A", "B", WEEKS[0]), "rel_volume"] == pytest.approx(1.0)  # no past: all new
    # hostile trend: hostile share now minus over the previous windows (weeks 0-2: 4 attacks of 7 signals)
    assert f.loc[("A", "B", WEEKS[3]), "hostile_trend"] == pytest.approx(7 / 8 - 4 / 7)


def test_no_window_sees_its_own_or_a_later_window_in_its_history():
    base = [("A", "B", 0, "ATTACK"), ("A", "B", 1, "THREATEN"), ("B", "A", 2, "ATTACK"), ("A", "B", 4, "ATTACK")]
    before = _features(_events(base))
    for week in range(5):
        more = _features(_events(base + [("A", "B", week, "ATTACK")] * 5 + [("A", "B", week, "MOBILIZE")] * 5))
        for w in range(week):  # every window before the changed one: nothing moves
            key = ("A", "B", WEEKS[w])
            pd.testing.assert_series_equal(before.loc[key, FEATURES], more.loc[key, FEATURES], check_names=False)
        if week < 4:
            later = ("A", "B", WEEKS[week + 1])
            # the next window does see it (k-window and long-run features)
            assert not np.allclose(more.loc[later, FEATURES].astype(float), before.loc[later, FEATURES].astype(float))


def test_reciprocity_is_min_over_max_of_hostile_counts_both_ways():
    rows = ([("A", "B", 0, "ATTACK")] * 2 + [("B", "A", 0, "THREATEN")] * 4
            + [("A", "B", 1, "ATTACK")] * 3 + [("B", "A", 1, "DEMAND")] * 2)
    f = _features(_events(rows))
    assert f.loc[("A", "B", WEEKS[0]), "reciprocity"] == pytest.approx(0.5)  # min(2, 4) / max(2, 4)
    assert f.loc[("B", "A", WEEKS[0]), "reciprocity"] == pytest.approx(0.5)
    assert f.loc[("A", "B", WEEKS[1]), "reciprocity"] == 0.0  # B's demands are not hostile: one side silent
    assert f.loc[("B", "A", WEEKS[1]), "rev_share_ATTACK"] == 1.0 and f.loc[("B", "A", WEEKS[1]), "share_DEMAND"] == 1.0


def test_shares_and_attack_history():
    rows = ([("A", "B", 0, "ATTACK", {"proxy": True})] + [("A", "B", 0, "THREATEN")] * 3
            + [("A", "B", 1, "THREATEN", {"hypothetical": True})] + [("A", "B", 1, "DEMAND")]
            + [("A", "B", 2, "ATTACK", {"negated": True})] + [("A", "B", 3, "DEMAND")])
    f = _features(_events(rows))
    week = lambda w: ("A", "B", WEEKS[w])  # noqa: E731
    assert f.loc[week(0), "proxy_share"] == pytest.approx(0.25)
    assert f.loc[week(1), "proxy_share"] == 0.0
    assert f.loc[week(1), "hypo_share"] == pytest.approx(0.5)
    assert (f.loc[week(0), "share_ATTACK"], f.loc[week(0), "share_THREATEN"]) == (0.25, 0.75)
    assert f.loc[week(0), "w_hostile"] == pytest.approx(0.5)  # mean intensity x confidence of hostile signals
    assert f.loc[week(0), "conflict_share"] == pytest.approx(0.25)
    # attack in week 0 only (the week-2 one is negated): windows since then, and the 4-window rate
    assert [f.loc[week(w), "since_attack"] for w in range(4)] == [0, 1, 2, 3]
    assert [f.loc[week(w), "attack_rate"] for w in range(4)] == pytest.approx([1, 1 / 2, 1 / 3, 1 / 4])
    # label: an attack in the next window
    assert f.loc[("A", "B", WEEKS[0]), "label"] == 0.0


def test_third_parties_and_the_neighbourhood():
    # C attacks B twice and talks to it twice (week 0); A->B only threatens; D->A is one attack
    rows = ([("A", "B", 0, "THREATEN")] * 2 + [("C", "B", 0, "ATTACK")] * 2 + [("C", "B", 0, "DEMAND")] * 2
            + [("D", "A", 0, "ATTACK")] + [("A", "C", 0, "DEMAND")] * 3 + [("A", "C", 0, "ATTACK")])
    f = _features(_events(rows), pairs=[("A", "B")])
    row = f.loc[("A", "B", WEEKS[0])]
    assert row["others_on_target"] == pytest.approx(2 / 4)  # C->B: 2 attacks of 4
    assert row["others_on_source"] == pytest.approx(1.0)  # D->A: 1 of 1
    assert row["source_on_others"] == pytest.approx(1 / 4)  # A->C: 1 of 4
    # every event counts for the window's volume, also those of pairs not asked for
    assert row["pair_weight"] == pytest.approx(2 / (2 + 11 / 4))  # 11 signals over 4 active pairs


def test_features_do_not_read_corpus_size():
    """Repeating every event (a corpus 10 times larger) leaves every feature exactly unchanged."""
    rows = ([("A", "B", w, "ATTACK") for w in (0, 2, 3)] + [("A", "B", w, "THREATEN") for w in range(5)]
            + [("B", "A", w, "DEMAND") for w in (1, 3)] + [("C", "B", 2, "ATTACK"), ("A", "C", 4, "DEESCALATE")])
    events = _events(rows)
    once = build_features(events, "week")
    tenfold = build_features(pd.concat([events] * 10, ignore_index=True), "week")
    pd.testing.assert_frame_equal(once[FEATURES], tenfold[FEATURES])
    assert (tenfold["n"] == 10 * once["n"]).all()  # the count itself is not a feature


def test_from_signals_rolls_up_to_countries(tmp_path):
    from engine.model.events import from_signals
    from engine.nlp.lexicon import load_actors

    actors = tmp_path / "actors.yaml"
    actors.write_text("roles: {MIL: [army]}\nactors:\n  - {code: AAA, name: A}\n  - {code: BBB, name: B}\n"
                      "  - {code: AAAUAF, name: A militia, parent: AAA, proxy_of: BBB}\n")
    signals = pd.DataFrame([
        {"signal_id": "s1", "date": "2024-01-03", "source": "AAAMIL", "target": "BBB", "signal": "ATTACK", "cameo": "190",
         "intensity": 0.9, "confidence": 0.8, "negated": False, "hypothetical": False, "status": "past"},
        {"signal_id": "s2", "date": "", "source": "AAAUAF", "target": "BBB", "signal": "THREATEN", "cameo": "138",
         "intensity": 0.5, "confidence": 0.7, "negated": False, "hypothetical": False, "status": "planned"},
        {"signal_id": "s3", "date": "2024-01-03", "source": "AAAMIL", "target": "AAA", "signal": "ATTACK", "cameo": "190",
         "intensity": 0.9, "confidence": 0.8, "negated": False, "hypothetical": False, "status": "past"},
        {"signal_id": "s4", "date": "2024-01-03", "source": "", "target": "BBB", "signal": "ATTACK", "cameo": "190",
         "intensity": 0.9, "confidence": 0.8, "negated": False, "hypothetical": False, "status": "past"},
    ])
    events = from_signals(signals, load_actors(actors), "2024-01-10")
    assert events["origin"].tolist() == ["s1", "s2"]  # inside one country, or no source: not a dyad
    assert events[["source", "target"]].values.tolist() == [["AAA", "BBB"], ["AAA", "BBB"]]
    assert events["date"].dt.strftime("%Y-%m-%d").tolist() == ["2024-01-03", "2024-01-10"]
    assert events["proxy"].tolist() == [False, True] and events["hypothetical"].tolist() == [False, True]
