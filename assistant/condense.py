"""Offline follow-up rewriting: carry the previous question's subject into a follow-up.

Without an LLM, "How much was it valued at?" after "Which startup did Microsoft partner with?",
answered "Mistral AI", becomes "How much was it valued at? (Microsoft; Mistral AI)": the retriever
then sees the subject, and the answerer scores sentences against both. Names, not the earlier
question's words: those ("chief executive", "political agreement") pull back the sentence that
answered it. An earlier question that names nothing is carried whole. With a model, the
generative answerer rewrites follow-ups itself and falls back to this.
"""

from __future__ import annotations

import re

from .answer.reply import short_answer
from .answer.spans import spans_of_kind

# Words that only make sense with an antecedent: their presence marks a follow-up.
_ANAPHORA = re.compile(r"\b(it|its|they|them|their|he|him|his|she|her|this|that|these|those|the company|the deal|the firm|there|then)\b", re.I)
_CONTINUATION = re.compile(r"^\s*(and|also|what about|how about|why|when|where)\b[^?]{0,30}\??\s*$", re.I)
_SHORT = 3  # questions this short are follow-ups ("And Google?")


def is_follow_up(question: str) -> bool:
    return bool(_ANAPHORA.search(question) or _CONTINUATION.match(question)) or len(question.split()) <= _SHORT


def carry_subject(question: str, history: list[tuple[str, str]]) -> str:
    """The question, completed with the most recent earlier turn when it looks like a follow-up: the
    names that turn asked about and the name it was answered with ("Where did he work before founding
    the company? (Mistral AI; Arthur Mensch)"); the earlier question itself when it names nothing."""
    if not history or not is_follow_up(question):
        return question
    previous, answer = history[-1]
    names = [previous[start:end] for start, end in spans_of_kind("name", previous, previous)]
    answered = answered_name(answer, previous)
    if answered:
        names.append(answered)
    return f"{question} ({'; '.join(dict.fromkeys(names)) or previous})"


SHORT_ANSWER_WORDS = 8  # an answer's first line this short, with a quote after it, is its short answer
ONE_LINE_WORDS = 4  # a one-line answer this short is the short answer itself, not a quoted sentence


def answered_name(answer: str, question: str) -> str:
    """The name an answer gives: its short answer ("Arthur Mensch\n…", or "Microsoft." alone) when that
    is a name, not a date or an amount; "" for a quoted sentence or a decline."""
    found = short_answer(answer, question)
    one_line = len([line for line in answer.splitlines() if line.strip()]) == 1
    if len(found.split()) > (ONE_LINE_WORDS if one_line else SHORT_ANSWER_WORDS):
        return ""
    return found if found[:1].isupper() and not re.search(r"\d", found) else ""
