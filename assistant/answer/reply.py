"""Reading a model's reply: the sentinel, whether it has words of its own, the short answer, and a
gate that keeps a wordless reply off the screen while it streams.

Out of scope: citations (citations.py) and support (support.py).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable

from ..chunking import split_sentences
from ..tokens import terms, tokenize
from . import CANNOT_ANSWER
from .citations import MARKER

_LABEL = re.compile(r"^\s*(?:\*\*)?(?:short answer|answer|line 1|first line)\s*[:\-]\s*(?:\*\*)?\s*", re.I)


def says_cannot_answer(text: str) -> bool:
    """The model used the sentinel (allowing for trailing punctuation or citation noise)."""
    core = CANNOT_ANSWER.rstrip(".").lower()
    return core in re.sub(r"\s+", " ", text.lower())


def _may_decline(text: str) -> bool:
    """``text`` is the sentinel so far (or all of it)."""
    said = re.sub(r"\s+", " ", text.strip().lower())
    sentinel = CANNOT_ANSWER.lower()
    return sentinel.startswith(said) or said.startswith(sentinel.rstrip("."))


def has_answer_words(reply: str, question: str) -> bool:
    """False for a reply with no words of its own: only markers, punctuation, or the question repeated."""
    words = re.findall(r"\w+", MARKER.sub(" ", _LABEL.sub("", reply)).lower())
    return bool(words) and words != re.findall(r"\w+", question.lower())


def short_answer(text: str, question: str = "") -> str:
    """The direct answer: the first sentence of the reply (the prompt asks for the short answer alone on
    its first line) that does not merely restate ``question`` — a small model sometimes echoes the
    question first; markers, a leading "Answer:" and a trailing full stop removed."""
    asked = terms(question)
    sentences = []
    for line in text.splitlines():
        clean = re.sub(r"\s+([.,;:!?])", r"\1", MARKER.sub("", _LABEL.sub("", line))).strip()
        for start, end in split_sentences(clean) or [(0, len(clean))]:
            sentence = clean[start:end].strip().rstrip(".").strip()
            if sentence:
                sentences.append(sentence)
    for sentence in sentences:
        own = terms(sentence)
        if not (sentence.endswith("?") or (len(own) >= 3 and own <= asked)):
            return sentence
    return sentences[0] if sentences else ""


def answer_span(line: str, question: str) -> str:
    """The answer inside a first line that restates the question ("The Colorado Avalanche won the 2022
    NHL Stanley Cup Finals" for "Which team won the 2022 NHL Stanley Cup Finals?" → "Colorado Avalanche"):
    the first run of its words that are neither the question's nor stop words. A line that mostly does
    not restate the question is returned whole."""
    words = line.split()
    asked = terms(question)
    content = [w for w in words if tokenize(w)]
    restated = [w for w in content if terms(w) <= asked]
    if len(words) < 5 or len(restated) < max(2, len(content) / 2):
        return line
    run: list[str] = []
    for word in words:
        bare = word.strip(".,;:!?\"'()\u201c\u201d\u2018\u2019")
        if bare and tokenize(bare) and not terms(bare) <= asked:
            run.append(bare if not run else word.rstrip(".,;:!?"))
        elif run and (not tokenize(bare) and bare.lower() in ("of", "and", "de", "the", "&") and word is not words[-1]):
            run.append(word)  # "Bank of America", "Bed Bath & Beyond"
        elif run:
            break
    while run and not tokenize(run[-1]):
        run.pop()
    if run:  # "Kanye West's Twitter account was locked" → "Kanye West", not "Kanye West's"
        run[-1] = re.sub(r"['\u2019]s$", "", run[-1])
    return " ".join(run) or line


class WordGate:
    """Holds streamed text back until it contains a word, so a wordless reply is never shown, and
    while it may still be the cannot-answer sentinel, which the answerer may replace with a quote."""

    def __init__(self, emit: Callable[[str], None] | None) -> None:
        self.emit = emit
        self.held = ""
        self.open = False
        self.first_shown: float | None = None  # time.perf_counter() of the first text shown

    def feed(self, text: str) -> None:
        if not text:
            return
        if not self.open:
            self.held += text
            if not re.search(r"[^\W_]", MARKER.sub("", self.held)) or _may_decline(self.held):
                return
            text, self.held, self.open = self.held, "", True
        if self.first_shown is None:
            self.first_shown = time.perf_counter()
        if self.emit:
            self.emit(text)

    def release(self) -> None:
        """Show what is held (the sentinel, once the answerer has settled on declining)."""
        held, self.held, self.open = self.held, "", True
        self.feed(held)
