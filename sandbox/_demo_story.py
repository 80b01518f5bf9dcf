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
        "five messages you wrote to {someone}. The first reader builds the message index.",
        ("show", "from:me", "in:{someone}", "last:5", "--archive", "{archive}"),
    ),
    MarkdownExport(
        "One conversation as Markdown",
        "`dmj export` writes what `dmj show` shows, as JSON, Markdown or text: here the whole "
        "conversation with {someone}.",
        ("in:{someone}", "--filename", "{root}/{someone}.md", "--archive", "{archive}"),
        "{root}/{someone}.md",
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
