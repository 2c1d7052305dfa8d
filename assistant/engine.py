"""The one code path behind `ask`, `chat` and `eval`: retrieve, then answer (extractive or LLM)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from datetime import date

from .answer_types import Answer
from .config import Settings
from .embeddings import make_embedder
from .errors import EmptyIndexError, InputError
from .evidence import TermWeights, idf_weights
from .index import Index
from .retrieval import Filters, Retriever, frame_for
from .timeframe import TimeFrame

MAX_QUESTION_CHARS = 4000  # longer "questions" are documents pasted by mistake; MiniLM reads 256 word pieces anyway
OnToken = Callable[[str], None]


def check_question(question: str) -> str:
    question = question.strip()
    if not question:
        raise InputError("the question is empty; ask something, e.g. assistant ask \"Who invested in Mistral AI?\"")
    if len(question) > MAX_QUESTION_CHARS:
        raise InputError(f"the question is {len(question):,} characters long; keep it under {MAX_QUESTION_CHARS:,}")
    return question


class Assistant:
    """Opens the index once and answers questions against it."""

    def __init__(self, settings: Settings, index: Index | None = None) -> None:
        self.settings = settings
        if index is None:
            embedder = make_embedder(settings)
            if hasattr(embedder, "preload"):
                embedder.preload()  # the model loads while the index opens
            index = Index(settings, embedder)
        self.index = index
        if self.index.is_empty():
            raise EmptyIndexError(f"the index at {settings.index} is empty; add articles with 'assistant ingest PATH'")
        self.retriever = Retriever(self.index, settings)
        self._chain = None
        self._weights: TermWeights | None = None

    def ask(
        self, question: str, filters: Filters | None = None, history: list[tuple[str, str]] | None = None,
        on_token: OnToken | None = None, on_frame: Callable[[TimeFrame], None] | None = None,
    ) -> Answer:
        """Answer ``question`` (given the earlier (question, answer) turns) with citations.

        ``on_token`` receives the answer as it streams; ``on_frame`` the time frame, before any of it.
        """
        question = check_question(question)
        filters = filters or Filters(as_of=date.today())
        timings: dict[str, float] = {}
        started = time.perf_counter()
        standalone = self._standalone(question, history or [])
        timings["condense"] = (time.perf_counter() - started) * 1000
        if self.settings.recency:
            filters = replace(filters, frame=frame_for(standalone, filters))
            if on_frame:
                on_frame(filters.frame)  # type: ignore[arg-type]
        started = time.perf_counter()
        passages = self.retriever.retrieve(standalone, self.settings.k, filters)
        timings["retrieve"] = (time.perf_counter() - started) * 1000
        started = time.perf_counter()
        if self.settings.uses_llm:
            answer = self.chain().answer(question, standalone, passages, history or [], on_token, self.term_weights(), filters.as_of)
        else:
            from .extractive import answer_extractively

            answer = answer_extractively(standalone, passages, self.index.embedder, self.settings.min_relevance, self.term_weights())
            answer.question = question
        timings["answer"] = (time.perf_counter() - started) * 1000
        # What a terminal user waits before the answer starts (an offline answer appears all at once).
        timings["first_token"] = timings["condense"] + timings["retrieve"] + answer.timings_ms.get("first_token", timings["answer"])
        answer.standalone_question = standalone
        answer.timings_ms = timings
        answer.time_frame = filters.frame
        return answer

    def term_weights(self) -> TermWeights:
        """IDF of the indexed chunks' terms (from the BM25 sidecar), computed once per process."""
        if self._weights is None:
            frequencies, documents = self.index.sidecar.document_frequencies() if self.index.sidecar.exists() else ({}, 0)
            self._weights = idf_weights(frequencies, documents) if documents else TermWeights.uniform()
        return self._weights

    def _standalone(self, question: str, history: list[tuple[str, str]]) -> str:
        if not history:
            return question
        if self.settings.uses_llm:
            return self.chain().condense(question, history)
        from .condense import carry_subject

        return carry_subject(question, [q for q, _ in history])

    def chain(self):  # type: ignore[no-untyped-def]
        if self._chain is None:
            from .chain import LLMChain

            self._chain = LLMChain(self.settings, self.index.embedder)
        return self._chain
