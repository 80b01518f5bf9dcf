"""What changes while the emulator runs: which DMs are open, which groups were left, new DMs.

Kept in ``world.state.json`` next to the world when the emulator has a state file, replaced
atomically after every change, so a ``serve`` restarted on the same world carries on where
the last one stopped (a run interrupted together with the server resumes against it). No
fsync: the file must survive a killed server, not a power cut, and an fsync per DM opened
would show up as Discord latency in dmj's benchmarks.
"""

from __future__ import annotations

import os
from pathlib import Path

import msgspec

from ._messages import Growth
from ._world import World, WorldChannel, WorldSpec

__all__ = ["ChannelBook"]


class _Saved(msgspec.Struct, frozen=True, kw_only=True):
    spec: WorldSpec
    open: tuple[str, ...]
    left: tuple[str, ...]
    created: tuple[WorldChannel, ...]
    grown: dict[str, Growth] = {}


class ChannelBook:
    """Every channel the emulator knows (the world's and those created since) and its state."""

    def __init__(self, world: World, state_file: Path | None = None) -> None:
        self._world = world
        self._file = state_file
        self.channels: dict[str, WorldChannel] = {c.id: c for c in world.channels}
        self.open: set[str] = {c.id for c in world.channels if c.open}
        self.left: set[str] = {c.id for c in world.channels if c.type == 3 and not c.member}
        self.created: list[WorldChannel] = []
        self.grown: dict[str, Growth] = {}
        """Channel id → messages sent in it since the world was built."""
        self._by_user: dict[tuple[str, ...], list[WorldChannel]] = {}
        for channel in world.channels:
            self._index(channel)
        if state_file is not None and state_file.exists():
            self._load(state_file)

    def _load(self, path: Path) -> None:
        saved = msgspec.json.decode(path.read_bytes(), type=_Saved)
        if saved.spec != self._world.spec:
            return  # the state of another world: start from this world's own
        self.created = list(saved.created)
        for channel in saved.created:
            self.channels[channel.id] = channel
            self._index(channel)
        self.open, self.left = set(saved.open), set(saved.left)
        self.grown = dict(saved.grown)

    def _index(self, channel: WorldChannel) -> None:
        if channel.type == 1:
            self._by_user.setdefault(channel.recipients, []).append(channel)

    def dms_with(self, user_id: str) -> list[WorldChannel]:
        """The 1-on-1 channels with ``user_id``, oldest first."""
        return sorted(self._by_user.get((user_id,), []), key=lambda c: int(c.id))

    def add(self, channel: WorldChannel) -> None:
        self.channels[channel.id] = channel
        self._index(channel)
        self.created.append(channel)
        self.open.add(channel.id)
        self.save()

    def set_open(self, channel_id: str, is_open: bool) -> None:
        (self.open.add if is_open else self.open.discard)(channel_id)
        self.save()

    def grow(self, channel_id: str, count: int, now_ms: int) -> None:
        """``count`` more messages in ``channel_id``, sent from ``now_ms`` on (or after the
        ones sent before)."""
        channel = self.channels[channel_id]
        earlier = self.grown.get(channel_id)
        start = max(now_ms, channel.last_ms + 1000) if earlier is None else earlier.from_ms
        self.grown[channel_id] = Growth(start, count + (earlier.count if earlier else 0))
        self.save()

    def leave(self, channel_id: str) -> None:
        self.left.add(channel_id)
        self.open.discard(channel_id)
        self.save()

    def save(self) -> None:
        """Replace the state file atomically (temp file, rename), if there is one."""
        if self._file is None:
            return
        saved = _Saved(
            spec=self._world.spec,
            open=tuple(sorted(self.open, key=int)),
            left=tuple(sorted(self.left, key=int)),
            created=tuple(self.created),
            grown=self.grown,
        )
        temp = self._file.with_name(self._file.name + ".tmp")
        temp.write_bytes(msgspec.json.encode(saved))
        os.replace(temp, self._file)
