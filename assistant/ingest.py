"""Ingest: load → plan against the manifest → chunk → embed → write Chroma → manifest → sidecar.

Crash safety comes from the write order: an article's chunks are written to Chroma before the
manifest records it. At start (under the write lock) articles whose chunks a killed run left
incomplete are forgotten; chunks stored but not yet recorded are reused when they match what is
being ingested (chunk ids encode the content hash, so an id names exactly one text) and deleted
otherwise. So a re-run embeds only what was not yet stored, and leaves no orphan or duplicate.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .articles import Problem, load_paths
from .chunking import TokenSpans, chunk_article
from .config import Settings
from .embeddings import make_embedder
from .errors import InputError
from .maintenance import reconcile
from .store.index import Index
from .store.manifest import Plan
from .types import Article, Chunk, day_number

MODEL_TOKENS = 254  # MiniLM reads 256 word pieces, two of them [CLS] and [SEP]
Progress = Callable[[int, int], None]  # (chunks embedded so far, chunks to embed)


@dataclass
class IngestReport:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    chunks_embedded: int = 0
    seconds: float = 0.0
    problems: list[Problem] = field(default_factory=list)
    recovered: int = 0  # articles a previous, interrupted run left incomplete

    def summary(self) -> dict[str, Any]:
        return {
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "removed": self.removed,
            "chunks_embedded": self.chunks_embedded,
            "seconds": round(self.seconds, 2),
            "skipped": [str(p) for p in self.problems if p.fatal],
            "warnings": [str(p) for p in self.problems if not p.fatal],
        }


def chunking_signature(settings: Settings) -> str:
    """What decides a chunk's text and vector: an article indexed with another signature is re-embedded."""
    return f"tokens={settings.chunk_tokens},overlap={settings.chunk_overlap_sentences},v1" + ("" if settings.embed_titles else ",no-titles")


def clip_title(title: str, token_spans: TokenSpans, budget: int) -> str:
    """The title cut to ``budget`` word pieces, so that title + chunk is never truncated by the model."""
    if budget <= 0 or not title:
        return ""
    spans = token_spans([title])[0]
    return title if len(spans) <= budget else title[: spans[budget - 1][1]]


def embedded_text(title: str, chunk: Chunk) -> str:
    """What the embedder sees: the (clipped) title for context, then the chunk."""
    if not title or chunk.text.startswith(title):
        return chunk.text
    return f"{title}\n{chunk.text}"


def chunk_metadata(article: Article, chunk: Chunk) -> dict[str, Any]:
    return {
        "article_id": article.id,
        "title": article.title,
        "source": article.source,
        "url": article.url,
        "published": article.published,
        "published_day": day_number(article.published),
        "start": chunk.start,
        "end": chunk.end,
    }


def ingest(paths: list[Path], settings: Settings, prune: bool = False, progress: Progress | None = None, index: Index | None = None) -> IngestReport:
    """Bring the index in step with ``paths``. Raises InputError when nothing usable was given."""
    started = time.perf_counter()
    loaded = load_paths(paths)
    report = IngestReport(problems=loaded.problems)
    if not loaded.articles and not prune:
        reasons = "; ".join(str(p) for p in loaded.problems[:3]) or "no .txt, .md, .html, .json or .jsonl files found"
        raise InputError(f"nothing to ingest: {reasons}")
    if index is None:
        index = Index(settings, make_embedder(settings), create=True)
    lock = index.write_lock()
    try:
        if index.begin_write() and not prune:  # the last write finished: nothing to reconcile, and
            # only the entries and chunks of the articles given are needed, however large the index
            index.load_manifest([a.id for a in loaded.articles])
            index.manifest.chunking = chunking_signature(settings)
            plan = index.manifest.plan(loaded.articles, loaded.files_read, prune)
            stored = index.stored_chunks({index.manifest.key(a.id) for a in plan.updated})
        else:
            index.load_manifest()
            index.manifest.chunking = chunking_signature(settings)
            stored = index.stored_chunks()
            report.recovered = reconcile(index, stored)
            plan = index.manifest.plan(loaded.articles, loaded.files_read, prune)
        report.added, report.updated, report.unchanged = len(plan.added), len(plan.updated), len(plan.unchanged)
        report.chunks_embedded = _embed_and_store(index, settings, plan, stored, progress)
        if plan.removed:
            index.delete([chunk_id for article_id in plan.removed for chunk_id in stored.get(index.manifest.key(article_id), [])])
            for article_id in plan.removed:
                index.manifest.forget(article_id)
            report.removed = len(plan.removed)
        index.save_manifest()
        index.finish_write()
    finally:
        lock.release()
    report.seconds = time.perf_counter() - started
    return report


def _embed_and_store(index: Index, settings: Settings, plan: Plan, stored: dict[tuple[str, str], list[str]], progress: Progress | None) -> int:
    """Chunk, embed and write the plan's new and changed articles; returns how many chunks were embedded."""
    token_spans = index.embedder.token_spans
    chunked = [(a, chunk_article(a.id, a.content_hash, a.text, token_spans, settings.chunk_tokens, settings.chunk_overlap_sentences)) for a in plan.to_embed]
    budget = MODEL_TOKENS - settings.chunk_tokens - 1 if settings.embed_titles else 0  # -1: the newline
    titles = {a.id: clip_title(a.title, token_spans, budget) for a in plan.to_embed}
    wanted = {chunk.id for _, chunks in chunked for chunk in chunks}
    orphans = {chunk_id for key, ids in stored.items() if not index.manifest.is_live(key) for chunk_id in ids}
    index.delete(sorted(orphans - wanted))  # left by an interrupted run and no longer wanted
    old_ids = {a.id: stored.get(index.manifest.key(a.id), []) for a in plan.updated}
    total = sum(1 for _, chunks in chunked for chunk in chunks if chunk.id not in orphans)
    state = {"done": 0, "total": total}
    if progress:
        progress(0, total)
    for group in commit_groups(chunked, settings.commit_chunks):
        _commit_group(index, group, titles, orphans, old_ids, state, progress)
    return total


def commit_groups(chunked: list[tuple[Article, list[Any]]], size: int) -> Iterator[list[tuple[Article, list[Any]]]]:
    """Whole articles with their chunks, in groups of at least ``size`` chunks (the last may be smaller):
    each group is written and recorded in the manifest together, so an interrupted ingest loses at most one."""
    group: list[tuple[Article, list[Any]]] = []
    for item in chunked:
        group.append(item)
        if sum(len(chunks) for _, chunks in group) >= size:
            yield group
            group = []
    if group:
        yield group


def _commit_group(
    index: Index,
    group: list[tuple[Article, list[Chunk]]],
    titles: dict[str, str],
    already_stored: set[str],
    old_ids: dict[str, list[str]],
    state: dict[str, int],
    progress: Progress | None,
) -> None:
    pairs = [(article, chunk) for article, chunks in group for chunk in chunks if chunk.id not in already_stored]
    texts = [embedded_text(titles[a.id], c) for a, c in pairs]

    def tick(n: int) -> None:
        state["done"] += n
        if progress:
            progress(state["done"], state["total"])

    start = state["done"]
    vectors: Any = index.embedder.embed_array(texts, progress=tick) if pairs else []
    state["done"] = start + len(pairs)  # identical texts are embedded once: count them all
    if pairs:
        index.upsert([c.id for _, c in pairs], vectors, [c.text for _, c in pairs], [chunk_metadata(a, c) for a, c in pairs])
    for article, chunks in group:
        index.manifest.record(article, len(chunks))
    index.save_manifest()
    # Old chunks of changed articles go last: until the manifest names the new hash, they are the live ones.
    kept = {chunk.id for _, chunks in group for chunk in chunks}  # re-chunking may reproduce an old id
    index.delete([chunk_id for article, _ in group for chunk_id in old_ids.get(article.id, []) if chunk_id not in kept])
    if progress:
        progress(state["done"], state["total"])
