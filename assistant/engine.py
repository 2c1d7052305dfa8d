"""The one code path behind `ask`, `chat` and `eval`: make the question standalone, retrieve, answer.

Out of scope: how retrieval ranks (retrieval.py) and how an answer is made (answer/).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date

from .answer import Answer, Answerer, History, OnToken, OtherWords
from .answer.related import RelatedWords
from .answer.support import TermWeights
from .config import Settings
from .embeddings import TextEmbeddings, make_embedder
from .errors import EmptyIndexError, InputError
from .retrieval import Retriever
from .store.index import Index
from .tokens import tokenize
from .types import Filters, Passage, TimeFrame

MAX_QUESTION_CHARS = 4000  # longer "questions" are documents pasted by mistake; MiniLM reads 256 word pieces anyway


def check_question(question: str) -> str:
    question = question.strip()
    if not question:
        raise InputError("the question is empty; ask something, e.g. assistant ask \"Who invested in Mistral AI?\"")
    if len(question) > MAX_QUESTION_CHARS:
        raise InputError(f"the question is {len(question):,} characters long; keep it under {MAX_QUESTION_CHARS:,}")
    return question


def make_answerer(settings: Settings, embedder: TextEmbeddings) -> Answerer:
    """The generative answerer when a model is configured (and not --offline), else the extractive one."""
    if settings.uses_llm:
        from .answer.generative import GenerativeAnswerer

        return GenerativeAnswerer(settings, embedder)
    from .answer.extractive import ExtractiveAnswerer

    return ExtractiveAnswerer(embedder, settings.min_relevance)


class Assistant:
    """Opens the index once and answers questions against it."""

    def __init__(self, settings: Settings, index: Index | None = None, answerer: Answerer | None = None) -> None:
        self.settings = settings
        if index is None:
            embedder = make_embedder(settings)
            embedder.preload()  # the model loads while the index opens
            index = Index(settings, embedder)
        self.index = index
        if self.index.is_empty():
            raise EmptyIndexError(f"the index at {settings.index} is empty; add articles with 'assistant ingest PATH'")
        self.retriever = Retriever(self.index, settings)
        self._answerer = answerer
        self._weights: TermWeights | None = None

    @property
    def answerer(self) -> Answerer:
        if self._answerer is None:  # made on first use: the generative one imports LangChain and connects to a model
            self._answerer = make_answerer(self.settings, self.index.embedder)
        return self._answerer

    def ask(
        self, question: str, filters: Filters | None = None, history: History | None = None,
        on_token: OnToken | None = None, on_frame: Callable[[TimeFrame], None] | None = None,
    ) -> Answer:
        """Answer ``question`` (given the earlier (question, answer) turns) with citations.

        ``on_token`` receives the answer as it streams; ``on_frame`` the time frame, before any of it.
        """
        question = check_question(question)
        filters = filters or Filters(as_of=date.today())
        timings: dict[str, float] = {}
        started = time.perf_counter()
        standalone = self.answerer.condense(question, history) if history else question
        timings["condense"] = (time.perf_counter() - started) * 1000
        started = time.perf_counter()
        passages, frame = self.retriever.ranked(standalone, self.settings.k, filters)
        timings["retrieve"] = (time.perf_counter() - started) * 1000
        if on_frame:
            on_frame(frame)
        started = time.perf_counter()
        asked_again: list[list[Passage]] = []
        other_words = self._other_words(standalone, filters, asked_again) if self.settings.other_words else None
        answer = self.answerer.answer(question, standalone, passages, filters.as_of or date.today(), self.term_weights(), on_token, other_words)
        timings["answer"] = (time.perf_counter() - started) * 1000
        # What a terminal user waits before the answer starts (an offline answer appears all at once).
        timings["first_token"] = timings["condense"] + timings["retrieve"] + answer.timings_ms.get("first_token", timings["answer"])
        answer.standalone_question = standalone
        answer.timings_ms = timings
        answer.time_frame = frame
        answer.retrieved = asked_again[-1] if asked_again else passages
        return answer

    def _other_words(self, standalone: str, filters: Filters, asked_again: list[list[Passage]]) -> OtherWords:
        """Retrieval again for the question with its words no indexed text uses met by WordNet's related
        words (answer/related.py), for an answerer that found no support; the passages are kept in ``asked_again``."""

        def again() -> tuple[list[Passage], RelatedWords] | None:
            weights = self.term_weights()
            related = RelatedWords(frozenset(word for word in tokenize(standalone) if weights.unused(word)))
            if not related.words:
                return None
            # Twice as deep: the question's own words ranked the passages that failed it.
            passages, _ = self.retriever.ranked(standalone, 2 * self.settings.k, filters, words=related.expansion(standalone))
            asked_again.append(passages)
            return passages, related

        return again

    def term_weights(self) -> TermWeights:
        """IDF of the indexed chunks' terms (from the word index: the BM25 sidecar, or the server's counts
        of the words asked so far, a mapping that grows with each question), made once per process."""
        if self._weights is None:
            lexical = self.retriever.lexical or self.index.lexical()  # with hybrid search off the word index still counts
            frequencies, documents = lexical.document_frequencies() if lexical else ({}, 0)
            self._weights = TermWeights(frequencies, documents)
        return self._weights
