"""docs/journal-format.md stays true: its example is real and its verifier works."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

from dmj.journal import MAGIC

from tests.support import REPO_ROOT

DOC = (REPO_ROOT / "docs" / "journal-format.md").read_text(encoding="utf-8")
GOLDEN = REPO_ROOT / "tests" / "golden" / "journal" / "example.jsonl"


def fenced(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DOC, flags=re.DOTALL)


def test_the_example_is_the_start_of_the_golden_journal() -> None:
    (example,) = fenced("jsonl")
    lines = example.encode().splitlines(keepends=True)
    assert lines == GOLDEN.read_bytes().splitlines(keepends=True)[: len(lines)]


def test_the_documented_verifier_finds_damaged_and_torn_lines(tmp_path: Path) -> None:
    (verifier,) = fenced("python")
    namespace: dict[str, object] = {}
    exec(verifier, namespace)  # the documentation's own code, run as written
    assert namespace["MAGIC"] == MAGIC
    damaged_lines: Callable[[Path], Iterator[int]] = namespace["damaged_lines"]  # type: ignore[assignment]
    assert list(damaged_lines(GOLDEN)) == []
    lines = GOLDEN.read_bytes().splitlines(keepends=True)
    lines[1] = lines[1].replace(b'"batch":0', b'"batch":1')
    lines[-1] = lines[-1][:-5]
    (tmp_path / "journal.jsonl").write_bytes(b"".join(lines))
    assert list(damaged_lines(tmp_path / "journal.jsonl")) == [2, len(lines)]
