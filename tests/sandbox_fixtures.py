"""Fixtures for tests that run dmj against the sandbox (registered in tests/conftest.py).

- ``sandbox``: a small world written to disk (world.json, package/, dce/, token).
- ``make_sandbox(**spec, layout=…, as_zip=…)``: another one, with other knobs.
- ``emulator``: the sandbox's ``Emulator`` (state persisted next to its world.json).
- ``emulator_server``: that emulator over real HTTP on 127.0.0.1 (``.base_url`` for
  ``DMJ_API_BASE``, ``.requests()``, ``.stats()``, ``.set_faults()``).
- ``sandbox_env``: environment for a child process (dmj or the DCE stand-in) talking to
  ``emulator_server``: ``DMJ_API_BASE``, ``DISCORD_TOKEN``, ``TERM=dumb``.
- ``discord_client``: an ``httpx.AsyncClient`` on the emulator in-process (virtual time under
  trio's MockClock), authorised with the world's token.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from dmj.sandbox import (
    IN_PROCESS_BASE,
    LAYOUTS,
    Emulator,
    Layout,
    RunningEmulator,
    Sandbox,
    WorldSpec,
    create_sandbox,
    emulator_transport,
    run_emulator,
)

__all__ = [
    "MakeSandbox",
    "discord_client",
    "emulator",
    "emulator_server",
    "make_sandbox",
    "sandbox",
    "sandbox_env",
]

MakeSandbox = Callable[..., Sandbox]


@pytest.fixture
def make_sandbox(tmp_path: Path) -> MakeSandbox:
    """Build sandboxes under ``tmp_path``: ``make_sandbox(users=30, seed=2, as_zip=True)``."""
    made = 0

    def make(*, layout: Layout = LAYOUTS["2025"], as_zip: bool = False, **spec: Any) -> Sandbox:
        nonlocal made
        made += 1
        return create_sandbox(
            tmp_path / f"sandbox-{made}", WorldSpec(**spec), layout=layout, as_zip=as_zip
        )

    return make


@pytest.fixture
def sandbox(make_sandbox: MakeSandbox) -> Sandbox:
    """The default world: 12 users, 3 group DMs, every fate (see docs/sandbox.md)."""
    return make_sandbox()


@pytest.fixture
def emulator(sandbox: Sandbox) -> Emulator:
    return Emulator(sandbox.world, state_file=sandbox.state_file)


@pytest.fixture
def emulator_server(emulator: Emulator) -> Iterator[RunningEmulator]:
    with run_emulator(emulator) as running:
        yield running


@pytest.fixture
def sandbox_env(sandbox: Sandbox, emulator_server: RunningEmulator) -> dict[str, str]:
    return {
        **os.environ,
        "DMJ_API_BASE": emulator_server.base_url,
        "DISCORD_TOKEN": sandbox.world.token,
        "TERM": "dumb",
    }


@pytest.fixture
async def discord_client(emulator: Emulator) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=emulator_transport(emulator),
        base_url=IN_PROCESS_BASE,
        headers={"Authorization": emulator.world.token},
    ) as client:
        yield client
