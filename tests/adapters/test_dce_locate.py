"""Finding DCE from --dce: a folder, the executable, or a .dll run with dotnet; then --version.

The DCE stand-in's own --version is tested in test_dce_runner.py; here tiny scripts play the
roles the sandbox has no stand-in for (dotnet, a broken program).
"""

from __future__ import annotations

import os
from pathlib import Path

import anyio
import pytest
from dmj.adapters import find_dce
from dmj.machine.errors import ExporterNotFound, ExporterUnusable, UsageError
from dmj.machine.events import DceInfo

pytestmark = pytest.mark.anyio


def script(path: Path, body: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)
    return path


def env_with_path(*folders: Path) -> dict[str, str]:
    return {"PATH": os.pathsep.join([*map(str, folders), "/usr/bin", "/bin"])}


async def test_a_folder_holding_the_executable_is_found(tmp_path: Path) -> None:
    exe = script(tmp_path / "dce" / "DiscordChatExporter.Cli", "echo v2.47.0")
    dce = await find_dce(tmp_path / "dce", env=env_with_path())
    assert (dce.argv, dce.version) == ((str(exe),), "2.47.0")
    assert dce.info() == DceInfo(path=str(tmp_path / "dce"), version="2.47.0")


async def test_the_executable_itself_is_found(tmp_path: Path) -> None:
    exe = script(tmp_path / "DiscordChatExporter.Cli", "echo v2.46.1")
    dce = await find_dce(exe, env=env_with_path())
    assert (dce.argv, dce.version) == ((str(exe),), "2.46.1")


@pytest.mark.parametrize("given", ["folder", "dll"])
async def test_a_dll_is_run_with_dotnet(tmp_path: Path, given: str) -> None:
    dll = tmp_path / "dce" / "DiscordChatExporter.Cli.dll"
    dll.parent.mkdir()
    dll.write_bytes(b"MZ")
    script(tmp_path / "bin" / "dotnet", '[ "$2" = "--version" ] && echo "v2.47.0"')
    dce = await find_dce(
        dll.parent if given == "folder" else dll, env=env_with_path(tmp_path / "bin")
    )
    assert (dce.argv, dce.version) == (("dotnet", str(dll)), "2.47.0")


async def test_a_dll_without_dotnet_says_to_install_it(tmp_path: Path) -> None:
    dll = tmp_path / "DiscordChatExporter.Cli.dll"
    dll.write_bytes(b"MZ")
    with pytest.raises(ExporterUnusable, match=r"could not be started .* Install the .NET runtime"):
        await find_dce(dll, env={"PATH": str(tmp_path / "empty")})


async def test_without_dce_option_it_is_looked_up_on_path(tmp_path: Path) -> None:
    exe = script(tmp_path / "bin" / "DiscordChatExporter.Cli", "echo v2.47.0")
    dce = await find_dce(None, env=env_with_path(tmp_path / "bin"))
    assert dce.argv == (str(exe),)


async def test_not_on_path_says_to_pass_dce(tmp_path: Path) -> None:
    with pytest.raises(ExporterNotFound, match=r"not on PATH\. .* pass its folder with --dce"):
        await find_dce(None, env=env_with_path(tmp_path))


@pytest.mark.parametrize(
    "make",
    [
        lambda root: root / "missing",
        lambda root: (root / "empty").mkdir() or root / "empty",
    ],
    ids=["missing", "folder-without-dce"],
)
async def test_anything_else_is_not_found(tmp_path: Path, make: object) -> None:
    path = make(tmp_path)  # type: ignore[operator]
    with pytest.raises(ExporterNotFound) as error:
        await find_dce(path, env=env_with_path())
    assert str(error.value).startswith(f"--dce {path} is not DiscordChatExporter's command-line")


@pytest.mark.parametrize("given", ["file", "folder"])
async def test_a_dce_that_is_not_executable_says_how_to_make_it_so(
    tmp_path: Path, given: str
) -> None:
    exe = script(tmp_path / "dce" / "DiscordChatExporter.Cli", "echo v2.47.0")
    exe.chmod(0o644)  # as some unzip tools leave it
    with pytest.raises(ExporterNotFound) as error:
        await find_dce(exe if given == "file" else exe.parent, env=env_with_path())
    assert str(error.value) == (
        f"--dce: {exe} is not executable, so dmj cannot run it (an unzip often drops that "
        "permission). If it is DiscordChatExporter.Cli, make it executable with "
        f"`chmod +x {exe}` and run the command again."
    )


async def test_a_folder_with_a_windows_exe_and_the_dll_runs_the_dll(tmp_path: Path) -> None:
    folder = tmp_path / "dce"
    folder.mkdir()
    (folder / "DiscordChatExporter.Cli.exe").write_bytes(b"MZ")  # not executable here
    (folder / "DiscordChatExporter.Cli.dll").write_bytes(b"MZ")
    script(tmp_path / "bin" / "dotnet", '[ "$2" = "--version" ] && echo "v2.47.0"')
    dce = await find_dce(folder, env=env_with_path(tmp_path / "bin"))
    assert dce.argv == ("dotnet", str(folder / "DiscordChatExporter.Cli.dll"))


async def test_a_dce_that_hangs_on_version_is_stopped_and_refused_as_bad_input(
    tmp_path: Path,
) -> None:
    exe = script(tmp_path / "DiscordChatExporter.Cli", "exec sleep 600")
    started = anyio.current_time()
    with pytest.raises(ExporterUnusable) as error:
        await find_dce(exe, env=env_with_path(), stall_timeout=0.5)
    assert anyio.current_time() - started < 10
    assert isinstance(error.value, UsageError), "exit 2, as a missing DCE is"
    assert str(error.value).startswith(
        f"DiscordChatExporter at {exe} printed nothing for 0.5 s after --version and was "
        "stopped: it hangs."
    )


@pytest.mark.parametrize(
    ("body", "what"),
    [
        ("echo 'Unrecognized option(s):' >&2; exit 1", "exit code 1"),
        ("echo 'hello'", "exit code 0"),
    ],
)
async def test_a_program_that_does_not_answer_version_is_unusable(
    tmp_path: Path, body: str, what: str
) -> None:
    exe = script(tmp_path / "DiscordChatExporter.Cli", body)
    with pytest.raises(ExporterUnusable, match=rf"did not answer --version as expected \({what}"):
        await find_dce(exe, env=env_with_path())


async def test_the_version_check_never_passes_the_token(tmp_path: Path) -> None:
    seen = tmp_path / "seen"
    body = f'echo "v2.47.0"; printf "%s" "$DISCORD_TOKEN$DISCORD_TOKEN_BOT" > "{seen}"'
    exe = script(tmp_path / "DiscordChatExporter.Cli", body)
    env = {**env_with_path(), "DISCORD_TOKEN": "secret", "DISCORD_TOKEN_BOT": "secret"}
    assert (await find_dce(exe, env=env)).version == "2.47.0"
    assert seen.read_text() == ""
