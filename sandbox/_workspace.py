"""A sandbox on disk: ``world.json``, the data package, the DCE launcher and the token.

This is what ``dmj sandbox world --out DIR`` writes and what ``dmj sandbox serve --world``
reads::

    DIR/world.json                     the world (``World``), byte-identical for a seed
    DIR/world.state.json               the emulator's opened/closed DMs (after ``serve``)
    DIR/package/ or DIR/package.zip    the data package in the chosen layout
    DIR/dce/DiscordChatExporter.Cli    launcher of the DCE stand-in (``--dce DIR/dce``)
    DIR/token                          the account's token, one line
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from pathlib import Path

import msgspec
from dmj.machine.errors import UsageError

from ._build import build_world
from ._package import LAYOUTS, Layout, write_package
from ._world import World, WorldSpec

__all__ = [
    "DCE_EXECUTABLE",
    "Sandbox",
    "create_sandbox",
    "load_world",
    "save_world",
    "state_file_for",
    "write_dce_launcher",
]

DCE_EXECUTABLE = "DiscordChatExporter.Cli"
_decoder = msgspec.json.Decoder(World)


class Sandbox(msgspec.Struct, frozen=True, kw_only=True):
    """A world written under ``root``, and where each of its files is."""

    root: Path
    world: World
    package: Path

    @property
    def world_file(self) -> Path:
        return self.root / "world.json"

    @property
    def state_file(self) -> Path:
        return state_file_for(self.world_file)

    @property
    def dce_dir(self) -> Path:
        return self.root / "dce"

    @property
    def dce(self) -> Path:
        return self.dce_dir / DCE_EXECUTABLE

    @property
    def token_file(self) -> Path:
        return self.root / "token"


def state_file_for(world_file: Path) -> Path:
    """Where the emulator keeps its state for ``world_file``: next to it."""
    return world_file.with_name(f"{world_file.stem}.state.json")


def save_world(world: World, path: Path) -> None:
    """Write ``world`` as indented JSON; the same world always gives the same bytes."""
    path.write_bytes(msgspec.json.format(msgspec.json.encode(world), indent=2) + b"\n")


def load_world(path: Path) -> World:
    """Read a ``world.json``; a missing or malformed file is a ``UsageError``."""
    try:
        return _decoder.decode(path.read_bytes())
    except FileNotFoundError:
        raise UsageError(
            f"{path} does not exist; create a world with `dmj sandbox world --out DIR` "
            "and pass DIR/world.json."
        ) from None
    except (OSError, msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise UsageError(
            f"{path} is not a sandbox world ({exc}); recreate it with `dmj sandbox world`."
        ) from exc


def write_dce_launcher(dce_dir: Path, python: str = sys.executable) -> Path:
    """Write ``DiscordChatExporter.Cli``: runs the DCE stand-in with ``python``."""
    dce_dir.mkdir(parents=True, exist_ok=True)
    launcher = dce_dir / DCE_EXECUTABLE
    launcher.write_text(
        "#!/bin/sh\n"
        "# DiscordChatExporter.Cli stand-in written by `dmj sandbox world`: not the real DCE.\n"
        "# It talks only to the sandbox emulator named by DMJ_API_BASE.\n"
        f'exec {shlex.quote(python)} -m dmj.sandbox._dce "$@"\n',
        encoding="utf-8",
    )
    launcher.chmod(0o755)
    return launcher


def _prepare(out: Path) -> None:
    """Make ``out`` ready: new or empty, or an earlier sandbox whose outputs are replaced."""
    if out.exists() and any(out.iterdir()) and not (out / "world.json").is_file():
        raise UsageError(
            f"{out} is not empty and holds no sandbox world.json; choose a new or empty "
            "directory for the sandbox."
        )
    out.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(out / "package", ignore_errors=True)
    for stale in ("package.zip", "world.state.json", "token"):
        (out / stale).unlink(missing_ok=True)


def create_sandbox(
    out: Path, spec: WorldSpec, *, layout: Layout = LAYOUTS["2025"], as_zip: bool = False
) -> Sandbox:
    """Build the world of ``spec`` and write it, its package, launcher and token to ``out``."""
    _prepare(out)
    world = build_world(spec)
    save_world(world, out / "world.json")
    package = write_package(
        world, out / ("package.zip" if as_zip else "package"), layout, as_zip=as_zip
    )
    write_dce_launcher(out / "dce")
    token = os.open(out / "token", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(token, "w", encoding="utf-8") as file:
        file.write(world.token + "\n")
    return Sandbox(root=out, world=world, package=package)
