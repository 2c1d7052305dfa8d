"""BM25 sidecar: local Chroma has no sparse index, so bm25s keeps one beside the collection.

bm25s cannot add to an index in place, so the sidecar is rebuilt from the collection's
documents after every ingest that changed something (seconds for tens of thousands of
chunks). It records the manifest digest it was built from, so a stale one is detected.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_TOKEN = re.compile(r"(?u)\b\w\w+\b")
# A short English stop list: bm25s' own tokenizer pulls in more than a query needs at start-up.
STOPWORDS = frozenset(
    """a an and are as at be been but by for from had has have he her his i if in into is it its
    of on or our she so than that the their them then there these they this to was we were what
    when where which who whom why will with would you your do does did how about after also can
    could more most other over some such up out all any no not only said says""".split()
)


def tokenize(text: str) -> list[str]:
    return [t for t in _TOKEN.findall(text.lower()) if t not in STOPWORDS]


@dataclass
class SidecarMeta:
    digest: str
    ids: list[str]
    published_day: list[int]  # days since 1970-01-01, -1 when unknown (for date filters and recency)
    source: list[str]


class BM25Sidecar:
    """A bm25s index over chunk texts, with the chunk ids and the metadata needed to filter."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._model: Any = None
        self.meta: SidecarMeta | None = None

    @property
    def meta_file(self) -> Path:
        return self.directory / "meta.json"

    def exists(self) -> bool:
        return self.meta_file.exists()

    def digest(self) -> str | None:
        if not self.exists():
            return None
        try:
            return str(json.loads(self.meta_file.read_text())["digest"])
        except (OSError, ValueError, KeyError):
            return None

    def build(self, ids: list[str], texts: list[str], published_day: list[int], source: list[str], digest: str) -> None:
        """Index ``texts`` and replace the sidecar on disk atomically (build beside, then rename)."""
        import bm25s
        from filelock import FileLock

        with FileLock(str(self.directory.with_name(self.directory.name + ".lock"))):  # readers may rebuild too
            self._build_locked(bm25s, ids, texts, published_day, source, digest)

    def _build_locked(self, bm25s: Any, ids: list[str], texts: list[str], published_day: list[int], source: list[str], digest: str) -> None:
        tmp = self.directory.with_name(self.directory.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        if ids:
            model = bm25s.BM25()
            model.index([tokenize(t) or ["\u2205"] for t in texts], show_progress=False)
            model.save(str(tmp), show_progress=False)
        meta = {"digest": digest, "ids": ids, "published_day": published_day, "source": source}
        (tmp / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
        old = self.directory.with_name(self.directory.name + ".old")
        shutil.rmtree(old, ignore_errors=True)
        if self.directory.exists():
            os.replace(self.directory, old)
        os.replace(tmp, self.directory)
        shutil.rmtree(old, ignore_errors=True)
        self._model, self.meta = None, None

    def _load(self) -> None:
        if self.meta is not None:
            return
        data = json.loads(self.meta_file.read_text(encoding="utf-8"))
        self.meta = SidecarMeta(data["digest"], data["ids"], data["published_day"], data["source"])
        if self.meta.ids:
            import bm25s

            self._model = bm25s.BM25.load(str(self.directory), mmap=False, show_progress=False)

    def search(self, query: str, k: int, allowed: Any = None) -> list[tuple[str, float]]:
        """Top ``k`` (chunk id, score) with score > 0; ``allowed`` is an optional 0/1 mask over chunks."""
        import numpy as np

        self._load()
        assert self.meta is not None
        tokens = [t for t in tokenize(query) if t in self._vocab()] if self._model else []
        if not tokens:
            return []
        k = min(k, len(self.meta.ids))
        mask = None if allowed is None else np.asarray(allowed, dtype=np.float32)
        docs, scores = self._model.retrieve([tokens], k=k, show_progress=False, weight_mask=mask, n_threads=1)
        return [(self.meta.ids[int(d)], float(s)) for d, s in zip(docs[0], scores[0]) if s > 0]

    def _vocab(self) -> dict[str, int]:
        return self._model.vocab_dict

    def document_frequencies(self) -> tuple[dict[str, int], int]:
        """(term → number of chunks containing it, number of chunks); empty for an empty sidecar."""
        self._load()
        if self._model is None:
            return {}, 0
        indptr = self._model.scores["indptr"]
        columns = len(indptr) - 1  # bm25s may keep a vocabulary entry (the empty token) with no column
        return {term: int(indptr[j + 1] - indptr[j]) for term, j in self._model.vocab_dict.items() if j < columns}, int(self._model.scores["num_docs"])
