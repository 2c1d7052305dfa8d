"""The generative answerer: an LCEL chain (prompt | chat model) over numbered passages.

standalone question → (retrieved passages, by the engine) → the passages that can answer → prompt
from prompts/ → chat model → short answer line + supporting sentence with its [n] → checked before
it is shown: a reply without words of its own gets one corrective retry, then the extractive answer
(engine "extractive-fallback"); a reply of the short answer alone gets its cited passage's supporting
sentence, verbatim; markers are checked against the passages shown and moved to the
best-ranked passage that supports their sentence; each sentence is scored for support by what it
cites. Passages reach the model inside <passage> delimiters as quoted data, never as instructions.
Out of scope: talking to the model (models.py) and parsing the reply (reply.py).
"""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import date
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.output_parsers import StrOutputParser

from ..condense import carry_subject
from ..config import Settings
from ..embeddings import TextEmbeddings
from ..tokens import terms
from ..types import Passage
from . import CANNOT_ANSWER, Answer, History, OnToken, OtherWords, SentenceCheck, Weights
from .citations import MarkerStream, Validated, check_sentences, citations_for, retarget, validate
from .extractive import answer_extractively
from .models import make_chat_model, stream_text, with_retries
from .prompts import answer_prompt, condense_prompt, display_date, format_passages, retry_prompt
from .related import RelatedWords
from .reply import WordGate, answer_span, has_answer_words, says_cannot_answer, short_answer
from .support import SUPPORT_BAR, claim_similarity, mentions, scored_candidates, supporting_passages, trim_passages

HISTORY_TURNS = 4  # earlier turns given to the condense prompt
# Why the extractive answer stands in for the model's (Answer.fallback).
NO_WORDS = "the model gave no answer in words, twice"
DECLINED = "the model declined, but a passage answers"


class GenerativeAnswerer:
    """Answers (streaming) and condenses follow-ups with a chat model (the Answerer protocol)."""

    def __init__(self, settings: Settings, embedder: TextEmbeddings, model: BaseChatModel | None = None) -> None:
        self.settings = settings
        self.embedder = embedder
        self.model = model or make_chat_model(settings)
        # LCEL: prompt | model; the model's stream is read by models.stream_text (retries, markers).
        self.answer_chain = answer_prompt() | self.model
        self.retry_chain = retry_prompt() | self.model
        self.condense_chain = condense_prompt() | self.model | StrOutputParser()

    def answer(
        self, question: str, standalone: str, passages: list[Passage], today: date, weights: Weights, on_token: OnToken | None = None, other_words: OtherWords | None = None,
    ) -> Answer:
        started = time.perf_counter()
        scored = scored_candidates(standalone, passages, self.embedder, weights)
        related: RelatedWords | None = None
        # In other words, the passages must clear the extractive answerer's bar, its focus check included:
        # without it the model answered a seed paraphrase from the wrong article, and at a bar of 0.25 it
        # answered 3, 1 right (citation precision 0.917 → 0.892, → 0.846; eval/reports/llm.md).
        if self._best(scored) < self.settings.min_relevance and other_words and (again := other_words()):
            passages, related = again
            scored = scored_candidates(standalone, passages, self.embedder, weights, focus=True, related=related)
        if not passages or self._best(scored) < self.settings.min_relevance:
            if on_token:
                on_token(CANNOT_ANSWER)
            return Answer(question, CANNOT_ANSWER, abstained=True, passages=passages, engine="llm")
        retrieved = passages  # the extractive answer standing in for the model's reads all of them, as offline
        # The prompt is most of a local model's time: show it the passages that can answer.
        if self.settings.prompt_support_ratio:
            passages = supporting_passages(passages, scored, self.settings.prompt_support_ratio)
        if self.settings.passage_sentences:
            passages = trim_passages(passages, scored, self.settings.passage_sentences)
        inputs = {"passages": format_passages(passages), "question": standalone, "today": display_date(today)}
        gate = WordGate(on_token)
        raw = self._reply(self.answer_chain, inputs, len(passages), gate)
        if not says_cannot_answer(raw) and not has_answer_words(raw, standalone):
            gate.held = ""  # the wordless reply is never shown
            raw = self._reply(self.retry_chain, {**inputs, "previous": raw}, len(passages), gate)
        if says_cannot_answer(raw):
            # A decline needs the extractive answerer's agreement: its bar (with the focus check) was
            # calibrated to decline what the articles do not answer, and a small model declines answerable
            # questions too (RealTime QA dev, Qwen2.5-1.5B: 14 such declines quoted instead, 8 of them
            # right; seed: none of the 10 unanswerable questions answered: eval/reports/llm.md).
            if self.settings.quote_when_model_declines:
                fallback = self._extractive(question, standalone, retrieved, weights, gate, started, DECLINED, related)
                if not fallback.abstained:
                    return fallback
            gate.release()
            timings = {"first_token": ((gate.first_shown or time.perf_counter()) - started) * 1000}
            return Answer(question, CANNOT_ANSWER, abstained=True, passages=passages, engine="llm", timings_ms=timings)
        if not has_answer_words(raw, standalone):  # twice without words: the extractive answer, flagged
            return self._extractive(question, standalone, retrieved, weights, gate, started, NO_WORDS, related)
        timings = {"first_token": ((gate.first_shown or time.perf_counter()) - started) * 1000}
        answer = self._cited(question, standalone, raw, passages, weights, timings)
        if len(answer.sentences) == 1 and answer.citations:
            # The short answer alone ("Nhulunbuy [1]"; 44% of Qwen 1.5B's RealTime QA replies): the
            # supporting sentence the prompt asked for is added, verbatim, from the passage it cites.
            quote = answer.citations[0]
            support = f"\n{quote.quote.strip()} [{quote.n}]"
            gate.feed(support)
            answer = self._cited(question, standalone, raw.rstrip() + support, passages, weights, timings)
        return answer

    @staticmethod
    def _best(scored: list[tuple[float, Any]]) -> float:
        return max((score for score, _ in scored), default=0.0)

    def _extractive(
        self, question: str, standalone: str, passages: list[Passage], weights: Weights, gate: WordGate, started: float, why: str, related: RelatedWords | None = None,
    ) -> Answer:
        """The extractive answer in place of the model's, flagged ``extractive-fallback`` with ``why``;
        shown unless it declines too."""
        fallback = answer_extractively(standalone, passages, self.embedder, self.settings.min_relevance, weights, related)
        fallback.question = question
        if not fallback.abstained:
            gate.held = ""  # the model's reply is not the answer
            gate.feed(fallback.text)
            fallback.engine, fallback.fallback = "extractive-fallback", why
        fallback.timings_ms = {"first_token": ((gate.first_shown or time.perf_counter()) - started) * 1000}
        return fallback

    def _cited(self, question: str, standalone: str, raw: str, passages: list[Passage], weights: Weights, timings: dict[str, float]) -> Answer:
        """Citations for the reply's markers, and each sentence's support by what it cites.

        The short-answer line ("Colombia") is scored as the question answered by it, so that its quote
        is the sentence that answers the question, and it counts as supported only if the words of its
        answer occur in the passage it cites.
        """
        similarity = claim_similarity(self.embedder, weights)
        checked = validate(raw, len(passages))
        short = short_answer(checked.text, standalone)
        span = answer_span(short, standalone)  # the answer inside a line that may restate the question

        def as_scored(v: Validated) -> Validated:
            if not v.claims or v.claims[0][0].rstrip(".") != short:
                return v
            return replace(v, claims=[(f"{standalone} {short}", v.claims[0][1]), *v.claims[1:]])

        moved_to, moved = retarget(as_scored(checked), passages, similarity, SUPPORT_BAR)
        if moved:
            checked = replace(validate(moved_to.text, len(passages)), dropped=moved_to.dropped)
        scoring = as_scored(checked)
        citations = citations_for(scoring, passages, similarity)
        sentences = check_sentences(scoring, citations, passages, similarity, SUPPORT_BAR)
        if sentences and scoring is not checked:  # the short-answer line checked by the words of its answer
            first = sentences[0]
            # The passage it cites, title included: the answer ("Velveeta") may be named in the title or the
            # sentence before the one that supports the question. The line's words that restate the question
            # ("… won the 2022 NHL Stanley Cup Finals") are the question's, not the answer's.
            cited = [c.passage for c in citations if c.n in first.citations] or [c.passage for c in citations] or passages
            support = mentions(span, [f"{p.title}\n{p.text}" for p in cited])
            sentences[0] = SentenceCheck(checked.claims[0][0], first.start, first.end, first.citations, support, support >= SUPPORT_BAR)
        return Answer(
            question, checked.text, abstained=False, citations=citations, passages=passages, dropped_markers=checked.dropped,
            moved_markers=moved, engine="llm", timings_ms=timings, short_answer=span, sentences=sentences,
        )

    def _reply(self, chain: Any, inputs: dict[str, str], passage_count: int, gate: WordGate) -> str:
        """The model's streamed reply; shown through the marker filter and the word gate."""
        markers = MarkerStream(passage_count)
        raw = stream_text(chain, inputs, self.settings, lambda piece: gate.feed(markers.feed(piece)))
        gate.feed(markers.close())
        return raw

    def condense(self, question: str, history: History) -> str:
        """A standalone version of a follow-up question; the offline rewrite when the model's is implausible."""
        turns = history[-HISTORY_TURNS:]
        transcript = "\n".join(f"User: {q}\nAssistant: {a}" for q, a in turns)
        reply = with_retries(lambda: self.condense_chain.invoke({"history": transcript, "question": question}), self.settings)
        lines = reply.strip().strip('"').splitlines()
        rewrite = lines[0].strip() if lines else ""
        return rewrite if plausible_rewrite(rewrite, question) else carry_subject(question, history)


def plausible_rewrite(rewrite: str, question: str) -> bool:
    """A rewrite must keep the follow-up's own content words; small models sometimes answer instead of rewriting."""
    wanted = terms(question)
    return 3 <= len(rewrite) <= 500 and (not wanted or bool(wanted & terms(rewrite)))
