"""Terminal rendering with rich: answers (unsupported sentences dimmed), sources, passages, the time
frame, errors. No logic, only presentation; the CLI and the REPL call it."""

from __future__ import annotations

import json
import sys
from typing import Any

from rich.console import Console
from rich.markup import escape

from .answer import Answer, Citation
from .types import Passage, TimeFrame

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
    sys.stdout.flush()


def error(message: str) -> None:
    err.print(f"[bold red]error:[/] {escape(message)}")


def warning(message: str) -> None:
    err.print(f"[yellow]warning:[/] {escape(message)}")


def source_line(citation: Citation) -> str:
    p = citation.passage
    where = ", ".join(part for part in (p.source, p.published) if part)
    flag = " [attached]" if citation.attached else ""
    return f'[{citation.n}] {p.short_title() or p.article_id} — {where} — "{citation.quote}" (chars {citation.start}–{citation.end}){flag}'


def print_sources(answer: Answer) -> None:
    if not answer.citations:
        return
    out.print("\n[bold]Sources[/]")
    for citation in answer.citations:
        out.print(escape(source_line(citation)))
    if answer.moved_markers:
        warning(f"re-cited sentences to the passage that supports them: {', '.join(answer.moved_markers)}")
    if answer.dropped_markers:
        warning(f"removed citation markers that name no shown passage: {', '.join(answer.dropped_markers)}")


def print_frame(frame: TimeFrame) -> None:
    """The publication dates retrieval preferred, one dim line above the answer."""
    out.print(f"[dim]{escape(frame.describe())}[/dim]")


def answer_markup(answer: Answer) -> str:
    """The answer text, the short answer on its first line in bold, its sentences that what they cite
    does not support dimmed."""
    text, cursor, parts = answer.text, 0, []
    if answer.short_answer and text.startswith(answer.short_answer + "\n"):
        cursor = len(answer.short_answer)
        parts.append(f"[bold]{escape(answer.short_answer)}[/bold]")
    for sentence in sorted((s for s in answer.sentences if not s.supported), key=lambda s: s.start):
        parts += [escape(text[cursor : sentence.start]), f"[dim]{escape(text[sentence.start : sentence.end])}[/dim]"]
        cursor = sentence.end
    return "".join(parts) + escape(text[cursor:])


def print_answer(answer: Answer, streamed: bool = False) -> None:
    if not streamed:
        out.print(answer_markup(answer))
    else:  # already on screen: name what is unsupported instead
        for sentence in answer.sentences:
            if not sentence.supported:
                out.print(f"[dim](not supported by what it cites: {escape(sentence.text)})[/dim]")
    if answer.engine == "extractive-fallback":
        warning(f"{answer.fallback}; this is the extractive answer, quoted from the passages")
    print_sources(answer)


def print_passages(passages: list[Passage]) -> None:
    """Each passage in full, under a header: the evidence a reader wants to check."""
    out.print("\n[bold]Retrieved passages[/]")
    for n, p in enumerate(passages, start=1):
        where = ", ".join(part for part in (p.source, p.published) if part)
        out.print(f"[bold][{n}][/] {escape(p.short_title() or p.article_id)} — {escape(where)} (chars {p.start}–{p.end}, score {p.score:.3f})")
        out.print(escape(" ".join(p.text.split())), style="dim")


def human_size(size: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GB"

