"""The classifier's features from the dyad-event table, checked against numbers worked out by hand:
weights against the window's whole volume, shares of sums, the reverse direction and third parties;
no window may see a later window; repeating every event changes nothing."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engine.model.features import FEATURES, N_MIN, SCALE, build_features

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


def _unit(n_events: float, recent: float) -> float:
    """The weight's unit for a span with ``n_events`` events a window (all pairs), in an input with
    ``recent`` events in its last LONG windows: N * max(1, N_MIN / recent) / SCALE."""
    return n_events * max(1.0, N_MIN / recent) / SCALE


def test_weights_are_against_the_window_s_whole_volume():
    """weight(x) = x / (x + N / SCALE): x the pair's count (its mean over the span), N the events of all
    pairs per window (its mean over the same span); this input holds more than N_MIN events."""
    rows = ([("A", "B", 0, "ATTACK")] * 3 + [("A", "B", 0, "DEMAND")] + [("C", "D", 0, "DEMAND")] * 3996
            + [("C", "D", 1, "DEMAND")] * 50 + [("A", "B", 2, "THREATEN")] + [("C", "D", 2, "DEMAND")] * 4949)
    f = _features(_events(rows), pairs=[("A", "B")])
    week = lambda w: f.loc[("A", "B", WEEKS[w])]  # noqa: E731
    assert week(0)["conflict_weight"] == pytest.approx(3 / (3 + 4000 / SCALE))
    assert week(0)["pair_weight"] == pytest.approx(4 / (4 + 4000 / SCALE))
    assert week(0)["hostile_weight"] == pytest.approx(3 / (3 + 4000 / SCALE))
    assert week(1)["conflict_weight"] == 0.0 and week(1)["pair_weight"] == 0.0  # silent this week
    assert week(1)["hostile_weight_long"] == pytest.approx(1.5 / (1.5 + 2025 / SCALE))
    # over the last k (here 2 of 4 possible) windows: means of the pair's counts against means of N
    assert week(1)["conflict_weight_k"] == pytest.approx(1.5 / (1.5 + (4000 + 50) / 2 / SCALE))
    assert week(2)["hostile_weight_k"] == pytest.approx(4 / 3 / (4 / 3 + 9000 / 3 / SCALE))
    assert week(2)["conflict_weight_long"] == pytest.approx(1 / (1 + 9000 / 3 / SCALE))
    # shares are of sums over the span: a silent window is no evidence, not "no conflict"
    assert week(1)["conflict_share_k"] == pytest.approx(3 / 4)
    assert week(2)["conflict_share_k"] == pytest.approx(3 / 5) and week(2)["hostile_share_long"] == pytest.approx(4 / 5)
    # the pair's last 4 windows against its long run (here the same span: 0)
    assert week(2)["volume_trend"] == pytest.approx(0.0)


def test_a_small_corpus_is_read_as_an_ice_week_at_least():
    """An input of fewer than N_MIN events is read as holding N_MIN: one attack in a two-signal input
    weighs what one event weighs in an ICEWS week, not "all the news"."""
    f = _features(_events([("A", "B", 0, "ATTACK"), ("B", "A", 0, "THREATEN"), ("B", "A", 1, "THREATEN")]))
    assert f.loc[("A", "B", WEEKS[0]), "conflict_weight"] == pytest.approx(1 / (1 + N_MIN / SCALE))
    assert f.loc[("B", "A", WEEKS[0]), "hostile_weight_long"] == pytest.approx(1 / (1 + N_MIN / SCALE))
    # week 1: 3 events so far, read as N_MIN; this week holds a third of them, the last 2 weeks 1.5 a week
    assert f.loc[("B", "A", WEEKS[1]), "hostile_weight"] == pytest.approx(1 / (1 + _unit(1, 3)))
    assert f.loc[("B", "A", WEEKS[1]), "hostile_weight_k"] == pytest.approx(1 / (1 + _unit(1.5, 3)))
    assert _unit(1, 3) == pytest.approx(N_MIN / 3 / SCALE)


def test_volume_trend_compares_the_last_k_windows_with_the_long_run():
    rows = [("A", "B", w, "DEMAND") for w in range(5) for _ in range(2)] + [("A", "B", 5, "DEMAND")] * 12
    f = _features(_events(rows), k=2)
    recent, longrun = (2 + 12) / 2, (5 * 2 + 12) / 6  # k = 2 windows, and the 6 windows seen
    expected = np.log((recent + _unit(recent, 22)) / (longrun + _unit(longrun, 22)))
    assert f.loc[("A", "B", WEEKS[5]), "volume_trend"] == pytest.approx(expected)
    assert f.loc[("A", "B", WEEKS[5]), "volume_trend"] > 0  # louder than its own long run


def test_no_window_sees_its_own_or_a_later_window_in_its_history():
    base = [("A", "B", 0, "ATTACK"), ("A", "B", 1, "THREATEN"), ("B", "A", 2, "ATTACK"), ("A", "B", 4, "ATTACK")]
    base += [("C", "D", w, "DEMAND") for w in range(5) for _ in range(20)]  # the rest of the news, steady
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


def test_the_reverse_direction_and_the_dyad():
    rows = ([("A", "B", 0, "ATTACK")] * 2 + [("B", "A", 0, "THREATEN")] * 4 + [("B", "A", 1, "ATTACK")]
            + [("A", "B", 1, "DEMAND")] * 3)
    f = _features(_events(rows))
    unit = _unit(5, 10)  # a small input: 10 events read as N_MIN
    row = f.loc[("A", "B", WEEKS[1])]
    assert row["rev_conflict_weight_k"] == pytest.approx(0.5 / (0.5 + unit))  # B->A: one attack in 2 weeks
    assert row["rev_hostile_weight_long"] == pytest.approx(2.5 / (2.5 + unit))
    assert row["dyad_hostile_weight_long"] == pytest.approx(3.5 / (3.5 + unit))  # 2 + 4 + 1 hostile
    assert f.loc[("B", "A", WEEKS[1]), "rev_conflict_weight_k"] == pytest.approx(1 / (1 + unit))


def test_attack_history_negation_and_hypothetical():
    rows = ([("A", "B", 0, "ATTACK")] + [("A", "B", 0, "THREATEN")] * 3
            + [("A", "B", 1, "ATTACK", {"hypothetical": True})] + [("A", "B", 1, "DEMAND")]
            + [("A", "B", 2, "ATTACK", {"negated": True})] + [("A", "B", 3, "DEMAND")])
    f = _features(_events(rows))
    week = lambda w: ("A", "B", WEEKS[w])  # noqa: E731
    # a hypothetical attack is hostile but no material conflict; a negated one is no signal at all
    assert f.loc[week(1), "conflict_weight"] == 0.0 and f.loc[week(1), "hostile_weight"] > 0
    assert f.loc[week(2), "pair_weight"] == 0.0
    # attack in week 0 only: windows since then, and the 4-window rate (the baselines, not features)
    assert [f.loc[week(w), "since_attack"] for w in range(4)] == [0, 1, 2, 3]
    assert [f.loc[week(w), "attack_rate"] for w in range(4)] == pytest.approx([1, 1 / 2, 1 / 3, 1 / 4])
    # label: an attack in the next window
    assert f.loc[week(0), "label"] == 0.0
    assert not {"attack_rate", "since_attack", "n"} & set(FEATURES)


def test_third_parties_and_the_neighbourhood():
    # C attacks B twice and talks to it twice (week 0); A->B only threatens; D->A is one attack
    rows = ([("A", "B", 0, "THREATEN")] * 2 + [("C", "B", 0, "ATTACK")] * 2 + [("C", "B", 0, "DEMAND")] * 2
            + [("D", "A", 0, "ATTACK")] + [("A", "C", 0, "DEMAND")] * 3 + [("A", "C", 0, "ATTACK")])
    f = _features(_events(rows), pairs=[("A", "B")])
    row = f.loc[("A", "B", WEEKS[0])]
    unit = _unit(11, 11)
    assert row["others_on_target"] == pytest.approx(2 / 4)  # C->B: 2 attacks of 4
    assert row["others_on_source"] == pytest.approx(1.0)  # D->A: 1 of 1
    assert row["others_on_target_weight_k"] == pytest.approx(2 / (2 + unit))
    assert row["others_on_source_weight_long"] == pytest.approx(1 / (1 + unit))
    assert row["hostile_on_target_weight_long"] == pytest.approx(2 / (2 + unit))  # C's attacks; A's threats excluded
    assert row["pair_weight"] == pytest.approx(2 / (2 + unit))
    # every event counts for the window's volume, also those of pairs not asked for
    big = _features(_events(rows + [("E", "F", 0, "DEMAND")] * 3989), pairs=[("A", "B")]).loc[("A", "B", WEEKS[0])]
    assert big["pair_weight"] == pytest.approx(2 / (2 + 4000 / SCALE))
    # the neighbourhood: every signal with A or B at either end but A<->B: C->B 4, D->A 1, A->C 4
    assert row["region_weight_k"] == pytest.approx(9 / (9 + unit))


def test_features_do_not_read_corpus_size():
    """Repeating every event (a corpus 10 times larger) leaves every feature exactly unchanged in windows
    of at least N_MIN events; a smaller corpus is read with caution (its weights grow when repeated)."""
    rows = ([("A", "B", w, "ATTACK") for w in (0, 2, 3)] + [("A", "B", w, "THREATEN") for w in range(5)]
            + [("B", "A", w, "DEMAND") for w in (1, 3)] + [("C", "B", 2, "ATTACK"), ("A", "C", 4, "DEESCALATE")])
    news = [("E", "F", w, "DEESCALATE") for w in range(5) for _ in range(int(N_MIN))]  # the rest of the news
    events = _events(rows + news)
    once = build_features(events, "week", pairs=[("A", "B"), ("B", "A")])
    tenfold = build_features(pd.concat([events] * 10, ignore_index=True), "week", pairs=[("A", "B"), ("B", "A")])
    pd.testing.assert_frame_equal(once[FEATURES], tenfold[FEATURES])
    assert (tenfold["n"] == 10 * once["n"]).all()  # the count itself is not a feature
    small = build_features(_events(rows), "week")
    small_tenfold = build_features(pd.concat([_events(rows)] * 10, ignore_index=True), "week")
    assert (small_tenfold["pair_weight"] >= small["pair_weight"]).all()
    assert (small_tenfold["pair_weight"] > small["pair_weight"]).any()


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
