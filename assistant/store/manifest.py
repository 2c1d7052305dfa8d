"""The manifest: which article (id) is indexed with which content hash, from which file.

``Manifest`` is plain bookkeeping (what the next ingest adds, replaces, skips or prunes);
``ChromaManifestStore`` keeps it in a small Chroma collection beside the chunks, so that every
client of a shared Chroma server sees the same manifest and there is one store to keep in step.
Out of scope: the chunks themselves (store/index.py).
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..types import HASH_CHARS, Article, ChunkId
from .chroma import PAGE, pages

DIGEST_SCHEME = 2  # the digest is a sum of per-article hashes: updated from the articles a write touches
DIGEST_MOD = 2**128


@dataclass
class Entry:
    hash: str
    origin: str
    chunks: int
    title: str = ""
    published: str = ""
    source: str = ""
    chunking: str = ""  # the chunking settings the article was indexed with


@dataclass
class Plan:
    """What an ingest has to do, article by article."""

    added: list[Article] = field(default_factory=list)
    updated: list[Article] = field(default_factory=list)
    unchanged: list[Article] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)  # article ids

    @property
    def to_embed(self) -> list[Article]:
        return self.added + self.updated


@dataclass
class Manifest:
    """Every indexed article's entry, or (for an ingest of a few articles into a large index) only
    the entries it looked up, with the digest and count of the others in ``unloaded``."""

    articles: dict[str, Entry] = field(default_factory=dict)
    chunking: str = ""  # current chunking settings: an article indexed with others is re-chunked
    dirty: set[str] = field(default_factory=set)  # recorded since the last save
    forgotten: set[str] = field(default_factory=set)  # removed since the last save
    unloaded: tuple[int, int] = (0, 0)  # (digest sum, count) of the indexed articles not in ``articles``

    @property
    def complete(self) -> bool:
        return self.unloaded[1] == 0

    def plan(self, articles: list[Article], files_read: list[str], prune: bool) -> Plan:
        """Compare loaded articles with what is indexed.

        With ``prune``, indexed articles are removed when their file is gone, or when their file
        was read in this run and no longer contains them.
        """
        assert self.complete or not prune, "pruning needs every entry"
        plan = Plan()
        for article in articles:
            entry = self.articles.get(article.id)
            if entry is None:
                plan.added.append(article)
            elif entry.hash != article.content_hash or entry.chunking != self.chunking:
                plan.updated.append(article)
            else:
                plan.unchanged.append(article)
        if prune:
            loaded = {article.id for article in articles}
            read = set(files_read)
            for article_id, entry in self.articles.items():
                if article_id not in loaded and (entry.origin in read or not Path(entry.origin).exists()):
                    plan.removed.append(article_id)
        return plan

    def record(self, article: Article, chunks: int) -> None:
        self.articles[article.id] = Entry(article.content_hash, article.origin, chunks, article.title, article.published, article.source, self.chunking)
        self.dirty.add(article.id)
        self.forgotten.discard(article.id)

    def forget(self, article_id: str) -> None:
        if self.articles.pop(article_id, None) is not None:
            self.forgotten.add(article_id)
            self.dirty.discard(article_id)

    def is_live(self, key: tuple[str, str]) -> bool:
        """Whether ``key`` (a ChunkId.key) names the indexed version of a loaded article."""
        entry = self.articles.get(key[0])
        return entry is not None and entry.hash[:HASH_CHARS] == key[1]

    def key(self, article_id: str) -> tuple[str, str]:
        return ChunkId.of(article_id, self.articles[article_id].hash, 0, 0).key

    @property
    def chunk_count(self) -> int:
        assert self.complete, "counting chunks needs every entry"
        return sum(entry.chunks for entry in self.articles.values())

    def count(self) -> int:
        """How many articles are indexed."""
        return self.unloaded[1] + len(self.articles)

    def digest(self) -> str:
        """Identifies the indexed content; the sidecar records the digest it was built from."""
        total = (self.unloaded[0] + sum(entry_hash(i, e) for i, e in self.articles.items())) % DIGEST_MOD
        return f"{total:032x}"


def entry_hash(article_id: str, entry: Entry) -> int:
    line = f"{article_id}:{entry.hash}:{entry.chunking}:{entry.chunks}"
    return int(hashlib.sha1(line.encode("utf-8")).hexdigest()[:32], 16)


class ChromaManifestStore:
    """The manifest as a Chroma collection: one record per article, metadata = Entry.

    Chroma wants a vector per record; a 1-d placeholder derived from the id is stored (never queried).
    """

    ROLE = {"role": "assistant manifest"}

    def __init__(self, client: Any, name: str) -> None:
        self.collection = client.get_or_create_collection(name=name, embedding_function=None, metadata=self.ROLE)

    def count(self) -> int:
        return int(self.collection.count())

    def recorded_digest(self) -> str | None:
        """The digest saved with the last change: readers compare it without loading every entry."""
        return (self.collection.metadata or {}).get("digest")

    def writer_finished(self) -> bool:
        """The last writer of a shared (server) index finished: it set ``writing`` before its first
        write and cleared it after its last, so a crashed one leaves it set (an index no writer of
        this version has finished yet has neither)."""
        return (self.collection.metadata or {}).get("writing") is False

    def mark_writing(self, writing: bool) -> None:
        self.collection.modify(metadata={**(self.collection.metadata or {}), **self.ROLE, "writing": writing})

    def digest_is_current(self) -> bool:
        """The recorded digest is of this version's scheme (an index written by an older one gets it
        at its next write; until then its sidecar matches the older digest)."""
        return (self.collection.metadata or {}).get("digest_scheme") == DIGEST_SCHEME

    def load(self, ids: list[str] | None = None) -> Manifest:
        """Every entry; with ``ids``, only theirs (the rest counted by the digest recorded with the
        last change), when that digest is of the current scheme."""
        meta = self.collection.metadata or {}
        if ids is None or not self.digest_is_current():
            return Manifest(articles=dict(self._entries(pages(self.collection, ["metadatas"]))))
        wanted = sorted(set(ids))
        articles = dict(self._entries(self.collection.get(ids=wanted[first : first + PAGE], include=["metadatas"]) for first in range(0, len(wanted), PAGE)))
        loaded = sum(entry_hash(i, e) for i, e in articles.items())
        return Manifest(articles=articles, unloaded=((int(meta["digest"], 16) - loaded) % DIGEST_MOD, int(meta["articles"]) - len(articles)))

    @staticmethod
    def _entries(found: Any) -> Any:
        for page in found:
            for article_id, meta in zip(page["ids"], page["metadatas"]):
                yield article_id, Entry(**{key: meta[key] for key in Entry.__dataclass_fields__ if key in meta})

    def save(self, manifest: Manifest) -> None:
        changed = bool(manifest.dirty or manifest.forgotten)
        if manifest.forgotten:
            gone = sorted(manifest.forgotten)
            for first in range(0, len(gone), PAGE):
                self.collection.delete(ids=gone[first : first + PAGE])
        if manifest.dirty:
            ids = sorted(manifest.dirty)
            for first in range(0, len(ids), PAGE):
                window = ids[first : first + PAGE]
                self.collection.upsert(
                    ids=window,
                    embeddings=[[_placeholder(i)] for i in window],
                    metadatas=[asdict(manifest.articles[i]) for i in window],  # type: ignore[misc]
                )
        digest = manifest.digest()
        if changed or self.recorded_digest() != digest:
            recorded = {"digest": digest, "articles": manifest.count(), "digest_scheme": DIGEST_SCHEME}
            self.collection.modify(metadata={**(self.collection.metadata or {}), **self.ROLE, **recorded})  # keeps ``writing``
        manifest.dirty.clear()
        manifest.forgotten.clear()


def _placeholder(article_id: str) -> float:
    return int(hashlib.sha1(article_id.encode()).hexdigest()[:8], 16) / 2**32
