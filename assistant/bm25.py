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
from collections.abc import Iterator, Mapping
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
        self._days: Any = None  # published_day as a numpy array, for masks
        self._days_by_id: dict[str, int] | None = None
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
            return self._read_meta().digest  # parsed once: retrieval needs the rest of it next
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
        self._model, self.meta, self._days, self._days_by_id = None, None, None, None

    def _read_meta(self) -> SidecarMeta:
        if self.meta is None:
            data = json.loads(self.meta_file.read_text(encoding="utf-8"))
            self.meta = SidecarMeta(data["digest"], data["ids"], data["published_day"], data["source"])
        return self.meta

    def _load(self) -> None:
        if self._model is None and self._read_meta().ids:
            import bm25s

            self._model = bm25s.BM25.load(str(self.directory), mmap=False, show_progress=False)

    def search(self, query: str, k: int, allowed: Any = None) -> list[tuple[str, float]]:
        """Top ``k`` (chunk id, score) with score > 0; ``allowed`` is an optional 0/1 mask over chunks."""
        scores = self.scores(query)
        return [] if scores is None else self.top(scores, k, allowed)

    def scores(self, query: str) -> Any:
        """BM25 score of every chunk for ``query`` (a numpy array), None when no query term is indexed.

        Scored once per question; the top of it can then be taken with several masks.
        """
        self._load()
        tokens = [t for t in tokenize(query) if t in self._vocab()] if self._model else []
        return self._model.get_scores(tokens) if tokens else None

    def top(self, scores: Any, k: int, allowed: Any = None) -> list[tuple[str, float]]:
        import numpy as np

        assert self.meta is not None
        if allowed is not None:
            scores = scores * allowed
        k = min(k, len(scores))
        best = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
        best = best[np.argsort(-scores[best], kind="stable")]
        return [(self.meta.ids[int(i)], float(scores[i])) for i in best if scores[i] > 0]

    def mask(self, first_day: int | None = None, last_day: int | None = None, source: str | None = None) -> Any:
        """A 0/1 mask over chunks: published within [first_day, last_day] (known dates only) and from ``source``."""
        import numpy as np

        self._load()
        assert self.meta is not None
        if self._days is None:
            self._days = np.asarray(self.meta.published_day, dtype=np.int64)
        keep = np.ones(len(self._days), dtype=bool)
        if first_day is not None:
            keep &= self._days >= first_day
        if last_day is not None:
            keep &= (self._days <= last_day) & (self._days >= 0)
        if source is not None:
            keep &= np.asarray(self.meta.source) == source
        return keep.astype(np.float32)

    def days_by_id(self) -> dict[str, int]:
        """Chunk id → publication day, for date checks without a round trip to Chroma."""
        meta = self._read_meta()
        if self._days_by_id is None:
            self._days_by_id = dict(zip(meta.ids, meta.published_day))
        return self._days_by_id

    def _vocab(self) -> dict[str, int]:
        return self._model.vocab_dict

    def document_frequencies(self) -> tuple[Mapping[str, int], int]:
        """(term → number of chunks containing it, number of chunks); empty for an empty sidecar.

        The mapping reads the index on each lookup rather than copying a vocabulary of ~100k terms.
        """
        self._load()
        if self._model is None:
            return {}, 0
        return _DocumentFrequency(self._model.vocab_dict, self._model.scores["indptr"]), int(self._model.scores["num_docs"])


class _DocumentFrequency(Mapping[str, int]):
    """term → chunks containing it, read from bm25s' sparse score matrix (column lengths)."""

    def __init__(self, vocab: dict[str, int], indptr: Any) -> None:
        self._vocab, self._indptr = vocab, indptr

    def __getitem__(self, term: str) -> int:
        j = self._vocab[term]
        if j >= len(self._indptr) - 1:  # bm25s may keep a vocabulary entry (the empty token) with no column
            raise KeyError(term)
        return int(self._indptr[j + 1] - self._indptr[j])

    def __iter__(self) -> Iterator[str]:
        return iter(self._vocab)

    def __len__(self) -> int:
        return len(self._vocab)
