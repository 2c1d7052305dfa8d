"""The manifest: which article (id) is indexed with which content hash, from which file.

Pure bookkeeping, so the next ingest knows what to skip, replace or prune. Saved atomically
(write to a temp file, then rename), so a crash leaves either the old or the new manifest.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from .articles import Article
from .errors import IndexCorruptError

SCHEMA = 1


@dataclass
class Entry:
    hash: str
    origin: str
    chunks: int
    title: str = ""
    published: str = ""
    source: str = ""


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
    path: Path
    embedding_model: str = ""
    articles: dict[str, Entry] = field(default_factory=dict)
    generation: int = 0  # bumped on every change; the BM25 sidecar records the one it was built from

    @classmethod
    def load(cls, path: Path) -> Manifest:
        if not path.exists():
            return cls(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("schema") != SCHEMA:
                raise ValueError(f"schema {data.get('schema')!r}")
            articles = {key: Entry(**value) for key, value in data["articles"].items()}
            return cls(path, data.get("embedding_model", ""), articles, int(data.get("generation", 0)))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise IndexCorruptError(f"cannot read the manifest {path} ({exc}); run 'assistant doctor --fix' or re-ingest into a new --index") from None

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        payload = {
            "schema": SCHEMA,
            "embedding_model": self.embedding_model,
            "generation": self.generation,
            "articles": {key: vars(entry) for key, entry in sorted(self.articles.items())},
        }
        tmp = self.path.with_suffix(".tmp")
        with open(tmp, "w", encoding="utf-8") as handle:
            json.dump(payload, handle, ensure_ascii=False)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.path)

    def plan(self, articles: list[Article], files_read: list[str], prune: bool) -> Plan:
        """Compare loaded articles with what is indexed.

        With ``prune``, indexed articles are removed when their file is gone, or when their file
        was read in this run and no longer contains them.
        """
        plan = Plan()
        for article in articles:
            entry = self.articles.get(article.id)
            if entry is None:
                plan.added.append(article)
            elif entry.hash != article.content_hash:
                plan.updated.append(article)
            else:
                plan.unchanged.append(article)
        if prune:
            loaded = {article.id for article in articles}
            read = set(files_read)
            for article_id, entry in self.articles.items():
                if article_id in loaded:
                    continue
                if entry.origin in read or not Path(entry.origin).exists():
                    plan.removed.append(article_id)
        return plan

    def record(self, article: Article, chunks: int) -> None:
        self.articles[article.id] = Entry(article.content_hash, article.origin, chunks, article.title, article.published, article.source)
        self.generation += 1

    def forget(self, article_id: str) -> None:
        if self.articles.pop(article_id, None) is not None:
            self.generation += 1

    @property
    def chunk_count(self) -> int:
        return sum(entry.chunks for entry in self.articles.values())
