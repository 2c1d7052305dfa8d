"""Prompt files, loaded through one function from the package (wheel) or the repository's prompts/.

A prompt whose placeholders differ from what the code fills in is rejected at load, so an
edited prompt cannot silently drop the passages or the abstention sentence.
"""

from __future__ import annotations

import string
from functools import cache
from importlib import resources
from pathlib import Path

from .errors import PromptError

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
    return [packaged, Path(__file__).resolve().parent.parent / "prompts"]


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
