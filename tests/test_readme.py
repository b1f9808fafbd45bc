"""The README's Python example runs and gives what it says."""

from __future__ import annotations

import re

from tests.conftest import REPO


def test_readme_python_example(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the example writes a report folder
    text = (REPO / "README.md").read_text()
    block = re.search(r"```python\n(.*?)```", text, re.S).group(1)
    namespace: dict = {}
    exec(compile(block, "README.md", "exec"), namespace)  # our own README, not user input
    assert namespace["signals"][["source", "signal", "target"]].values.tolist() == [["IRN", "THREATEN", "ISR"]]
    assert namespace["result"].ranked().iloc[0][["source", "target"]].tolist() == ["IRN", "ISR"]
    assert (tmp_path / "reports" / "api" / "index.html").exists()
