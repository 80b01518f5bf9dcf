"""The distribution installs every code folder as ``dmj.<folder>``, typed."""

from __future__ import annotations

import importlib
import tomllib
from pathlib import Path

import pytest

from tests.support import CODE_FOLDERS, REPO_ROOT


def setuptools_config() -> dict[str, object]:
    with (REPO_ROOT / "pyproject.toml").open("rb") as f:
        config: dict[str, object] = tomllib.load(f)["tool"]["setuptools"]
    return config


def test_every_package_folder_is_listed_in_pyproject() -> None:
    listed = set(setuptools_config()["packages"])  # type: ignore[call-overload]
    on_disk = {
        "dmj." + ".".join(init.parent.relative_to(REPO_ROOT).parts)
        for folder in CODE_FOLDERS
        for init in (REPO_ROOT / folder).rglob("__init__.py")
    }
    assert on_disk == listed


@pytest.mark.parametrize("folder", CODE_FOLDERS)
def test_each_code_folder_imports_as_dmj_namespace_and_is_typed(folder: str) -> None:
    module = importlib.import_module(f"dmj.{folder}")
    assert module.__file__ is not None
    assert (REPO_ROOT / folder / "py.typed").is_file()
    assert module.__doc__, f"dmj.{folder} needs a docstring saying what it holds"


@pytest.mark.parametrize("folder", CODE_FOLDERS)
def test_dmj_packages_resolve_to_the_checkout_so_new_modules_need_no_reinstall(
    folder: str,
) -> None:
    """Editable install: ``dmj.<folder>`` searches the repo folder itself, not a copy."""
    module = importlib.import_module(f"dmj.{folder}")
    assert [Path(p).resolve() for p in module.__path__] == [REPO_ROOT / folder]
