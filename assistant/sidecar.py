"""The sidecar: what queries read, kept beside the Chroma collection and rebuilt from it.

Local Chroma has no sparse index, so a bm25s index lives here. For an embedded index the sidecar
also holds a read snapshot of the collection: every chunk's vector (``vectors.npy``, memory-mapped)
and its text and metadata (``chunks.sqlite``), so that a cold `ask` answers without importing
chromadb, whose import alone costs ~1 s of the 1.5 s a cold `ask` may take. Dense search over the
snapshot is exact (every vector scored: ~5 ms for 42k chunks) where Chroma's HNSW is approximate.

Chroma stays the store of record: every write goes to it, and the sidecar is rebuilt from it after
each ingest that changed something (bm25s cannot add to an index in place). Vectors are carried
over by chunk id, since an id names one text. The sidecar records the manifest digest it was
built from, so a stale one is detected; it is replaced atomically (built beside, then renamed).
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .bm25 import tokenize

if TYPE_CHECKING:
    import numpy as np

    from .retrieval import Filters

VECTORS = "vectors.npy"
CHUNKS = "chunks.sqlite"


@dataclass
class SidecarMeta:
    digest: str
    ids: list[str]
    published_day: list[int]  # days since 1970-01-01, -1 when unknown (for date filters and recency)
    source: list[str]
    embedding_model: str = ""
    articles: int = 0
    snapshot: bool = False  # vectors, texts and metadata are here too (embedded indexes)


class Sidecar:
    """BM25 over chunk texts, the chunk ids and filter metadata, and (optionally) a read snapshot."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._model: Any = None
        self._days: Any = None  # published_day as a numpy array, for masks
        self._days_by_id: dict[str, int] | None = None
        self._rows: dict[str, int] | None = None
        self._vectors: Any = None
        self._db: Any = None
        self.meta: SidecarMeta | None = None

    @property
    def meta_file(self) -> Path:
        return self.directory / "meta.json"

    def exists(self) -> bool:
        return self.meta_file.exists()

    def digest(self) -> str | None:
        meta = self.read_meta()
        return meta.digest if meta else None

    def read_meta(self) -> SidecarMeta | None:
        """The sidecar's metadata (parsed once: retrieval needs all of it next); None if absent or unreadable."""
        if self.meta is None and self.exists():
            try:
                data = json.loads(self.meta_file.read_text(encoding="utf-8"))
                self.meta = SidecarMeta(**data)
            except (OSError, ValueError, TypeError):
                return None
        return self.meta

    def has_snapshot(self) -> bool:
        meta = self.read_meta()
        return bool(meta and meta.snapshot)

    # --- building ----------------------------------------------------------------

    def build(self, chunks: list[tuple[str, str, dict[str, Any]]], digest: str, embedding_model: str, articles: int, vectors: np.ndarray | None = None) -> None:
        """Index ``chunks`` (id, text, metadata); with ``vectors`` (rows in the same order) also keep the snapshot."""
        from filelock import FileLock

        with FileLock(str(self.directory.with_name(self.directory.name + ".lock"))):  # readers may rebuild too
            tmp = self.directory.with_name(self.directory.name + ".tmp")
            shutil.rmtree(tmp, ignore_errors=True)
            tmp.mkdir(parents=True)
            self._write(tmp, chunks, vectors)
            meta = SidecarMeta(
                digest=digest,
                ids=[chunk_id for chunk_id, _, _ in chunks],
                published_day=[int(meta.get("published_day", -1)) for _, _, meta in chunks],
                source=[str(meta.get("source", "")) for _, _, meta in chunks],
                embedding_model=embedding_model,
                articles=articles,
                snapshot=vectors is not None,
            )
            (tmp / "meta.json").write_text(json.dumps(meta.__dict__), encoding="utf-8")
            old = self.directory.with_name(self.directory.name + ".old")
            shutil.rmtree(old, ignore_errors=True)
            if self.directory.exists():
                os.replace(self.directory, old)
            os.replace(tmp, self.directory)
            shutil.rmtree(old, ignore_errors=True)
        self.close()

    @staticmethod
    def _write(directory: Path, chunks: list[tuple[str, str, dict[str, Any]]], vectors: np.ndarray | None) -> None:
        if chunks:
            import bm25s

            model = bm25s.BM25()
            model.index([tokenize(f"{meta.get('title', '')}\n{text}") or ["\u2205"] for _, text, meta in chunks], show_progress=False)
            model.save(str(directory), show_progress=False)
        if vectors is None:
            return
        import sqlite3

        import numpy as np

        np.save(directory / VECTORS, np.ascontiguousarray(vectors, dtype=np.float32))
        db = sqlite3.connect(directory / CHUNKS)
        with db:
            db.execute("CREATE TABLE chunks (row INTEGER PRIMARY KEY, document TEXT NOT NULL, metadata TEXT NOT NULL)")
            db.executemany("INSERT INTO chunks VALUES (?, ?, ?)", ((row, text, json.dumps(meta)) for row, (_, text, meta) in enumerate(chunks)))
        db.close()

    def close(self) -> None:
        """Forget what was loaded (after a rebuild, the files are new)."""
        if self._db is not None:
            self._db.close()
        self._model = self._days = self._days_by_id = self._rows = self._vectors = self._db = self.meta = None

    # --- BM25 --------------------------------------------------------------------

    def _load(self) -> None:
        meta = self.read_meta()
        if self._model is None and meta and meta.ids:
            import bm25s

            # Memory-mapped: a question reads a few columns (46-71 vs 71-171 ms to load). A rebuild
            # renames the directory away; the mapped files stay valid until this reader closes them.
            self._model = bm25s.BM25.load(str(self.directory), mmap=True, show_progress=False)

    def search(self, query: str, k: int, allowed: Any = None) -> list[tuple[str, float]]:
        """Top ``k`` (chunk id, score) with score > 0; ``allowed`` is an optional 0/1 mask over chunks."""
        scores = self.scores(query)
        return [] if scores is None else self.top(scores, k, allowed)

    def scores(self, query: str) -> Any:
        """BM25 score of every chunk for ``query`` (a numpy array), None when no query term is indexed.

        Scored once per question; the top of it can then be taken with several masks.
        """
        self._load()
        tokens = [t for t in tokenize(query) if t in self._model.vocab_dict] if self._model else []
        return self._model.get_scores(tokens) if tokens else None

    def top(self, scores: Any, k: int, allowed: Any = None, positive: bool = True) -> list[tuple[str, float]]:
        """The ``k`` best (chunk id, score) of a score per chunk, within an optional 0/1 mask."""
        import numpy as np

        assert self.meta is not None
        if allowed is not None:
            scores = np.where(allowed > 0, scores, -np.inf)
        k = min(k, len(scores))
        if k <= 0:
            return []
        best = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
        best = best[np.argsort(-scores[best], kind="stable")]
        floor = 0.0 if positive else -np.inf
        return [(self.meta.ids[int(i)], float(scores[i])) for i in best if scores[i] > floor]

    def mask(self, first_day: int | None = None, last_day: int | None = None, source: str | None = None) -> Any:
        """A 0/1 mask over chunks: published within [first_day, last_day] (known dates only) and from ``source``."""
        import numpy as np

        meta = self.read_meta()
        assert meta is not None
        if self._days is None:
            self._days = np.asarray(meta.published_day, dtype=np.int64)
        keep = np.ones(len(self._days), dtype=bool)
        if first_day is not None:
            keep &= self._days >= first_day
        if last_day is not None:
            keep &= (self._days <= last_day) & (self._days >= 0)
        if source is not None:
            keep &= np.asarray(meta.source) == source
        return keep.astype(np.float32)

    def filter_mask(self, filters: Filters) -> Any:
        """The mask of ``filters``' since/until/source; None when they filter nothing."""
        first, last = filters.day_range()
        if first is None and last is None and not filters.source:
            return None
        return self.mask(first, last, filters.source)

    def days_by_id(self) -> dict[str, int]:
        """Chunk id → publication day, for date checks without a round trip to Chroma."""
        meta = self.read_meta()
        assert meta is not None
        if self._days_by_id is None:
            self._days_by_id = dict(zip(meta.ids, meta.published_day))
        return self._days_by_id

    def document_frequencies(self) -> tuple[Mapping[str, int], int]:
        """(term → number of chunks containing it, number of chunks); empty for an empty sidecar.

        The mapping reads the index on each lookup rather than copying a vocabulary of ~100k terms.
        """
        self._load()
        if self._model is None:
            return {}, 0
        return _DocumentFrequency(self._model.vocab_dict, self._model.scores["indptr"]), int(self._model.scores["num_docs"])

    # --- the read snapshot (the same questions a Chroma collection answers) ---------

    def count(self) -> int:
        meta = self.read_meta()
        return len(meta.ids) if meta else 0

    def _matrix(self) -> np.ndarray:
        if self._vectors is None:
            import numpy as np

            self._vectors = np.load(self.directory / VECTORS, mmap_mode="r")
        return self._vectors

    def _row_of(self) -> dict[str, int]:
        if self._rows is None:
            meta = self.read_meta()
            assert meta is not None
            self._rows = {chunk_id: row for row, chunk_id in enumerate(meta.ids)}
        return self._rows

    def nearest(self, vector: np.ndarray, n: int, filters: Filters) -> list[tuple[str, float]]:
        """(chunk id, cosine similarity) of the ``n`` nearest chunks within ``filters``, best first (exact)."""
        if not self.count():
            return []
        return self.top(self._matrix() @ vector, n, self.filter_mask(filters), positive=False)

    def vectors(self, ids: list[str]) -> dict[str, np.ndarray]:
        """The stored vector of each of ``ids`` that is here."""
        rows = self._row_of()
        matrix = self._matrix()
        return {chunk_id: matrix[rows[chunk_id]] for chunk_id in ids if chunk_id in rows}

    def similarities(self, ids: list[str], vector: np.ndarray) -> dict[str, float]:
        return {chunk_id: float(stored @ vector) for chunk_id, stored in self.vectors(ids).items()}

    def passages(self, ids: list[str]) -> dict[str, tuple[str, dict[str, Any]]]:
        """chunk id → (text, metadata) for those of ``ids`` that are here."""
        rows = self._row_of()
        wanted = {rows[chunk_id]: chunk_id for chunk_id in ids if chunk_id in rows}
        if not wanted:
            return {}
        if self._db is None:
            import sqlite3

            self._db = sqlite3.connect(f"file:{self.directory / CHUNKS}?mode=ro", uri=True, check_same_thread=False)
        found = self._db.execute(f"SELECT row, document, metadata FROM chunks WHERE row IN ({','.join('?' * len(wanted))})", list(wanted))
        return {wanted[row]: (text, json.loads(metadata)) for row, text, metadata in found}


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
