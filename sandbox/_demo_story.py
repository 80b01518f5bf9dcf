"""The story ``dmj demo`` tells, step by step (the kinds of step: ``_demo_steps``).

A reader command joins the story as one line once it exists, before ``Recap``; for example
(placeholders: see ``_demo.Stage``)::

    Command("What is missing", "…", ("status", "--missing", "--archive", "{archive}"), (0, 3)),

The story ends by showing how to browse the archive (``dmj view``): a server the reader
starts and stops, so it is shown, not run.
"""

from __future__ import annotations

from ._demo import Step
from ._demo_crash import ResumeAndCheck, RunAndKill
from ._demo_steps import BuildWorld, Command, Hint, MarkdownExport, Recap, ServeDiscord

__all__ = ["STORY"]

STORY: tuple[Step, ...] = (
    BuildWorld("A Discord account to archive", users=44, seed=15, messages=20),
    ServeDiscord("Discord, on loopback"),
    RunAndKill("Archive every DM, and pull the plug mid-batch", batch_size=5, batch=3, after=2),
    Command(
        "What the journal says",
        "`dmj replay --inspect` audits the archive read-only: is the journal intact, which "
        "batch was interrupted, what comes next.",
        ("replay", "--inspect", "--archive", "{archive}"),
    ),
    ResumeAndCheck("Resume"),
    Command(
        "Search it",
        "The archive reads like Discord's search box: `from:me in:{someone} last:5` is the last "
        "five messages you wrote to {someone}, read from the message index (every reader "
        "brings it up to date with the journal first).",
        ("show", "from:me", "in:{someone}", "last:5", "--archive", "{archive}"),
    ),
    MarkdownExport(
        "One conversation as Markdown",
        "`dmj export` writes what `dmj show` shows, as JSON, Markdown or text: here the whole "
        "conversation with {someone}.",
        ("in:{someone}", "--filename", "{root}/{someone}.md", "--archive", "{archive}"),
        "{root}/{someone}.md",
    ),
    Command(
        "What is missing",
        "`dmj status --missing` compares the archive with the data package, which lists every "
        "message you ever sent: what is not fully archived is listed with what to do. Discord "
        "refuses some DMs for good (deleted accounts, groups you left), and the old channel "
        "of a DM it moved; your own messages there are kept from the package. Exit 3 tells a "
        "script that something is missing.",
        ("status", "--missing", "--archive", "{archive}"),
        (0, 3),
    ),
    Recap("Where everything is"),
    Hint(
        "Browse it",
        "To read and search what was archived in your web browser, run `dmj view`: it serves "
        "the archive on this computer only (127.0.0.1, a secret address for each launch), "
        "read-only; Ctrl-C stops it.",
        ("view", "--archive", "{archive}"),
    ),
)
