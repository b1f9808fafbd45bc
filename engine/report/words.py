"""Words for codes: actor names from the run's actor dictionary, signal types, statuses and the
classifier's features as phrases a reader understands. The report shows these first and the codes in
small type or on hover.

``FEATURE_PHRASES`` must name every feature of ``engine.model.features.FEATURES`` (a test checks), so
a new feature cannot reach the report as a bare column name.
"""

from __future__ import annotations

import re

from engine.schemas import SIGNAL_TYPES

# signal type -> (singular noun, plural noun)
SIGNAL_WORDS: dict[str, tuple[str, str]] = {
    "THREATEN": ("threat", "threats"),
    "MOBILIZE": ("mobilisation", "mobilisations"),
    "ATTACK": ("attack", "attacks"),
    "DEMAND": ("demand or accusation", "demands and accusations"),
    "DEESCALATE": ("de-escalation step", "de-escalation steps"),
}
assert set(SIGNAL_WORDS) == set(SIGNAL_TYPES), "every signal type needs words"

STATUS_WORDS = {"past": "happened", "ongoing": "under way", "planned": "planned", "unknown": "status unclear"}

WINDOW_WORDS = {"day": ("day", "days"), "week": ("week", "weeks"), "month": ("month", "months")}

# {w}: the window word ("week"), {ws}: its plural. Per-type features are written out for every type.
FEATURE_PHRASES: dict[str, str] = {
    **{f"n_{t}": f"{p} this {{w}}" for t, (_, p) in SIGNAL_WORDS.items()},
    **{f"rev_{t}": f"{p} the other way this {{w}}" for t, (_, p) in SIGNAL_WORDS.items()},
    **{f"avg_{t}": f"{p} in the previous 4 {{ws}}" for t, (_, p) in SIGNAL_WORDS.items()},
    # the share-based features (engine/model/features.py)
    **{f"share_{t}": f"share of {p} this {{w}}" for t, (_, p) in SIGNAL_WORDS.items()},
    **{f"rev_share_{t}": f"share of {p} the other way this {{w}}" for t, (_, p) in SIGNAL_WORDS.items()},
    "conflict_share": "share of armed attacks this {w}",
    "conflict_share_k": "share of armed attacks in the last 4 {ws}",
    "conflict_share_all": "share of armed attacks in the pair's whole history",
    "conflict_share_long": "share of armed attacks over the pair's longer past",
    "conflict_weight_long": "weight of armed attacks over the pair's longer past",
    "rev_conflict_k": "share of armed attacks the other way in the last 4 {ws}",
    "rev_conflict_share": "share of armed attacks the other way this {w}",
    "hostile_trend": "rise in the share of hostile signals against the previous 4 {ws}",
    "rel_volume": "surge in the pair's signals against the previous 4 {ws}",
    "rev_rel_volume": "surge in signals the other way against the previous 4 {ws}",
    "pair_weight": "how loud the pair is in this {w}'s news",
    "pair_weight_k": "how loud the pair is in the last 4 {ws}' news",
    "rev_pair_weight": "how loud the other direction is in this {w}'s news",
    "conflict_weight": "weight of armed attacks in this {w}'s news",
    "conflict_weight_all": "weight of armed attacks in the pair's whole history",
    "rev_conflict_weight": "weight of armed attacks the other way in this {w}'s news",
    "target_conflict_weight": "weight of armed attacks on the target in this {w}'s news",
    "source_conflict_weight": "weight of armed attacks on the source in this {w}'s news",
    "others_on_target": "attacks by others on the target",
    "others_on_source": "attacks by others on the source",
    "source_on_others": "the source's attacks on others",
    "region_rel": "the neighbourhood heating up against the previous 4 {ws}",
    "region_weight": "the neighbourhood's share of the news against the previous 4 {ws}",
    # the weights against the window's whole volume (engine/model/features.py, issue 14)
    "conflict_weight_k": "weight of armed attacks in the last 4 {ws}' news",
    "conflict_weight_mid": "weight of armed attacks in the last 13 {ws}' news",
    "hostile_weight": "weight of hostile signals in this {w}'s news",
    "hostile_weight_k": "weight of hostile signals in the last 4 {ws}' news",
    "hostile_weight_long": "weight of hostile signals over the pair's longer past",
    "negative_weight_long": "weight of hostile signals and demands over the pair's longer past",
    "pair_weight_long": "how loud the pair is over its longer past",
    "volume_trend": "the pair louder or quieter in the last 4 {ws} than over its longer past",
    "hostile_share_long": "share of hostile signals over the pair's longer past",
    "rev_conflict_weight_k": "weight of armed attacks the other way in the last 4 {ws}' news",
    "rev_conflict_weight_long": "weight of armed attacks the other way over the longer past",
    "rev_hostile_weight_long": "weight of hostile signals the other way over the longer past",
    "dyad_hostile_weight_long": "weight of hostile signals both ways over the longer past",
    "others_on_target_weight_k": "weight of attacks by others on the target in the last 4 {ws}",
    "others_on_target_weight_long": "weight of attacks by others on the target over the longer past",
    "others_on_source_weight_k": "weight of attacks by others on the source in the last 4 {ws}",
    "others_on_source_weight_long": "weight of attacks by others on the source over the longer past",
    "hostile_on_target_weight_long": "weight of hostile signals by others on the target over the longer past",
    "region_weight_k": "how loud the neighbourhood is in the last 4 {ws}' news",
    "n": "signals this {w}",
    "w_hostile": "weight of hostile signals this {w}",
    "reciprocity": "hostility in both directions",
    "trend": "rise in hostile signals against the previous 4 {ws}",
    "hypo_share": "share of hypothetical or planned signals",
    "proxy_share": "share of signals raised by a proxy",
    "attack_rate": "attacks in the last 4 {ws}",
    "since_attack": "{ws} since the last attack",
    "rules_score": "the rules score",
}

_MODEL_TERM = re.compile(r"model: (\w+) ([+-]?\d+(?:\.\d+)?)")


def feature_phrase(name: str, window: str = "week") -> str:
    """A feature as a phrase ("attacks in the last 4 weeks"); an unknown name with spaces for underscores."""
    one, many = WINDOW_WORDS.get(window, (window, window + "s"))
    phrase = FEATURE_PHRASES.get(name)
    return phrase.format(w=one, ws=many) if phrase else name.replace("_", " ")


def model_terms(top_drivers: str) -> list[tuple[str, float]]:
    """The classifier's terms named in a pair's ``top_drivers`` ("model: avg_ATTACK +0.60")."""
    return [(name, float(value)) for name, value in _MODEL_TERM.findall(top_drivers or "")]


def signal_word(code: str, plural: bool = False) -> str:
    words = SIGNAL_WORDS.get(code)
    return (words[1] if plural else words[0]) if words else code.lower()


class Names:
    """Actor code -> name, from the run's actor dictionary (``RunConfig.actors``, never the shipped
    defaults). A code the dictionary does not know is shown as itself."""

    def __init__(self, actors):
        self.actors = actors

    def __call__(self, code: str) -> str:
        if not code:
            return "unknown actor"
        actor = self.actors.get(code) if self.actors is not None else None
        return actor.name if actor and actor.name else code
