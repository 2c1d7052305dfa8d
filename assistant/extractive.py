"""The offline answerer: no LLM, the answer is the retrieved sentences that best answer the question.

Each sentence is scored by ``evidence.support_scores`` (embedding similarity, IDF-weighted term
coverage, answer-type checks). Below ``min_relevance`` it abstains with the shared sentinel
rather than quote something unrelated.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from .answer_types import CANNOT_ANSWER, Answer, Citation
from .chunking import split_sentences
from .embeddings import Embedder
from .evidence import TermWeights, support_scores
from .retrieval import Passage

MAX_SENTENCES = 2
SENTENCE_BUDGET = 12  # sentences embedded per question, best term coverage first (evidence.support_scores)
SECOND_SENTENCE_RATIO = 0.92  # a second sentence must score almost as well as the best one
MIN_CHARS = 25  # headlines, datelines and bylines are not answers
# Article text is data: a sentence addressed to an AI model is never quoted as an answer.
INSTRUCTION = re.compile(
    r"\b(ignore|disregard|forget|override)\b.{0,40}\b(instructions?|prompts?|rules|directions|above|previous|prior|earlier)\b"
    r"|\b(new|updated|real|hidden) instructions?\b|</?\s*passage\b"
    r"|\b(system prompt|you are now|as an ai|language model|assistant must|respond (only )?with|reply (only )?with|output the word)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Candidate:
    n: int  # passage number
    passage: Passage
    text: str
    start: int  # article offsets
    end: int


def candidate_sentences(passages: list[Passage]) -> list[Candidate]:
    """Every sentence of the passages once (overlapping chunks repeat sentences), with article offsets."""
    seen: set[tuple[str, int]] = set()
    found = []
    for n, passage in enumerate(passages, start=1):
        for start, end in split_sentences(passage.text):
            key = (passage.article_id, passage.start + start)
            text = passage.text[start:end]
            # A question is never an answer: quiz pages in news corpora repeat the very question asked.
            if key in seen or len(text) < MIN_CHARS or text == passage.title.strip() or text.rstrip("\"'\u201d\u2019) ").endswith("?") or INSTRUCTION.search(text):
                continue
            seen.add(key)
            found.append(Candidate(n, passage, text, passage.start + start, passage.start + end))
    return found


def answer_extractively(question: str, passages: list[Passage], embedder: Embedder, min_relevance: float, weights: Callable[[str], float] | None = None) -> Answer:
    """Answer from ``passages`` by quoting; abstain when no sentence's support clears ``min_relevance``."""
    candidates = candidate_sentences(passages)
    scores = support_scores(question, [(c.text, c.passage) for c in candidates], embedder, weights or TermWeights.uniform(), SENTENCE_BUDGET)
    ranked = sorted(zip(scores, range(len(candidates))), reverse=True)
    if not ranked or ranked[0][0] < min_relevance:
        return Answer(question, CANNOT_ANSWER, abstained=True, passages=passages)
    best_score = ranked[0][0]
    chosen = [candidates[i] for score, i in ranked[:MAX_SENTENCES] if score >= max(min_relevance, SECOND_SENTENCE_RATIO * best_score)]
    chosen.sort(key=lambda c: (c.n, c.start))  # read in article order
    score_of = {id(candidates[i]): s for s, i in ranked}
    citations = [Citation(c.n, c.passage, c.text, c.start, c.end, score_of[id(c)]) for c in chosen]
    text = " ".join(f"{c.text} [{c.n}]" for c in chosen)
    return Answer(question, text, abstained=False, citations=citations, passages=passages)


def best_relevance(question: str, passages: list[Passage], embedder: Embedder, weights: Callable[[str], float] | None = None) -> float:
    """The support of the best sentence in ``passages``: the abstention bar both engines share."""
    candidates = candidate_sentences(passages)
    return max(support_scores(question, [(c.text, c.passage) for c in candidates], embedder, weights or TermWeights.uniform(), SENTENCE_BUDGET), default=0.0)
