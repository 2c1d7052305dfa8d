"""Answering retrieved passages: the Answerer protocol, the Answer both engines return, and the shared
abstention sentinel.

The engines: extractive.py (offline, quotes sentences) and generative.py (an LLM through an LCEL
chain); spans.py finds the short answer in a sentence, bridge.py answers a question about "the
company that…" in two hops; support.py scores how well a sentence supports a question or a claim (both engines);
citations.py turns [n] markers into verbatim quotes. Out of scope: retrieval and rendering.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

from ..types import Passage, TimeFrame
from .related import RelatedWords

OnToken = Callable[[str], None]
Weights = Callable[[str], float]  # term → weight (support.TermWeights)
History = list[tuple[str, str]]  # earlier (question, answer) turns
# Passages retrieved again for the question in other words, and those words; None when it has none.
OtherWords = Callable[[], tuple[list[Passage], RelatedWords] | None]

# The one phrase that means "not answerable from the articles": the prompts ask the model to
# say exactly this, the extractive answerer uses it, and the tests and eval look for it.
CANNOT_ANSWER = "I cannot answer that from the indexed articles."


@dataclass(frozen=True)
class Citation:
    n: int  # the [n] marker: passage n of those shown to the answerer
    passage: Passage
    quote: str  # verbatim: article_text[start:end]
    start: int
    end: int
    score: float
    attached: bool = False  # True when added afterwards because the model gave no marker

    def to_json(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "article_id": self.passage.article_id,
            "chunk_id": self.passage.chunk_id,
            "title": self.passage.title,
            "source": self.passage.source,
            "published": self.passage.published,
            "url": self.passage.url,
            "start": self.start,
            "end": self.end,
            "quote": self.quote,
            "score": round(self.score, 4),
            "attached": self.attached,
        }


@dataclass(frozen=True)
class SentenceCheck:
    """One sentence of an answer and how well the passages it cites support it."""

    text: str  # without markers
    start: int  # the sentence (markers included) in Answer.text
    end: int
    citations: tuple[int, ...]  # the [n] it cites (none: checked against the passages the answer cites)
    support: float  # evidence.support scale, 0-1
    supported: bool

    def to_json(self) -> dict[str, Any]:
        return {"text": self.text, "start": self.start, "end": self.end, "citations": list(self.citations), "support": round(self.support, 4), "supported": self.supported}


@dataclass
class Answer:
    question: str
    text: str
    abstained: bool
    citations: list[Citation] = field(default_factory=list)
    passages: list[Passage] = field(default_factory=list)  # those the answerer was shown, numbered as cited
    retrieved: list[Passage] = field(default_factory=list)  # the retriever's top k, in rank order (the model may see fewer)
    standalone_question: str = ""
    dropped_markers: list[str] = field(default_factory=list)  # invalid [n] the model wrote, removed
    moved_markers: list[str] = field(default_factory=list)  # "[2]→[1]": a marker re-cited to the passage that supports its sentence
    engine: str = "extractive"  # extractive | llm | extractive-fallback (the model gave no usable answer)
    fallback: str = ""  # with extractive-fallback: why the model's reply was not used
    timings_ms: dict[str, float] = field(default_factory=dict)
    short_answer: str = ""  # the direct answer (a name, number, phrase) before its support; "" when declined
    sentences: list[SentenceCheck] = field(default_factory=list)
    time_frame: TimeFrame | None = None  # the publication dates retrieval preferred

    def to_json(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "standalone_question": self.standalone_question or self.question,
            "answer": self.text,
            "short_answer": self.short_answer,
            "abstained": self.abstained,
            "engine": self.engine,
            "fallback": self.fallback or None,
            "citations": [c.to_json() for c in self.citations],
            "dropped_markers": self.dropped_markers,
            "moved_markers": self.moved_markers,
            "sentences": [sentence.to_json() for sentence in self.sentences],
            "passages": [
                {"n": i, "article_id": p.article_id, "chunk_id": p.chunk_id, "title": p.title, "start": p.start, "end": p.end, "score": round(p.score, 4)}
                for i, p in enumerate(self.passages, start=1)
            ],
            "time_frame": self.time_frame.to_json() if self.time_frame else None,
            "timings_ms": {k: round(v, 1) for k, v in self.timings_ms.items()},
        }


class Answerer(Protocol):
    """What the engine needs of an answer engine."""

    def answer(
        self, question: str, standalone: str, passages: list[Passage], today: date, weights: Weights, on_token: OnToken | None = None, other_words: OtherWords | None = None,
    ) -> Answer:
        """Answer ``standalone`` (the question as retrieved for) from ``passages``; ``on_token`` sees the text as it is produced;
        ``other_words``, called when nothing in ``passages`` supports the question well enough, retrieves again for it in other words."""
        ...

    def condense(self, question: str, history: History) -> str:
        """A follow-up question made standalone, given the earlier turns."""
        ...
