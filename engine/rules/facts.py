"""Signals -> rule facts: one fact per (pair, window, type, mode, launch point) signal group.

Correlated sequences fire once per combination of facts, so signals are first aggregated into
groups (one fact each, with a count, the largest intensity, the mean confidence and the signal ids)
and a rule session is a pair of *units* (``session_of``).
"""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pandas as pd

from engine.actor_dictionary import ActorDictionary
from engine.windows import window_of

EPOCH = dt.date(1970, 1, 1)


def day_number(date: dt.date) -> int:
    return (date - EPOCH).days


_STATE_CODE = re.compile(r"^[A-Z]{3}$")
_CODES = re.compile(r"^[A-Z][A-Z0-9]{1,15}(;[A-Z][A-Z0-9]{1,15})*$")


def unit_kind(actors: ActorDictionary, unit: str) -> str:
    """The kind of a unit (``ActorDictionary.unit_of``): ``state`` (a country; its organs are its
    unit), ``armed_group`` (an actor with a country that is not itself: militias, proxies, ISIL),
    ``international`` (no country: UN, NATO), ``unknown``. A code the dictionary lacks is a state
    when it has three capital letters (ICEWS countries), otherwise unknown."""
    actor = actors.get(unit)
    if actor is None:
        return "state" if _STATE_CODE.match(unit) else "unknown"
    if not actor.country:
        return "international"
    return "state" if actor.country == unit and _STATE_CODE.match(unit) else "armed_group"


def reporter_tokens(reported_by: str, source_unit: str, target_unit: str, unit_of) -> list[str]:
    """What a signal's ``reported_by`` says for the rules' ``reported_by`` condition: ``none`` when
    it is empty; otherwise ``any`` plus, for actor codes, the codes and ``source`` / ``target`` /
    ``third-party`` (by unit), and for words ("reportedly", "officials") ``unnamed``."""
    if not reported_by:
        return ["none"]
    if not _CODES.match(reported_by):
        return ["any", "unnamed"]
    tokens = ["any"]
    for code in reported_by.split(";"):
        unit = unit_of(code)
        tokens += [code, "source" if unit == source_unit else "target" if unit == target_unit else "third-party"]
    return tokens


def signal_groups(signals: pd.DataFrame, actors: ActorDictionary, granularity: str = "week",
                  reference_date: dt.date | None = None) -> list[dict]:
    """Aggregate dyadic signals into one fact per (pair, window, type, mode, launch point)."""
    df = signals[(signals["source"] != "") & (signals["target"] != "")]
    if df.empty:
        return []
    ref = (reference_date or dt.date.today()).isoformat()
    dates = df["date"].to_numpy(dtype=object, copy=True)
    dates[dates == ""] = ref
    # dates repeat a lot: each distinct date's window and day number is computed once
    date_index, distinct = pd.factorize(dates)
    days = [dt.date.fromisoformat(d) for d in distinct]
    spans = [window_of(day, granularity) for day in days]
    negated, hypothetical = df["negated"].to_numpy(dtype=bool), df["hypothetical"].to_numpy(dtype=bool)
    status = df["status"].to_numpy(dtype=object)
    work = pd.DataFrame({
        "source": df["source"].to_numpy(dtype=object), "target": df["target"].to_numpy(dtype=object),
        "_wstart": np.array([s.isoformat() for s, _ in spans], dtype=object)[date_index],
        "_wend": np.array([e.isoformat() for _, e in spans], dtype=object)[date_index],
        "signal": df["signal"].to_numpy(dtype=object),
        # a signal's mode: negated wins over hypothetical, which wins over planned; the rest is actual
        "_mode": np.where(negated, "negated", np.where(hypothetical, "hypothetical",
                                                       np.where(status == "planned", "planned", "actual"))),
        "location": df["location"].to_numpy(dtype=object), "status": status,
        "_day": np.array([day_number(d) for d in days], dtype=np.int64)[date_index],
        "intensity": df["intensity"].to_numpy(dtype=float), "confidence": df["confidence"].to_numpy(dtype=float),
        "_reported_by": (df["reported_by"].fillna("").astype(str).to_numpy(dtype=object) if "reported_by" in df
                         else np.full(len(df), "", dtype=object)),
    })
    work["_weight"] = work["intensity"] * work["confidence"]
    keys = ["source", "target", "_wstart", "_wend", "signal", "_mode", "location"]
    grouped = work.groupby(keys, sort=True)
    groups = grouped.agg(
        count=("intensity", "size"), intensity=("intensity", "max"), confidence=("confidence", "mean"),
        weight=("_weight", "sum"), first_day=("_day", "min"), last_day=("_day", "max"),
    )
    # each group's signal ids in input order: rows sorted (stably) by group number, then cut
    group_of_row = grouped.ngroup().to_numpy()
    ids = df["signal_id"].astype(str).to_numpy(dtype=object)[np.argsort(group_of_row, kind="stable")]
    bounds = np.concatenate([[0], np.cumsum(groups["count"].to_numpy())])
    groups["signal_ids"] = [";".join(ids[a:b]) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    # the group's most frequent status, ties to the alphabetically first (as Series.mode does)
    status_names, status_of_row = np.unique(status.astype(str), return_inverse=True)
    tally = np.zeros((len(groups), len(status_names)), dtype=np.int64)
    np.add.at(tally, (group_of_row, status_of_row), 1)
    groups["status"] = status_names[tally.argmax(axis=1)].astype(object)
    # who reported the group's signals: the union of its signals' reporter tokens (reporter_tokens)
    said = work["_reported_by"].to_numpy(dtype=object)
    reporters_of_group: dict[int, list[str]] = {}  # groups whose signals were all stated as fact: none
    if (said != "").any():
        reporter_names, reporter_of_row = np.unique(said.astype(str), return_inverse=True)
        combined = np.unique(group_of_row.astype(np.int64) * len(reporter_names) + reporter_of_row)
        for g, r in zip((combined // len(reporter_names)).tolist(), (combined % len(reporter_names)).tolist(),
                        strict=True):
            reporters_of_group.setdefault(g, []).append(str(reporter_names[r]))
    groups = groups.reset_index()
    codes = set(groups["source"]) | set(groups["target"])
    country = {c: actors.country_of(c) or c for c in codes}
    unit = {c: actors.unit_of(c) for c in codes}
    kind = {u: unit_kind(actors, u) for u in set(unit.values())}
    patron = {c: actors.patron_of(c) for c in codes}
    end_day = {end.isoformat(): day_number(end) for _, end in spans}
    facts = []
    # plain lists: iterating pandas' Arrow-backed columns row by row is slow
    columns = [groups[c].tolist() for c in ["source", "target", "signal", "_mode", "status", "location", "count",
                                              "intensity", "confidence", "weight", "first_day", "last_day",
                                              "_wstart", "_wend", "signal_ids"]]
    for g, (source, target, signal, mode, status_, loc, count, intensity, confidence, weight, first_day, last_day,
            wstart, wend, ids) in enumerate(zip(*columns, strict=True)):
        src_country, tgt_country, src_patron = country[source], country[target], patron[source]
        reporters = (sorted({t for said in reporters_of_group[g]
                             for t in reporter_tokens(said, unit[source], unit[target], actors.unit_of)})
                     if g in reporters_of_group else ["none"])
        facts.append({
            "source": source, "target": target, "source_unit": unit[source], "target_unit": unit[target],
            "source_kind": kind[unit[source]], "target_kind": kind[unit[target]], "reporters": reporters,
            "source_country": src_country, "target_country": tgt_country, "source_patron": src_patron,
            "target_patron": patron[target], "source_is_proxy": bool(src_patron), "type": signal, "mode": mode,
            "negated": mode == "negated", "hypothetical": mode == "hypothetical", "status": status_,
            "location": loc,
            # launched from a state that is neither the target nor the attacker itself (a proxy
            # based in its host state counts: the host is exposed)
            "from_third_country": bool(loc) and loc != tgt_country and (loc != src_country or bool(src_patron)),
            "count": int(count), "intensity": float(intensity), "confidence": float(confidence),
            "weight": float(weight), "first_day": int(first_day), "last_day": int(last_day),
            "window_start": wstart, "window_end": wend, "window_end_day": end_day[wend],
            "signal_ids": ids, "id": len(facts),
        })
    return facts


def session_of(fact: dict) -> str:
    """A rule session is a pair of units (ActorDictionary.unit_of), in either order: sequences
    correlate A->B with B->A, and an organ of a state with the state (IRNMIL and IRN); an armed
    group or proxy stays itself (IRQUAF is not Iraq)."""
    first, second = sorted((fact["source_unit"], fact["target_unit"]))
    return f"{first}|{second}"


# the fact fields compiled conditions read (compile_condition, compile_rule), plus the fact's id
