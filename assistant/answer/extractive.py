"""The offline answerer: no LLM, the answer is the retrieved sentences that best answer the question.

Each sentence is scored by ``support.support_scores`` (embedding similarity, weighted term
coverage, answer-type and focus checks). Below ``min_relevance`` it abstains with the shared
sentinel rather than quote something unrelated. The answer is one sentence — of those supporting
the question within TIE_MARGIN of the best, the one from the highest-ranked passage, or a sentence
of a higher-ranked one stating the same short answer (CORROBORATED) — with its short answer
(spans.py) on the line before it; a second sentence only from the same article or for
a part the first lacks (against always quoting the two best, RealTime QA dev: citations per answer
1.43 → 1.29, article-level citation precision 0.457 → 0.523, gold contained 0.468 → 0.460).
A question naming a thing by a relative clause ("the company that unveiled Mistral Large") may be
answered in two hops (bridge.py). Follow-ups are made standalone by ``condense.carry_subject``.
"""

from __future__ import annotations

import re
from datetime import date

from ..condense import carry_subject
from ..embeddings import TextEmbeddings
from ..types import Passage
from . import CANNOT_ANSWER, Answer, Citation, History, OnToken, OtherWords, Weights
from .bridge import answer_in_two_hops
from .related import RelatedWords
from .spans import answer_kind, short_span
from .support import scored_candidates

# Asks for more than one thing: a number word, or a plural after which/what ("which companies", not "what does").
SEVERAL = re.compile(r"\b(?:two|three|four|five|both)\b|\b(?:which|what) (?!(?:does|has|is|was)\b)(?:\w+ )?(?!(?:does|has|is|was)\b)\w+(?:ies|[^s\W]s)\b", re.I)
TIE_MARGIN = 0.1  # measured: eval/reports/offline-answer-sweep.md
SECOND_SENTENCE_RATIO = 0.92  # a second sentence must score almost as well as the best one
CORROBORATED = 0.7  # share of the best support a higher-ranked sentence stating the same short answer needs


class ExtractiveAnswerer:
    """Answers by quoting the best-supported sentences of the passages (the Answerer protocol)."""

    def __init__(self, embedder: TextEmbeddings, min_relevance: float) -> None:
        self.embedder = embedder
        self.min_relevance = min_relevance

    def answer(
        self, question: str, standalone: str, passages: list[Passage], today: date, weights: Weights, on_token: OnToken | None = None, other_words: OtherWords | None = None,
    ) -> Answer:
        answer = answer_extractively(standalone, passages, self.embedder, self.min_relevance, weights)
        if answer.abstained and other_words and (again := other_words()):
            answer = answer_extractively(standalone, again[0], self.embedder, self.min_relevance, weights, again[1])
        answer.question = question
        if on_token:
            on_token(answer.text)
        return answer

    def condense(self, question: str, history: History) -> str:
        return carry_subject(question, history)


def answer_extractively(question: str, passages: list[Passage], embedder: TextEmbeddings, min_relevance: float, weights: Weights, related: RelatedWords | None = None) -> Answer:
    """Answer from ``passages`` by quoting; abstain when no sentence's support clears ``min_relevance``
    (scored with the question's ``related`` words, when it is asked again in other words)."""
    scored = scored_candidates(question, passages, embedder, weights, focus=True, related=related)
    candidates = [c for _, c in scored]
    ranked = sorted(((score, i) for i, (score, _) in enumerate(scored)), reverse=True)
    if not ranked or ranked[0][0] < min_relevance:
        return Answer(question, CANNOT_ANSWER, abstained=True, passages=passages)
    best_score = ranked[0][0]
    floor = max(min_relevance, SECOND_SENTENCE_RATIO * best_score)
    # Of the sentences that support the question almost as well as the best, the one from the passage the
    # retriever ranked highest: on RealTime QA a first citation from the top article is right 73% of
    # the time, from ranks 2-5 17%.
    first = min((candidates[i] for score, i in ranked if score >= (1 - TIE_MARGIN) * best_score), key=lambda c: c.n)
    hop = answer_in_two_hops(question, passages, embedder, weights, min_relevance, first)
    if hop:  # the sentence naming the thing the question describes, then the one answering about it
        return _quoting(question, hop.short, [Citation(c.n, c.passage, c.text, c.start, c.end, hop.score) for c in (hop.first, hop.second)], passages)
    short = short_span(question, first.text, first.passage.text)
    # The same short answer stated in a passage the retriever ranked higher, by a sentence that supports
    # the question well enough, is the one quoted (RealTime QA dev: article-level citation precision
    # 0.562 → 0.607, gold contained unchanged; eval/reports/offline-answer-sweep.md).
    stated_higher = [
        candidates[i] for score, i in ranked if short and candidates[i].n < first.n and score >= max(min_relevance, CORROBORATED * best_score) and short in candidates[i].text
    ]
    first = min(stated_higher, key=lambda c: c.n, default=first)
    chosen = [first]
    # A second sentence (almost as well supported) from the same article, or from another one only when
    # it adds a needed part: the short answer the first lacks, another of several things asked for
    # ("Which two investors…"), or support for a question whose answer is no kind of span.
    kind = answer_kind(question)
    needed = kind is None or not short or SEVERAL.search(question)
    for score, i in ranked:
        if candidates[i] is first:
            continue
        if score < floor:
            break
        extra = short_span(question, candidates[i].text, candidates[i].passage.text)
        same_article = candidates[i].passage.article_id == first.passage.article_id
        if same_article or (needed and (kind is None or (extra and extra != short))):
            chosen.append(candidates[i])
            short = short or extra
            break
    chosen.sort(key=lambda c: (c.n, c.start))  # read in article order
    score_of = {id(candidates[i]): s for s, i in ranked}
    return _quoting(question, short, [Citation(c.n, c.passage, c.text, c.start, c.end, score_of[id(c)]) for c in chosen], passages)


def _quoting(question: str, short: str, citations: list[Citation], passages: list[Passage]) -> Answer:
    """The direct answer, on a line before the quotes it comes from, each with its [n]."""
    text = " ".join(f"{c.quote} [{c.n}]" for c in citations)
    return Answer(question, f"{short}\n{text}" if short else text, abstained=False, citations=citations, passages=passages, short_answer=short)
