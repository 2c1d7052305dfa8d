"""Hybrid retrieval: dense (Chroma) + BM25 sidecar → fusion → de-duplication → second-stage ranking.

Every stage is switchable from Settings (hybrid, dedupe, rerank, recency) so the eval can ablate it.
The second stage is a small feature-weighted ranker (no cross-encoder ships on PyPI): dense
similarity of every candidate, BM25, title match, query-term coverage and the publication date
relative to the question's date.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from .bm25 import tokenize
from .config import Settings
from .index import Index, day_number

RRF_K = 60


@dataclass(frozen=True)
class Passage:
    chunk_id: str
    article_id: str
    title: str
    source: str
    url: str
    published: str
    start: int
    end: int
    text: str
    score: float = 0.0
    dense: float = 0.0  # cosine similarity to the question
    lexical: float = 0.0  # BM25 score (0 when BM25 did not find it)


@dataclass(frozen=True)
class Filters:
    """Hard filters (Chroma metadata / sidecar mask) and the soft date preference."""

    since: date | None = None
    until: date | None = None
    source: str | None = None
    as_of: date | None = None

    def chroma_where(self) -> dict[str, Any] | None:
        clauses: list[dict[str, Any]] = []
        if self.since:
            clauses.append({"published_day": {"$gte": day_number(self.since.isoformat())}})
        if self.until:
            clauses.append({"published_day": {"$lte": day_number(self.until.isoformat())}})
            clauses.append({"published_day": {"$gte": 0}})
        if self.source:
            clauses.append({"source": {"$eq": self.source}})
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}

    def allows(self, day: int, source: str) -> bool:
        if self.since and day < day_number(self.since.isoformat()):
            return False
        if self.until and (day < 0 or day > day_number(self.until.isoformat())):
            return False
        return not (self.source and source != self.source)


def recency_weight(published_day: int, as_of_day: int) -> float:
    """Prefer articles from the days just before the question; later ones are unlikely, older ones fade."""
    if published_day < 0 or as_of_day < 0:
        return 1.0
    age = as_of_day - published_day
    if age < -1:  # published after the question was asked
        return 0.55
    if age <= 7:
        return 1.0
    return max(0.6, 1.0 - 0.1 * math.log2(age / 7))


def _passage(chunk_id: str, text: str, meta: dict[str, Any], **scores: float) -> Passage:
    return Passage(
        chunk_id=chunk_id,
        article_id=str(meta.get("article_id", "")),
        title=str(meta.get("title", "")),
        source=str(meta.get("source", "")),
        url=str(meta.get("url", "")),
        published=str(meta.get("published", "")),
        start=int(meta.get("start", 0)),
        end=int(meta.get("end", 0)),
        text=text,
        **scores,
    )


def shingles(text: str) -> frozenset[tuple[str, ...]]:
    words = re.findall(r"\w+", text.lower())
    return frozenset(tuple(words[i : i + 3]) for i in range(max(1, len(words) - 2)))


def near_duplicate(a: str, b: str, threshold: float = 0.8) -> bool:
    """Syndicated copies: most word trigrams shared."""
    return _overlap(shingles(a), shingles(b)) >= threshold


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
        self._size: int | None = None  # chunks in the collection, asked once (a round trip per query otherwise)

    def retrieve(self, question: str, k: int | None = None, filters: Filters | None = None) -> list[Passage]:
        import numpy as np

        k = k or self.settings.k
        filters = filters or Filters()
        n = self.settings.candidates
        query_vector = np.asarray(self.index.embedder.embed_query(question), dtype=np.float32)
        dense = self._dense(query_vector, n, filters)
        lexical = self._lexical(question, n, filters) if self.settings.hybrid else []
        fused = self._fuse(dense, lexical)
        candidates = self._materialise(fused, dense, lexical, query_vector)
        if self.settings.rerank or self.settings.recency:
            candidates = self._rank(question, candidates, filters)
        return diversify(candidates, k, self.settings.per_article, self.settings.dedupe)

    # --- first stage -------------------------------------------------------------

    def _dense(self, vector: Any, n: int, filters: Filters) -> list[tuple[str, float, str, dict[str, Any]]]:
        if self._size is None:
            self._size = self.index.collection.count()
        total = self._size
        if total == 0:
            return []
        result = self.index.collection.query(
            query_embeddings=[vector.tolist()], n_results=min(n, total), where=filters.chroma_where(), include=["documents", "metadatas", "distances"]
        )
        return [
            (chunk_id, 1.0 - float(distance), doc, meta)
            for chunk_id, distance, doc, meta in zip(result["ids"][0], result["distances"][0], result["documents"][0], result["metadatas"][0])
        ]

    def _lexical(self, question: str, n: int, filters: Filters) -> list[tuple[str, float]]:
        sidecar = self.index.bm25
        if not sidecar.exists():
            return []
        sidecar._load()
        meta = sidecar.meta
        assert meta is not None
        mask = None
        if filters.since or filters.until or filters.source:
            mask = [1.0 if filters.allows(day, src) else 0.0 for day, src in zip(meta.published_day, meta.source)]
        return sidecar.search(question, n, mask)

    def _fuse(self, dense: list[tuple[str, float, str, dict[str, Any]]], lexical: list[tuple[str, float]]) -> dict[str, float]:
        scores: dict[str, float] = {}
        for ranked in ([d[0] for d in dense], [chunk_id for chunk_id, _ in lexical]):
            for rank, chunk_id in enumerate(ranked):
                scores[chunk_id] = scores.get(chunk_id, 0.0) + 1.0 / (RRF_K + rank + 1)
        return scores

    def _materialise(self, fused: dict[str, float], dense: list[Any], lexical: list[tuple[str, float]], query_vector: Any) -> list[Passage]:
        """Passages for every fused id; BM25-only hits are fetched from Chroma with their vectors."""
        import numpy as np

        bm25_score = dict(lexical)
        passages = {chunk_id: _passage(chunk_id, doc, meta, dense=sim, lexical=bm25_score.get(chunk_id, 0.0)) for chunk_id, sim, doc, meta in dense}
        missing = [chunk_id for chunk_id in fused if chunk_id not in passages]
        if missing:
            try:
                got = self.index.collection.get(ids=missing, include=["documents", "metadatas", "embeddings"])
                vectors = list(got["embeddings"])
            except Exception:  # chromadb 1.5 can fail to return vectors not yet compacted into its index
                got = self.index.collection.get(ids=missing, include=["documents", "metadatas"])
                floor = min((d[1] for d in dense), default=0.0)  # unknown similarity: no better than the weakest dense hit
                vectors = [None] * len(got["ids"])
            for chunk_id, doc, meta, vector in zip(got["ids"], got["documents"], got["metadatas"], vectors):
                sim = float(np.dot(np.asarray(vector, dtype=np.float32), query_vector)) if vector is not None else floor
                passages[chunk_id] = _passage(chunk_id, doc, meta, dense=sim, lexical=bm25_score.get(chunk_id, 0.0))
        ranked = sorted((chunk_id for chunk_id in fused if chunk_id in passages), key=lambda c: -fused[c])
        return [replace(passages[c], score=fused[c]) for c in ranked]

    # --- second stage ------------------------------------------------------------

    def _rank(self, question: str, candidates: list[Passage], filters: Filters) -> list[Passage]:
        as_of = filters.as_of or date.today()
        as_of_day = day_number(as_of.isoformat())
        terms = set(tokenize(question))
        top_bm25 = max((p.lexical for p in candidates), default=0.0) or 1.0
        ranked = []
        for passage in candidates:
            score = passage.score * 60  # RRF, scaled to ~[0, 2]
            if self.settings.rerank:
                title_terms = set(tokenize(passage.title))
                text_terms = set(tokenize(passage.text))
                coverage = len(terms & (text_terms | title_terms)) / len(terms) if terms else 0.0
                title_match = len(terms & title_terms) / len(terms) if terms else 0.0
                score = 1.0 * passage.dense + 0.5 * passage.lexical / top_bm25 + 0.4 * coverage + 0.3 * title_match + 0.2 * score
            if self.settings.recency:
                score *= recency_weight(day_number(passage.published), as_of_day)
            ranked.append(replace(passage, score=score))
        return sorted(ranked, key=lambda p: -p.score)
