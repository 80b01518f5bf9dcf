"""``dmj sandbox world``: writes a ready sandbox directory."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from dmj.cli import app
from dmj.sandbox import load_world
from typer.testing import CliRunner

runner = CliRunner()


def test_world_writes_world_package_launcher_and_token(tmp_path: Path) -> None:
    out = tmp_path / "sbx"
    result = runner.invoke(
        app, ["sandbox", "world", "--out", str(out), "--users", "5", "--seed", "7"]
    )
    assert result.exit_code == 0, result.output
    world = load_world(out / "world.json")
    assert result.output.splitlines()[0] == (
        f"Wrote a sandbox world (seed 7): 5 users, {len(world.channels)} channels, "
        f"{sum(c.message_count for c in world.channels)} messages."
    )
    assert f"Next: dmj sandbox serve --world {out / 'world.json'}" in result.output
    assert (out / "package" / "Messages" / "index.json").is_file()
    assert (out / "token").read_text() == world.token + "\n"
    assert stat.S_IMODE((out / "token").stat().st_mode) == 0o600
    launcher = out / "dce" / "DiscordChatExporter.Cli"
    assert os.access(launcher, os.X_OK)
    assert launcher.read_text().startswith("#!/bin/sh\n")


def test_world_writes_a_zip_in_the_chosen_layout_and_replaces_an_earlier_package(
    tmp_path: Path,
) -> None:
    out = tmp_path / "sbx"
    assert runner.invoke(app, ["sandbox", "world", "--out", str(out)]).exit_code == 0
    result = runner.invoke(
        app, ["sandbox", "world", "--out", str(out), "--zip", "--layout", "2020"]
    )
    assert result.exit_code == 0, result.output
    assert (out / "package.zip").is_file()
    assert not (out / "package").exists()


def test_world_refuses_a_non_empty_directory_that_is_not_a_sandbox(tmp_path: Path) -> None:
    (tmp_path / "precious.txt").write_text("keep me")
    result = runner.invoke(app, ["sandbox", "world", "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "is not empty and holds no sandbox world.json" in result.output
    assert (tmp_path / "precious.txt").read_text() == "keep me"


def test_world_groups_option_overrides_the_default(tmp_path: Path) -> None:
    result = runner.invoke(app, ["sandbox", "world", "--out", str(tmp_path / "s"), "--groups", "5"])
    assert result.exit_code == 0, result.output
    world = load_world(tmp_path / "s" / "world.json")
    assert sum(c.type == 3 for c in world.channels) == 5
