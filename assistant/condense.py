"""Offline follow-up rewriting: carry the previous question's subject into a follow-up.

Without an LLM, "How much was it valued at?" after "Which startup did Microsoft partner with?"
becomes "How much was it valued at? (Which startup did Microsoft partner with?)": the retriever
then sees the subject, and the answerer scores sentences against both. With a model, the
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


def carry_subject(question: str, previous_questions: list[str]) -> str:
    """The question, completed with the most recent earlier question when it looks like a follow-up."""
    if not previous_questions or not is_follow_up(question):
        return question
    return f"{question} ({previous_questions[-1]})"
