"""The durable, append-only JSONL journal: dmj's source of truth (docs/journal-format.md)."""
