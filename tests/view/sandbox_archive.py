"""Archives of the sandbox's own messages for the viewer's tests over the message index.

The sandbox's generator (``MessageLog``) writes them as the DCE stand-in does, with the
journal of a run that exported every conversation (``benchmarks/export_workload.py``, the
export benchmark's workload at a small size): 20,000 messages in about a second, where
running the stand-in per conversation would take far longer. Conversations: Alice, Carol
(the long one), Dave, Deleted User (whose display name was José), grace, Дмитрий and
✨ Nova ✨, with code, calls, edits, attachments, emoji and several scripts.
"""

from __future__ import annotations

from pathlib import Path

from benchmarks.export_workload import Workload, write_archive

__all__ = ["LONG_NAME", "sandbox_archive"]

LONG_NAME = "Carol"
"""The conversation that holds ``longest`` messages."""


def sandbox_archive(root: Path, *, messages: int, longest: int) -> Path:
    """An archive of ``messages`` in seven conversations, Carol's ``longest`` of them."""
    return write_archive(
        root, Workload(messages=messages, conversations=7, longest=longest, seed=3)
    )
