"""Hybrid retrieval: dense + BM25 → fusion → second stage with the time-frame preference →
de-duplication, one passage per article first.

Every stage is switchable from Settings (hybrid, rerank, recency, aggregate, dedupe, per_article)
so the eval can ablate it (eval/ablate.py). Candidates come from up to four lists fused by
reciprocal rank: dense and BM25 over the whole index, and dense and BM25 within the question's time
frame (so that its articles are not crowded out by older look-alikes). The second stage is a
feature-weighted ranker (no cross-encoder ships on PyPI) that reads no text: dense similarity, BM25
and the fused rank, times a publication-date weight, plus a share of the scores of the article's
other strong chunks. Text is read only for the best few dozen chunks. Weights, windows and decays
are measured in eval/reports/realtimeqa-ablation.md. Out of scope: reading time words (timeframe.py)
and where chunks are read from (store/index.py chooses the ChunkReader).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

from .chunking import is_sentence
from .config import Settings
from .store.index import Index
from .store.readers import ChunkReader, Lexical
from .timeframe import question_frame, without_time_words
from .types import NO_FRAME, Filters, Passage, TimeFrame, article_of, day_number

RRF_K = 60
_WORD = re.compile(r"\w+")
WINDOW_LEAD_DAYS = 7  # the extra candidate lists start this long before the frame (news of an event may lead it)
AS_OF_DAYS = 7  # a user's explicit --as-of with no time in the question: the week before it
WEIGHTS = {"dense": 1.5, "bm25": 0.5, "fused": 0.2}  # query-term coverage measured no gain: dropped
ARTICLE_BONUS = 0.1  # times the scores of the article's next two chunks (0.2 helped RealTime QA, hurt the seed set)
TEXT_READ = 40  # best-scored chunks whose text is read: de-duplication and the per-article cap skip many
LEDE_MARGIN = 0.1  # see lede_first
DEEP_DENSE = 200  # dense hits fetched when the date window needs its own list


@dataclass(frozen=True)
class DatePreference:
    """How strongly a time frame is preferred, by an article's distance in days from it.

    Weight 1 inside the frame; outside, the larger of a steep decay (halving every ``half_life_days``:
    the days around the frame), a gentle one from ``shoulder`` (halving every ``long_half_life_days``:
    the same story weeks or months away stays findable when the frame is wrong) and ``floor`` (years
    away). Articles published after the as-of date (a day of slack) get the floor.
    """

    half_life_days: float = 4.0
    shoulder: float = 0.7
    long_half_life_days: float = 180.0
    floor: float = 0.3

    def weight(self, distance: int) -> float:
        if distance <= 0:
            return 1.0
        return max(self.floor, 0.5 ** (distance / self.half_life_days), self.shoulder * 0.5 ** (distance / self.long_half_life_days))


def frame_for(question: str, filters: Filters) -> TimeFrame:
    """The time frame to prefer: given, else the question's words, else --since/--until, else a user's
    --as-of (the week before it), else none (only what was published after the as-of date is demoted)."""
    if filters.frame is not None:
        return filters.frame
    as_of = filters.as_of or date.today()
    found = question_frame(question, as_of)
    if found is not None:
        return found
    if filters.since or filters.until:
        return TimeFrame(filters.since or date(1970, 1, 1), min(filters.until or as_of, as_of), "flags")
    if filters.explicit_as_of:
        return TimeFrame(as_of - timedelta(days=AS_OF_DAYS), as_of, "as_of")
    return NO_FRAME


def date_weight(published_day: int, frame: TimeFrame, as_of_day: int, preference: DatePreference) -> float:
    """The soft date preference for an article published on ``published_day`` (days since 1970)."""
    if published_day < 0:  # undated articles are not penalised
        return 1.0
    if published_day > as_of_day + 1:  # published after the question was asked (a day of slack for time zones)
        return preference.floor
    if frame.source == "none":
        return 1.0
    first, last = day_number(frame.start), day_number(frame.end) + 1  # +1: next-day publication
    return preference.weight(first - published_day if published_day < first else published_day - last)


def shingles(text: str) -> frozenset[tuple[str, ...]]:
    words = _WORD.findall(text.lower())
    if len(words) < 3:
        return frozenset([tuple(words)]) if words else frozenset()
    return frozenset(zip(words, words[1:], words[2:]))


def _overlap(a: frozenset[tuple[str, ...]], b: frozenset[tuple[str, ...]]) -> float:
    return len(a & b) / min(len(a), len(b)) if a and b else 0.0


def diversify(ranked: list[Passage], k: int, per_article: int, dedupe: bool = False, threshold: float = 0.8) -> list[Passage]:
    """The top ``k``: near-duplicates of a kept passage from another article (syndicated copies)
    dropped when ``dedupe``, at most ``per_article`` per article, topped up in rank order if short."""
    chosen: list[Passage] = []
    capped: list[Passage] = []
    kept_shingles: list[tuple[str, frozenset[tuple[str, ...]]]] = []
    counts: dict[str, int] = {}
    for passage in ranked:
        if dedupe:
            grams = shingles(passage.text)
            if any(article != passage.article_id and _overlap(grams, other) >= threshold for article, other in kept_shingles):
                continue
        if counts.get(passage.article_id, 0) >= per_article:
            capped.append(passage)
            continue
        chosen.append(passage)
        counts[passage.article_id] = counts.get(passage.article_id, 0) + 1
        if dedupe:
            kept_shingles.append((passage.article_id, grams))
        if len(chosen) == k:
            return chosen
    return chosen + capped[: k - len(chosen)]


class Retriever:
    """Retrieves passages for a question from one Index."""

    def __init__(self, index: Index, settings: Settings) -> None:
        self.index = index
        self.settings = settings
        self.chunks: ChunkReader = index.chunks()  # the sidecar's snapshot, or Chroma (see Index.chunks)
        # The sidecar's BM25, a server's document filters, or none (hybrid off: the retriever's own
        # settings decide, so that one index serves retrievers configured differently, as in eval/ablate.py)
        self.lexical: Lexical | None = index.lexical() if settings.hybrid else None
        self.preference = DatePreference(settings.date_half_life_days, settings.date_shoulder, settings.date_long_half_life_days, settings.date_floor)
        self.tentative = DatePreference(settings.date_half_life_days, settings.tentative_shoulder, settings.date_long_half_life_days, settings.tentative_floor)

    def retrieve(self, question: str, k: int | None = None, filters: Filters | None = None) -> list[Passage]:
        """The top ``k`` passages for ``question`` (see ``ranked``)."""
        return self.ranked(question, k, filters)[0]

    def ranked(self, question: str, k: int | None = None, filters: Filters | None = None, words: str | None = None) -> tuple[list[Passage], TimeFrame]:
        """The top ``k`` passages and the time frame that was preferred; ``words``: what the word search
        looks for instead of the question (the question in other words, answer/related.py).

        A frame named by the question, the flags or an explicit --as-of is preferred firmly. Without
        one, the week before the as-of date (default today) is preferred softly, as is a frame read
        from vague words ("recently", a bare weekday): older articles keep most of their score
        (tentative_shoulder, tentative_floor), so a question asked long after its news still finds
        it, while one asked that week is helped. Measured on RealTime QA asked on its date and 30 or
        60 days later (eval/reports/realtimeqa-ablation.md).
        """
        import numpy as np

        k = k or self.settings.k
        filters = filters or Filters()
        n = self.settings.candidates
        as_of = filters.as_of or date.today()
        frame = frame_for(question, filters) if self.settings.recency else NO_FRAME
        words = words or question
        if frame.source == "question" and self.settings.strip_time_words:  # the frame has read them; they are not what to match
            question = without_time_words(question, as_of) or question
            words = without_time_words(words, as_of) or words
        soft = frame.source == "none" or not frame.firm
        if self.settings.recency and frame.source == "none":
            frame = TimeFrame(as_of - timedelta(days=AS_OF_DAYS), as_of, "as_of", firm=False)
        window = self._window(frame, filters)
        # Words before the question's embedding: on a cold start the model may still be loading.
        lexical = self.lexical.search(words, n, filters) if self.lexical else []
        query_vector = np.asarray(self.index.embedder.embed_query(question), dtype=np.float32)
        # One dense query, deep enough that its part within the window makes a list of its own
        # (a second, filtered query costs Chroma far more than reading deeper: eval/reports/bench.md).
        dense = self.chunks.nearest(query_vector, max(n, DEEP_DENSE) if window else n, filters)
        recent_lexical = self.lexical.search(words, n, window) if self.lexical and window is not None else []
        ids = [chunk_id for hits in (dense, lexical, recent_lexical) for chunk_id, _ in hits]
        days = self.chunks.days_of(ids) if self.settings.recency else {}
        ranked_lists = [[chunk_id for chunk_id, _ in dense[:n]], [chunk_id for chunk_id, _ in lexical]]
        if window is not None:
            first, last = window.day_range()
            assert first is not None and last is not None  # a window always has both ends
            ranked_lists += [[chunk_id for chunk_id, _ in dense if first <= days.get(chunk_id, -1) <= last][:n], [chunk_id for chunk_id, _ in recent_lexical]]
        lexical = lexical + recent_lexical
        fused = _fuse(ranked_lists)
        similarity = self._similarities(fused, dict(dense), query_vector)
        scores = self._second_stage(fused, similarity, dict(lexical), days, filters, frame, self.tentative if soft else self.preference)
        # Only now is any text read (a round trip that grows with the number of chunks asked for).
        ranked = sorted(scores, key=lambda c: -scores[c])[: max(TEXT_READ, 4 * k)]
        passages = lede_first(self._materialise(ranked, scores, similarity, dict(lexical)))
        return diversify(passages, k, self.settings.per_article, self.settings.dedupe), frame

    @staticmethod
    def _window(frame: TimeFrame, filters: Filters) -> Filters | None:
        """The frame's days, from a week before it (within any explicit since/until/source), for the extra candidate lists."""
        if frame.source == "none":
            return None
        return filters.window(frame.start - timedelta(days=WINDOW_LEAD_DAYS), frame.end + timedelta(days=1))

    # --- first stage -------------------------------------------------------------

    def _similarities(self, fused: dict[str, float], dense: dict[str, float], query_vector: Any) -> dict[str, float]:
        """Cosine similarity of every candidate; BM25-only hits get theirs from their stored vectors."""
        similarity = dict(dense)
        missing = [chunk_id for chunk_id in fused if chunk_id not in similarity]
        if not missing:
            return similarity
        try:
            similarity.update(self.chunks.similarities(missing, query_vector))
        except Exception:  # a damaged vector segment in Chroma (Index.unreadable_chunks): rank them without
            floor = min(dense.values(), default=0.0)  # unknown similarity: no better than the weakest dense hit
            similarity.update({chunk_id: floor for chunk_id in missing})
        return similarity

    # --- second stage ------------------------------------------------------------

    def _second_stage(
        self, fused: dict[str, float], similarity: dict[str, float], lexical: dict[str, float], days: dict[str, int], filters: Filters, frame: TimeFrame,
        preference: DatePreference,
    ) -> dict[str, float]:
        """Scores from what is known without reading any text: similarity, BM25, fused rank, date, article."""
        as_of_day = day_number(filters.as_of or date.today())
        top_bm25 = max(lexical.values(), default=0.0) or 1.0
        scores = {}
        for chunk_id, fused_score in fused.items():
            score = fused_score * RRF_K  # scaled to ~[0, 4]
            if self.settings.rerank:
                score = WEIGHTS["dense"] * similarity.get(chunk_id, 0.0) + WEIGHTS["bm25"] * lexical.get(chunk_id, 0.0) / top_bm25 + WEIGHTS["fused"] * score
            if self.settings.recency:
                score *= date_weight(days.get(chunk_id, -1), frame, as_of_day, preference)
            scores[chunk_id] = score
        return aggregate_articles(scores) if self.settings.aggregate else scores

    def _materialise(self, ranked: list[str], scores: dict[str, float], similarity: dict[str, float], lexical: dict[str, float]) -> list[Passage]:
        """Passages (text and metadata) for ``ranked`` ids, in that order."""
        if not ranked:
            return []
        stored = self.chunks.passages(ranked)
        return [
            Passage.of(chunk_id, *stored[chunk_id], dense=similarity.get(chunk_id, 0.0), lexical=lexical.get(chunk_id, 0.0), score=scores[chunk_id])
            for chunk_id in ranked
            if chunk_id in stored
        ]


def lede_first(passages: list[Passage]) -> list[Passage]:
    """Show an article by its opening chunk when its title is the opening sentence and that chunk
    scores within LEDE_MARGIN of the article's best.

    An article with no headline is titled by its lede (articles.py), and every chunk is embedded
    under its title: the lede's words then lift every chunk of the article alike, and a short chunk
    far from the news (a closing paragraph) could stand for the article. The chunk that holds the
    lede is what such a title summarises. Measured on RealTime QA (182 untitled articles): gold
    contained and citation precision up, retrieval unchanged (eval/reports/realtimeqa-offline.md).
    """
    best: dict[str, int] = {}
    for i, passage in enumerate(passages):
        best.setdefault(passage.article_id, i)
    order = list(range(len(passages)))
    for i, passage in enumerate(passages):
        top = best[passage.article_id]
        leader = passages[top]
        if i != top and passage.start == 0 and is_sentence(passage.title) and passage.title in passage.text and passage.score >= (1 - LEDE_MARGIN) * leader.score:
            order[top], order[i] = i, top
    return [replace(passages[j], score=passages[position].score) for position, j in enumerate(order)]


def aggregate_articles(scores: dict[str, float]) -> dict[str, float]:
    """Add to each chunk's score a share of its article's next two best chunks: an article that matches
    in several places is more likely the one asked about than a single lucky chunk."""
    by_article: dict[str, list[float]] = {}
    for chunk_id in sorted(scores, key=lambda c: -scores[c]):
        by_article.setdefault(article_of(chunk_id), []).append(scores[chunk_id])
    boosted = {}
    for chunk_id, score in scores.items():
        others = by_article[article_of(chunk_id)][:3]  # best first
        others.remove(score) if score in others else others.pop()
        boosted[chunk_id] = score + ARTICLE_BONUS * sum(others[:2])
    return boosted


def _fuse(ranked_lists: list[list[str]]) -> dict[str, float]:
    """Reciprocal-rank fusion of several ranked lists of chunk ids."""
    scores: dict[str, float] = {}
    for ranked in ranked_lists:
        for rank, chunk_id in enumerate(ranked):
            scores[chunk_id] = scores.get(chunk_id, 0.0) + 1.0 / (RRF_K + rank + 1)
    return scores
