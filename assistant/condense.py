"""Offline follow-up rewriting: carry the previous question's subject into a follow-up.

Without an LLM, "How much was it valued at?" after "Which startup did Microsoft partner with?",
answered "Mistral AI", becomes "How much was it valued at? (Mistral AI)": the retriever then sees
the subject, and the answerer scores sentences against both. After an answer that is not a name
(a date, an amount, a sentence) the earlier question is carried instead. With a model, the
generative answerer rewrites follow-ups itself and falls back to this.
"""

from __future__ import annotations

import re

# Words that only make sense with an antecedent: their presence marks a follow-up.
_ANAPHORA = re.compile(r"\b(it|its|they|them|their|he|him|his|she|her|this|that|these|those|the company|the deal|the firm|there|then)\b", re.I)
_CONTINUATION = re.compile(r"^\s*(and|also|what about|how about|why|when|where)\b[^?]{0,30}\??\s*$", re.I)
_SHORT = 3  # questions this short are follow-ups ("And Google?")


def is_follow_up(question: str) -> bool:
    return bool(_ANAPHORA.search(question) or _CONTINUATION.match(question)) or len(question.split()) <= _SHORT


def carry_subject(question: str, history: list[tuple[str, str]]) -> str:
    """The question, completed with the most recent earlier turn when it looks like a follow-up: the name
    that turn answered with ("Where did he work before founding the company? (Arthur Mensch)"), else its
    question. The name is what "he" or "it" most often points at, and the earlier question's own words
    ("chief executive") would pull back the sentence that answered it."""
    if not history or not is_follow_up(question):
        return question
    previous, answer = history[-1]
    name = short_answer_line(answer)
    if name[:1].isupper() and not re.search(r"\d", name):  # a name, not a date or an amount
        return f"{question} ({name})"
    return f"{question} ({previous})"


_MARKER = re.compile(r"\s*\[\d+\]")


def short_answer_line(answer: str) -> str:
    """An answer's short answer: its first line when a quoted sentence follows it ("Arthur Mensch\n…")."""
    lines = [line for line in answer.strip().splitlines() if line.strip()]
    first = _MARKER.sub("", lines[0]).strip() if len(lines) > 1 else ""
    return first if 0 < len(first.split()) <= 8 else ""
