"""The signals table's schema catches bad rows and names each one."""

from __future__ import annotations

import pytest

from engine.errors import TableValidationError
from engine.nlp.extract import extract_signals
from engine.schemas import SignalsTable, validate


def test_extract_signals_api_returns_valid_table():
    table = extract_signals(["Iran warned Israel on Monday."], date="2024-11-04")
    assert table[["source", "signal", "target"]].values.tolist() == [["IRN", "THREATEN", "ISR"]]
    assert table.iloc[0]["date"] == "2024-11-04"


def test_corrupted_signals_table_lists_every_bad_row():
    table = extract_signals(["Iran warned Israel.", "Israel struck Iran."], date="2024-11-04")
    bad = table.copy()
    bad.loc[0, "signal"] = "SHOUT"
    bad.loc[1, "target"] = bad.loc[1, "source"]
    bad.loc[1, "confidence"] = 1.7
    with pytest.raises(TableValidationError) as info:
        validate(SignalsTable, bad, "signals")
    text = "\n".join(info.value.problems)
    assert "row 0: column 'signal'" in text and "SHOUT" in text
    assert "row 1: column 'confidence'" in text
    assert "row 1: row check failed: source and target must differ" in text


def test_dataframe_input():
    import pandas as pd

    frame = pd.DataFrame({"id": ["x"], "text": ["Hezbollah fired rockets at Israel."], "date": ["2024-11-02"]})
    table = extract_signals(frame)
    assert table[["doc_id", "source", "signal", "target"]].values.tolist() == [["x", "LBNHEZ", "ATTACK", "ISR"]]
