"""Package reader benchmark: a 100 MB user.json, and a 10,000-DM package, against floors.

    .venv/bin/python -m benchmarks.bench_package [--megabytes 100] [--dms 10000]

user.json: the reader's chunked top-level scan against the obvious approach (read the whole
file, decode it with a three-field msgspec Struct), measured in the same run, both when
``id`` comes first (as in Discord's packages: the scan stops after one chunk) and when it
comes last (the worst case: the scan skips every byte). Reported: time (best of three) and
peak traced memory of each, and their ratios. Goals: id first ≤ 0.01x the floor's time and
memory; id last ≤ 10x the floor's time (chunked bytes operations against msgspec's one-shot
C decoder) and ≤ 0.05x its memory.

Package: ``read_package`` of a sandbox world's package against a floor that only lists the
files and reads every ``channel.json`` and ``index.json`` (no decoding). Goal ≤ 3x.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import msgspec
from dmj.adapters import read_package
from dmj.adapters._package_files import scan_top_level
from dmj.sandbox import Layout, WorldSpec, build_world, write_package


class _Owner(msgspec.Struct):
    id: str
    username: str = ""
    global_name: str | None = None


OWNER = {"id": "111111111111111111", "username": "me", "global_name": "Me"}


def write_user_json(path: Path, megabytes: int, *, id_first: bool) -> None:
    relationship = {
        "id": "222222222222222222",
        "type": 1,
        "nickname": None,
        "user": {"id": "222222222222222222", "username": "friend", "global_name": "A Friend",
                 "discriminator": "0", "avatar": "0123456789abcdef0123456789abcdef"},
    }  # fmt: skip
    one = len(json.dumps(relationship)) + 2
    relationships: dict[str, object] = {
        "relationships": [relationship] * (megabytes * 1_000_000 // one)
    }
    document = {**OWNER, **relationships} if id_first else {**relationships, **OWNER}
    path.write_text(json.dumps(document))


def measure(fn: Callable[[], object]) -> tuple[float, int]:
    """Seconds (best of three untraced calls) and peak traced bytes (one traced call)."""
    times = []
    for _ in range(3):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return min(times), peak


def scan(path: Path) -> object:
    with path.open("rb") as stream:
        return scan_top_level(stream, frozenset(OWNER))


def floor_decode(path: Path) -> object:
    return msgspec.json.decode(path.read_bytes(), type=_Owner)


def bench_user_json(folder: Path, megabytes: int) -> None:
    for id_first in (True, False):
        path = folder / f"user-{id_first}.json"
        write_user_json(path, megabytes, id_first=id_first)
        size = path.stat().st_size / 1e6
        assert scan(path) == OWNER
        ours = measure(functools.partial(scan, path))
        floor = measure(functools.partial(floor_decode, path))
        where = "first" if id_first else "last"
        ratios = f"time {ours[0] / floor[0]:.3f}x, memory {ours[1] / floor[1]:.4f}x"
        print(
            f"user.json {size:.0f} MB, id {where}: scan {ours[0]:.3f} s / {ours[1] / 1e6:.2f} MB"
            f" vs floor {floor[0]:.3f} s / {floor[1] / 1e6:.1f} MB -> {ratios}"
        )


def floor_package(root: Path) -> int:
    total = 0
    for folder, _, files in os.walk(root):
        for name in files:
            if name in ("channel.json", "index.json"):
                total += len(Path(folder, name).read_bytes())
    return total


def bench_package(folder: Path, dms: int) -> None:
    world = build_world(WorldSpec.sized(dms, messages=1))
    root = write_package(world, folder / "package", Layout(), as_zip=False)
    contents = read_package(root)
    ours, floor = measure(lambda: read_package(root)), measure(lambda: floor_package(root))
    print(
        f"package of {len(contents.dms)} DMs: read_package {ours[0]:.3f} s vs floor "
        f"{floor[0]:.3f} s -> {ours[0] / floor[0]:.2f}x; peak {ours[1] / 1e6:.1f} MB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=int, default=100)
    parser.add_argument("--dms", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        bench_user_json(Path(folder), args.megabytes)
        bench_package(Path(folder), args.dms)


if __name__ == "__main__":
    main()
