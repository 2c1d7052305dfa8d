"""Prompts: the files in prompts/ (loaded through one function from the package or the checkout),
and the LCEL prompt templates and passage formatting the generative answerer fills them with.

A prompt whose placeholders differ from what the code fills in is rejected at load, so an
edited prompt cannot silently drop the passages or the abstention sentence.
"""

from __future__ import annotations

import re
import string
from datetime import date
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import PromptError
from ..types import Passage
from . import CANNOT_ANSWER

if TYPE_CHECKING:
    from langchain_core.prompts import ChatPromptTemplate

# Each prompt file and the exact placeholders the code fills in.
PLACEHOLDERS: dict[str, frozenset[str]] = {
    "answer_system": frozenset(),
    "answer_user": frozenset({"passages", "question", "today", "cannot_answer"}),
    "answer_retry": frozenset({"cannot_answer"}),
    "condense": frozenset({"history", "question"}),
}


def prompt_dirs() -> list[Path]:
    """Where prompts live: inside the installed package first, then the source checkout."""
    packaged = Path(str(resources.files("assistant"))) / "prompts"
    return [packaged, Path(__file__).resolve().parents[2] / "prompts"]


def placeholders(template: str) -> set[str]:
    try:
        return {field for _, field, _, _ in string.Formatter().parse(template) if field is not None}
    except ValueError as exc:
        raise PromptError(f"malformed placeholder: {exc}") from None


@cache
def load_prompt(name: str) -> str:
    """The text of prompt ``name``; raises PromptError when missing or its placeholders differ."""
    expected = PLACEHOLDERS.get(name)
    if expected is None:
        raise PromptError(f"unknown prompt {name!r}; known: {', '.join(sorted(PLACEHOLDERS))}")
    for directory in prompt_dirs():
        path = directory / f"{name}.txt"
        if path.is_file():
            text = path.read_text(encoding="utf-8")
            try:
                found = placeholders(text)
            except PromptError as exc:
                raise PromptError(f"prompt {path}: {exc}") from None
            if found != expected:
                raise PromptError(
                    f"prompt {path} has placeholders {sorted(found)}, expected {sorted(expected)}; "
                    "restore them (literal braces must be doubled: {{ }})"
                )
            return text
    raise PromptError(f"prompt {name!r} not found in {', '.join(map(str, prompt_dirs()))}; reinstall assistant")


def format_passages(passages: list[Passage]) -> str:
    """Numbered passages inside delimiters; a delimiter inside article text is neutralised."""
    blocks = []
    for n, p in enumerate(passages, start=1):
        text = re.sub(r"</?\s*passage", lambda m: m.group(0).replace("<", "&lt;"), p.text, flags=re.I)
        attributes = f'n="{n}" title="{_attr(p.short_title())}" date="{p.published or "unknown"}" source="{_attr(p.source)}"'
        blocks.append(f"<passage {attributes}>\n{text}\n</passage>")
    return "\n\n".join(blocks)


def _attr(value: str) -> str:
    return value.replace('"', "'").replace("<", "&lt;").replace("\n", " ")


def display_date(day: date) -> str:
    return f"{day:%A}, {day:%B} {day.day}, {day.year}"


def answer_prompt() -> ChatPromptTemplate:
    from langchain_core.prompts import ChatPromptTemplate

    return ChatPromptTemplate.from_messages([("system", load_prompt("answer_system")), ("human", load_prompt("answer_user"))]).partial(
        cannot_answer=CANNOT_ANSWER
    )


def retry_prompt() -> ChatPromptTemplate:
    """The answer prompt, the model's wordless reply, and a corrective message."""
    from langchain_core.prompts import ChatPromptTemplate

    return ChatPromptTemplate.from_messages(
        [("system", load_prompt("answer_system")), ("human", load_prompt("answer_user")), ("ai", "{previous}"), ("human", load_prompt("answer_retry"))]
    ).partial(cannot_answer=CANNOT_ANSWER)


def condense_prompt() -> ChatPromptTemplate:
    from langchain_core.prompts import ChatPromptTemplate

    return ChatPromptTemplate.from_messages([("human", load_prompt("condense"))])
