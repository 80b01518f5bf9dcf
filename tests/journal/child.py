"""A journal writer in a child process, for crash and lock tests (not a test module).

    python -m tests.journal.child append JOURNAL COUNT [FAILPOINT_SPEC]
    python -m tests.journal.child hold JOURNAL

``append`` opens the journal (recovering it), prints ``opened <last_seq>``, then appends
COUNT sample events, printing ``ack <seq>`` after each acknowledged one, and exits 0. A
failpoint may kill it on the way (that is the point). ``hold`` prints ``ready``, waits for
a ``go`` line on stdin, races to open the journal, prints ``won <pid>`` and holds it until
stdin closes, or prints ``locked <pid>`` if another process holds it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from dmj.journal import Failpoints, JournalWriter
from dmj.machine.errors import JournalLocked

from tests.journal.support import TickingClock, sample_events


def append(journal: Path, count: int, spec: str) -> None:
    failpoints = Failpoints.parse(spec)
    with JournalWriter.open(journal, clock=TickingClock(), failpoints=failpoints) as writer:
        print(f"opened {writer.last_seq}", flush=True)
        for event in sample_events(writer.last_seq + count)[writer.last_seq :]:
            acked = writer.append(event)
            print(f"ack {acked.seq}", flush=True)


def hold(journal: Path) -> None:
    print("ready", flush=True)
    sys.stdin.readline()  # "go"
    try:
        writer = JournalWriter.open(journal)
    except JournalLocked as locked:
        print(f"locked {locked.pid}", flush=True)
        return
    with writer:
        print(f"won {os.getpid()}", flush=True)
        sys.stdin.read()


def main(argv: list[str]) -> None:
    command, journal = argv[0], Path(argv[1])
    if command == "append":
        append(journal, int(argv[2]), argv[3] if len(argv) > 3 else "")
    else:
        hold(journal)


if __name__ == "__main__":
    main(sys.argv[1:])
