"""Golden files: compared byte for byte, rewritten only with ``DMJ_REGEN_GOLDEN=1``."""

from __future__ import annotations

import os
import shutil

from tests.support import REPO_ROOT

GOLDEN = REPO_ROOT / "tests" / "golden" / "projections"


def assert_golden_tree(name: str, files: dict[str, bytes]) -> None:
    """``files`` (relative path → bytes) must be exactly the golden tree ``name``."""
    root = GOLDEN / name
    if os.environ.get("DMJ_REGEN_GOLDEN") == "1":
        shutil.rmtree(root, ignore_errors=True)
        for relative, data in files.items():
            (root / relative).parent.mkdir(parents=True, exist_ok=True)
            (root / relative).write_bytes(data)
    on_disk = {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }
    assert sorted(on_disk) == sorted(files), f"golden tree {name}: files differ"
    for relative, data in files.items():
        assert data.decode() == on_disk[relative].decode(), (
            f"{relative} differs from tests/golden/projections/{name}/{relative}; if the change "
            "is intended, rerun with DMJ_REGEN_GOLDEN=1 and review the diff"
        )


def assert_golden_text(name: str, text: str, *, area: str = "projections") -> None:
    """``text`` must equal the golden file ``tests/golden/<area>/<name>``."""
    path = GOLDEN.parent / area / name
    if os.environ.get("DMJ_REGEN_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), (
        f"output differs from tests/golden/{area}/{name}; if intended, rerun with "
        "DMJ_REGEN_GOLDEN=1 and review the diff"
    )


def assert_golden_bytes(name: str, data: bytes, *, area: str) -> None:
    """``data`` must equal ``tests/golden/<area>/<name>`` byte for byte (no newline
    translation: a CR inside an exported message is part of what is checked)."""
    path = GOLDEN.parent / area / name
    if os.environ.get("DMJ_REGEN_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    assert data.decode() == path.read_bytes().decode(), (
        f"output differs from tests/golden/{area}/{name}; if intended, rerun with "
        "DMJ_REGEN_GOLDEN=1 and review the diff"
    )
