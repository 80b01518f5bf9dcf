"""Everything an index holds, to compare indexes built different ways."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from dmj.projections.history import INDEX

__all__ = ["dump"]

TABLES = ("messages", "people", "channel_titles", "conversations", "conversation_names",
          "recipients", "problems")  # fmt: skip


def dump(archive: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Each table's rows with their types, in order; every word the full-text index has
    (term, message, position); the meta entries but the stamps of the journal file and of the
    data package (``own`` and ``package``: its path, times and inodes, which differ from one
    archive to the next)."""
    with sqlite3.connect(archive / INDEX) as conn:
        tables = {}
        for table in TABLES:
            columns = [row[1] for row in conn.execute(f"PRAGMA table_info({table})")]
            typed = ", ".join(f"{c}, typeof({c})" for c in columns)
            tables[table] = conn.execute(
                f"SELECT {typed} FROM {table} ORDER BY {', '.join(columns)}"
            ).fetchall()
        conn.execute(
            "CREATE VIRTUAL TABLE temp.words USING fts5vocab(main, message_words, instance)"
        )
        tables["words"] = conn.execute(
            "SELECT term, doc, offset FROM temp.words ORDER BY term, doc, offset"
        ).fetchall()
        tables["meta"] = conn.execute(
            "SELECT key, value FROM meta WHERE key NOT IN ('journal', 'own', 'package') "
            "ORDER BY key"
        ).fetchall()
    return tables
