"""An offline Discord: API emulator, DCE stand-in, synthetic worlds and data packages.

Nothing here reaches Discord. A *world* (``build_world``) is a seeded account with users and
DMs of every kind dmj must handle; ``create_sandbox`` writes it with its data package, a
``DiscordChatExporter.Cli`` launcher and the token. See ``docs/sandbox.md``.

Names are imported on first use (PEP 562): the DCE stand-in runs once per exported DM and
must start without loading the web server this package also holds.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._build import build_world
    from ._clock import Clock, LoopClock
    from ._demo import Narrator, Places, prepare_places, tell
    from ._demo_story import STORY
    from ._emulator import (
        SANDBOX_CLIENT_HEADER,
        ConnectionDropped,
        Emulator,
        EmulatorStats,
        RequestRecord,
    )
    from ._facts import WorldFacts, world_facts
    from ._faults import DceFault, FaultPlan, FaultRule, Limit
    from ._messages import MessageLog
    from ._package import LAYOUTS, Layout, LayoutName, write_package
    from ._server import (
        IN_PROCESS_BASE,
        RunningEmulator,
        emulator_transport,
        run_emulator,
        serve,
    )
    from ._workspace import (
        DCE_EXECUTABLE,
        Sandbox,
        create_sandbox,
        load_world,
        save_world,
        state_file_for,
        write_dce_launcher,
    )
    from ._world import (
        DELETED_USER_ID,
        Access,
        Fate,
        SelfUser,
        World,
        WorldChannel,
        WorldSpec,
        WorldUser,
    )

__all__ = [
    "DCE_EXECUTABLE",
    "DELETED_USER_ID",
    "IN_PROCESS_BASE",
    "LAYOUTS",
    "SANDBOX_CLIENT_HEADER",
    "STORY",
    "Access",
    "Clock",
    "ConnectionDropped",
    "DceFault",
    "Emulator",
    "EmulatorStats",
    "Fate",
    "FaultPlan",
    "FaultRule",
    "Layout",
    "LayoutName",
    "Limit",
    "LoopClock",
    "MessageLog",
    "Narrator",
    "Places",
    "RequestRecord",
    "RunningEmulator",
    "Sandbox",
    "SelfUser",
    "World",
    "WorldChannel",
    "WorldFacts",
    "WorldSpec",
    "WorldUser",
    "build_world",
    "create_sandbox",
    "emulator_transport",
    "load_world",
    "prepare_places",
    "run_emulator",
    "save_world",
    "serve",
    "state_file_for",
    "tell",
    "world_facts",
    "write_dce_launcher",
    "write_package",
]

_HOME = {
    "._clock": ("Clock", "LoopClock"),
    "._emulator": (
        "SANDBOX_CLIENT_HEADER", "ConnectionDropped", "Emulator", "EmulatorStats", "RequestRecord",
    ),
    "._faults": ("DceFault", "FaultPlan", "FaultRule", "Limit"),
    "._server": (
        "IN_PROCESS_BASE", "RunningEmulator", "emulator_transport", "run_emulator", "serve",
    ),
    "._demo": ("Narrator", "Places", "prepare_places", "tell"),
    "._demo_story": ("STORY",),
    "._facts": ("WorldFacts", "world_facts"),
    "._messages": ("MessageLog",),
    "._package": ("LAYOUTS", "Layout", "LayoutName", "write_package"),
    "._workspace": (
        "DCE_EXECUTABLE", "Sandbox", "create_sandbox", "load_world", "save_world",
        "state_file_for", "write_dce_launcher",
    ),
    "._world": (
        "DELETED_USER_ID", "Access", "Fate", "SelfUser", "World", "WorldChannel", "WorldSpec",
        "WorldUser",
    ),
    "._build": ("build_world",),
}  # fmt: skip
_MODULE_OF = {name: module for module, names in _HOME.items() for name in names}


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module, __name__), name)
