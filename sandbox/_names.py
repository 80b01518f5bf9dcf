"""Word lists the world draws names and message text from.

Deliberately mixed: ASCII, accents, CJK, right-to-left scripts, astral emoji and combining
marks, so that every layer of dmj meets real-world text.
"""

from __future__ import annotations

__all__ = [
    "ATTACHMENTS",
    "DISPLAY_NAMES",
    "FIRST_NAMES",
    "GROUP_NAMES",
    "SNIPPETS",
    "UNICODE_LINES",
    "WORDS",
]

FIRST_NAMES = (
    "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy",
    "mallory", "niaj", "olivia", "peggy", "rupert", "sybil", "trent", "victor", "walter",
    "yuki", "zoe", "amir", "bea", "chen", "dmitri", "elif", "farah", "goran", "hana", "ines",
)  # fmt: skip

DISPLAY_NAMES = (
    "Zoë", "Łukasz", "李雷", "Ana María", "✨ Nova ✨", "Søren", "Ólafur", "Nguyễn Anh",
    "محمد", "Дмитрий", "Renée", "José", "Kōji", "Ahmet 🦊", "Ιωάννα", "Ève",
)  # fmt: skip

GROUP_NAMES = ("Trip crew", "Book club 📚", "Ελληνικά", "Raid night", "Family ❤️", "Flatmates")

WORDS = (
    "the", "photos", "tomorrow", "see", "you", "at", "seven", "did", "get", "pier", "lunch",
    "maybe", "train", "late", "again", "haha", "sure", "thanks", "link", "game", "tonight",
    "weekend", "coffee", "deadline", "meeting", "sounds", "good", "call", "later", "ok",
)  # fmt: skip

UNICODE_LINES = (
    "ça va? très bien, merci — à plus tard",
    "日本語のメッセージです。よろしくお願いします",
    "مرحبا، كيف حالك؟",
    "שלום עולם",
    "emoji time 😀🎉👍🏽 and a flag 🇺🇦",
    "zalgo-ish: a\u0301e\u0308o\u0302 and zero\u200bwidth",
    "Привет! Как дела?",
    "한국어 문장도 있어요",
    "math: ∑ x² ≤ ∞, arrows → ⇒",
    'tab\tand "quotes" and \\backslash\\',
)

SNIPPETS = (
    "print('hello')",
    "for i in range(3):\n    print(i)",
    "SELECT * FROM dms WHERE closed = 1;",
    "const x = `template ${literal}`;",
    "echo $DISCORD_TOKEN_IS_NEVER_HERE",
)

ATTACHMENTS = (
    ("IMG_2041.jpg", "image/jpeg"),
    ("notes.txt", "text/plain; charset=utf-8"),
    ("résumé final (2).pdf", "application/pdf"),
    ("voice-message.ogg", "audio/ogg"),
    ("screenshot 2024-05-04 at 18.02.png", "image/png"),
    ("clip.mp4", "video/mp4"),
)
