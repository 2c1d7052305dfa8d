"""The sidecar: what queries read, kept beside the Chroma collection and built from it.

Local Chroma has no sparse index, so BM25 (bm25s, store/bm25.py) lives here. For an embedded index
the sidecar also holds a read snapshot of the collection: every chunk's vector (memory-mapped
``vectors.npy``) and its text and metadata (``chunks.sqlite``), so that a cold `ask` answers without
importing chromadb (most of a cold `ask`: eval/reports/cold-ask.md). Dense search over the snapshot
is exact where Chroma's HNSW is approximate. It implements the ChunkReader protocol
(store/readers.py); deciding when it is current is store/index.py's job.

It grows in segments: a full build writes one; an ingest that changed a little appends one for
the chunks it added and marks the rows of the chunks it removed as deleted, so its cost follows
what was added, not what is there. A full build (from Chroma, the store of record) merges them
again when there are too many segments or deletions. Layout: ``meta.json`` (digest, model, the
segment list, the sources), ``seg-NNNN/`` (bm25s files, ``ids.txt``, ``days.npy``, ``sources.npy``,
``vectors.npy``), ``deleted.npy`` (rows), ``chunks.sqlite`` (row, id, text, metadata).
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..types import Filters
from .bm25 import SegmentedBM25
from .segments import Chunks, SidecarMeta, next_segment_name, write_meta, write_segment, write_segment_files

if TYPE_CHECKING:
    import numpy as np

MAX_SEGMENTS = 8  # more, and an append merges the small trailing ones (each query scores every segment)
MERGE_RATIO = 4  # a segment joins a merge unless it holds more than this many times the rows gathered
MAX_DELETED = 0.1  # more of the rows deleted (and over DELETED_ALWAYS), and the next change rebuilds whole
DELETED_ALWAYS = 1000  # deleted rows never worth a rebuild on their own


class Sidecar:
    """BM25 over chunk texts, the chunk ids and filter metadata, and (optionally) a read snapshot."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.meta: SidecarMeta | None = None
        self.close()

    def close(self) -> None:
        """Forget what was loaded (after a rebuild, the files are new)."""
        if getattr(self, "_db", None) is not None:
            self._db.close()
        self.meta = None
        self._bm25: SegmentedBM25 | None = None
        self._ids: list[str] | None = None
        self._arrays: dict[str, Any] = {}
        self._rows: dict[str, int] | None = None
        self._days_by_id: dict[str, int] | None = None
        self._db: Any = None
        self._scored: tuple[str, Any] = ("", None)  # the last question and its BM25 scores

    # --- metadata ------------------------------------------------------------------------

    @property
    def meta_file(self) -> Path:
        return self.directory / "meta.json"

    def exists(self) -> bool:
        return self.meta_file.exists()

    def read_meta(self) -> SidecarMeta | None:
        """The sidecar's metadata (parsed once); None if absent or unreadable."""
        if self.meta is None and self.exists():
            try:
                self.meta = SidecarMeta(**json.loads(self.meta_file.read_text(encoding="utf-8")))
            except (OSError, ValueError, TypeError):
                return None
        return self.meta

    def digest(self) -> str | None:
        meta = self.read_meta()
        return meta.digest if meta else None

    def has_snapshot(self) -> bool:
        meta = self.read_meta()
        return bool(meta and meta.snapshot)

    def needs_rebuild(self, removing: int) -> bool:
        """Whether appending (and deleting ``removing`` rows) would leave too many deleted rows."""
        meta = self.read_meta()
        if meta is None or not meta.segments:
            return True
        deleted = int(self._array("deleted").sum()) + removing if meta.rows else removing
        return deleted > max(MAX_DELETED * meta.rows, DELETED_ALWAYS)

    # --- writing ---------------------------------------------------------------------------

    def build(self, chunks: Chunks, digest: str, embedding_model: str, articles: int, vectors: np.ndarray | None = None) -> None:
        """Index ``chunks`` in one segment; with ``vectors`` (rows in the same order) also keep the snapshot."""
        from filelock import FileLock

        with FileLock(str(self.directory.with_name(self.directory.name + ".lock"))):  # readers may rebuild too
            tmp = self.directory.with_name(self.directory.name + ".tmp")
            shutil.rmtree(tmp, ignore_errors=True)
            tmp.mkdir(parents=True)
            meta = SidecarMeta(digest, embedding_model, articles, snapshot=vectors is not None)
            write_segment(tmp, meta, chunks, vectors)
            write_meta(tmp, meta)
            old = self.directory.with_name(self.directory.name + ".old")
            shutil.rmtree(old, ignore_errors=True)
            if self.directory.exists():
                os.replace(self.directory, old)
            os.replace(tmp, self.directory)
            shutil.rmtree(old, ignore_errors=True)
        self.close()

    def append(self, chunks: Chunks, vectors: np.ndarray | None, removed: list[str], digest: str, articles: int) -> None:
        """Add ``chunks`` as a new segment and mark ``removed`` chunk ids, and the earlier rows of ids
        written again, deleted (the caller holds the write lock).

        Readers see the change when meta.json is replaced, which is last and atomic.
        """
        import numpy as np

        meta = self.read_meta()
        assert meta is not None and meta.snapshot == (vectors is not None)
        rows = self.rows_of(removed + [chunk_id for chunk_id, _, _ in chunks])  # a re-written id's old row goes too
        deleted = np.zeros(meta.rows + len(chunks), dtype=bool)
        deleted[: meta.rows] = self._array("deleted")
        deleted[list(rows.values())] = True
        if chunks:
            write_segment(self.directory, meta, chunks, vectors)
        np.save(self.directory / "deleted.tmp.npy", deleted)
        os.replace(self.directory / "deleted.tmp.npy", self.directory / "deleted.npy")
        meta.digest, meta.articles = digest, articles
        write_meta(self.directory, meta)
        self.close()
        if len(meta.segments) > MAX_SEGMENTS and meta.snapshot:
            self.merge_tail()

    def merge_tail(self) -> None:
        """Merge the trailing segments into one, from the sidecar's own files (the caller holds the
        write lock): a segment joins while it holds at most MERGE_RATIO times the rows gathered, so
        the daily small ones merge often and cheaply and the large ones rarely. Rows keep their
        numbers (chunks.sqlite and deleted.npy stay as they are); readers switch with meta.json.
        """
        import numpy as np

        meta = self.read_meta()
        assert meta is not None and meta.snapshot
        sizes = self._segment_rows()
        start, gathered = len(sizes) - 1, sizes[-1]
        while start > 0 and (start == len(sizes) - 1 or sizes[start - 1] <= MERGE_RATIO * gathered):
            start -= 1
            gathered += sizes[start]
        first = sum(sizes[:start])
        ids = self.ids()[first:]
        vectors = np.concatenate([part for row, part in self._vectors() if row >= first])
        stored = self.rows_to_chunks(first, meta.rows)
        merged = next_segment_name(self.directory, meta)
        write_segment_files(self.directory / merged, meta, [(i, *stored[row]) for i, row in zip(ids, range(first, meta.rows), strict=True)], vectors)
        old = meta.segments[start:]
        meta.segments = meta.segments[:start] + [merged]
        write_meta(self.directory, meta)
        self.close()
        for name in old:  # a reader that mapped them keeps its mapping until it closes
            shutil.rmtree(self.directory / name, ignore_errors=True)

    def rows_to_chunks(self, first: int, end: int) -> dict[int, tuple[str, dict[str, Any]]]:
        """row → (text, metadata) of the snapshot's rows ``first`` to ``end`` (exclusive)."""
        db = self._connect()
        return {row: (text, json.loads(metadata)) for row, text, metadata in db.execute("SELECT row, document, metadata FROM chunks WHERE row >= ? AND row < ?", (first, end))}

    # --- reading ---------------------------------------------------------------------------

    def _segments(self) -> list[Path]:
        meta = self.read_meta()
        return [self.directory / name for name in meta.segments] if meta else []

    def ids(self) -> list[str]:
        if self._ids is None:
            self._ids = [i for segment in self._segments() for i in (segment / "ids.txt").read_text(encoding="utf-8").split("\n") if i]
        return self._ids

    def live_ids(self) -> list[str]:
        """The ids of the rows not deleted: the chunks the sidecar stands for."""
        return [chunk_id for chunk_id, deleted in zip(self.ids(), self._array("deleted").tolist()) if not deleted]

    def _array(self, name: str) -> Any:
        """An array over all rows: ``days``, ``sources`` (codes into meta.sources) or ``deleted``."""
        import numpy as np

        if name not in self._arrays:
            if name == "deleted":  # as long as this reader's rows: a writer may have appended since
                rows = self.read_meta().rows  # type: ignore[union-attr]
                path = self.directory / "deleted.npy"
                found = np.load(path)[:rows] if path.exists() else np.zeros(0, dtype=bool)
                self._arrays[name] = np.concatenate([found, np.zeros(rows - len(found), dtype=bool)])
            else:
                parts = [np.load(segment / f"{name}.npy") for segment in self._segments()]
                self._arrays[name] = parts[0] if len(parts) == 1 else np.concatenate(parts)
        return self._arrays[name]

    def _vectors(self) -> list[tuple[int, Any]]:
        """(first row, memory-mapped vectors) per segment: never copied into one array, which at 420k
        chunks would read 650 MB into memory on a reader's first question."""
        import numpy as np

        if "vectors" not in self._arrays:
            parts, first = [], 0
            for segment in self._segments():
                vectors = np.load(segment / "vectors.npy", mmap_mode="r")
                parts.append((first, vectors))
                first += len(vectors)
            self._arrays["vectors"] = parts
        return self._arrays["vectors"]  # type: ignore[no-any-return]

    def _segment_rows(self) -> list[int]:
        """How many rows each segment holds (deleted ones included)."""
        import numpy as np

        return [len(np.load(segment / "days.npy", mmap_mode="r")) for segment in self._segments()]

    def _bm25_model(self) -> SegmentedBM25 | None:
        if self._bm25 is None and self.count():
            segments, deleted, first = [], [], 0
            deleted_rows = self._array("deleted")
            for segment, rows in zip(self._segments(), self._segment_rows(), strict=True):
                if rows:  # an append that only deleted writes an empty segment, without a BM25 index
                    segments.append(segment)
                    deleted.append(deleted_rows[first : first + rows])
                first += rows
            self._bm25 = SegmentedBM25(segments, deleted)
        return self._bm25

    def scores(self, query: str) -> Any:
        """BM25 score of every row for ``query`` (a numpy array), None when no query term is indexed.

        Scored once per question; the top of it can then be taken with several masks.
        """
        model = self._bm25_model()
        return model.scores(query) if model else None

    def search(self, question: str, n: int, filters: Filters) -> list[tuple[str, float]]:
        """The ``n`` best (chunk id, BM25 score) for ``question`` within ``filters`` (the Lexical interface)."""
        if question != self._scored[0]:  # retrieval asks twice per question (all dates, then the time frame)
            self._scored = (question, self.scores(question))
        scores = self._scored[1]
        return [] if scores is None else self.top(scores, n, self.filter_mask(filters))

    def days_of(self, ids: list[str]) -> dict[str, int]:
        """Chunk id → publication day (-1: unknown); the sidecar knows every chunk's, so all of them."""
        return self.days_by_id()

    def document_frequencies(self) -> tuple[Mapping[str, int], int]:
        """(term → number of chunks containing it, number of chunks); empty for an empty sidecar."""
        model = self._bm25_model()
        return (model.frequencies, model.documents) if model else ({}, 0)

    def top(self, scores: Any, k: int, allowed: Any = None, positive: bool = True) -> list[tuple[str, float]]:
        """The ``k`` best (chunk id, score) of a score per row, within an optional 0/1 mask, deleted rows left out."""
        import numpy as np

        deleted = self._array("deleted")
        rows = None  # all rows, or those the mask and the deletions leave
        if allowed is not None or deleted.any():
            rows = np.flatnonzero((allowed > 0 if allowed is not None else True) & ~deleted)
            scores = scores[rows]
        best = best_rows(scores, k)
        floor = 0.0 if positive else -np.inf
        ids = self.ids()
        return [(ids[int(i if rows is None else rows[i])], float(scores[i])) for i in best if scores[i] > floor]

    def filter_mask(self, filters: Filters) -> Any:
        """A 0/1 mask over rows for ``filters``' since/until (known dates only) and source; None when they filter nothing."""
        import numpy as np

        first, last = filters.day_range()
        if first is None and last is None and not filters.source:
            return None
        days = self._array("days")
        keep = np.ones(len(days), dtype=bool)
        if first is not None:
            keep &= days >= first
        if last is not None:
            keep &= (days <= last) & (days >= 0)
        if filters.source is not None:
            sources = self.read_meta().sources  # type: ignore[union-attr]
            keep &= self._array("sources") == (sources.index(filters.source) if filters.source in sources else -1)
        return keep.astype(np.float32)

    def days_by_id(self) -> dict[str, int]:
        """Chunk id → publication day, for date checks without a round trip to Chroma."""
        if self._days_by_id is None:
            self._days_by_id = dict(zip(self.ids(), self._array("days").tolist()))
        return self._days_by_id

    def rows_of(self, ids: list[str]) -> dict[str, int]:
        """Chunk id → row of those of ``ids`` that are here (the latest row of an id written twice)."""
        if self._rows is None:
            self._rows = {chunk_id: row for row, chunk_id in enumerate(self.ids())}
        return {chunk_id: self._rows[chunk_id] for chunk_id in ids if chunk_id in self._rows}

    # --- the read snapshot (the ChunkReader protocol) -----------------------------------------

    def count(self) -> int:
        meta = self.read_meta()
        return meta.rows if meta else 0

    def nearest(self, vector: np.ndarray, n: int, filters: Filters) -> list[tuple[str, float]]:
        """(chunk id, cosine similarity) of the ``n`` nearest chunks within ``filters``, best first (exact)."""
        import numpy as np

        if not self.count():
            return []
        # einsum, not ``@``: BLAS would start threads that spin against onnxruntime's (the query was
        # just embedded) and, on few cores, slow both; einsum's single-threaded loop is as fast here.
        similarities = np.concatenate([np.einsum("ij,j->i", part, vector) for _, part in self._vectors()])
        return self.top(similarities, n, self.filter_mask(filters), positive=False)

    def vectors(self, ids: list[str]) -> dict[str, np.ndarray]:
        """The stored vector of each of ``ids`` that is here."""
        import bisect

        parts = self._vectors()
        starts = [first for first, _ in parts]
        found = {}
        for chunk_id, row in self.rows_of(ids).items():
            first, part = parts[bisect.bisect_right(starts, row) - 1]
            found[chunk_id] = part[row - first]
        return found

    def similarities(self, ids: list[str], vector: np.ndarray) -> dict[str, float]:
        return {chunk_id: float(stored @ vector) for chunk_id, stored in self.vectors(ids).items()}

    def _connect(self) -> Any:
        if self._db is None:
            import sqlite3

            self._db = sqlite3.connect(f"file:{self.directory / 'chunks.sqlite'}?mode=ro", uri=True, check_same_thread=False)
        return self._db

    def passages(self, ids: list[str]) -> dict[str, tuple[str, dict[str, Any]]]:
        """chunk id → (text, metadata) for those of ``ids`` that are here."""
        wanted = {row: chunk_id for chunk_id, row in self.rows_of(ids).items()}
        if not wanted:
            return {}
        found = self._connect().execute(f"SELECT row, document, metadata FROM chunks WHERE row IN ({','.join('?' * len(wanted))})", list(wanted))
        return {wanted[row]: (text, json.loads(metadata)) for row, text, metadata in found}


SAMPLE_STRIDE = 64  # every 64th score estimates where the top k begin


def best_rows(scores: Any, k: int) -> Any:
    """Indexes of the ``k`` highest of ``scores``, best first, ties by index.

    On a large array a threshold read from a strided sample picks a few candidates and only those
    are sorted: every score above the k-th best is at least the threshold whenever k of them are,
    so the result is exact (checked: else the whole array is partitioned); at 420k rows it takes
    a fraction of a millisecond where a full argpartition takes ~5 ms, and a question takes three.
    """
    import numpy as np

    k = min(k, len(scores))
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    candidates = None
    if len(scores) > 4 * SAMPLE_STRIDE * k:
        sample = scores[::SAMPLE_STRIDE]
        rank = min(len(sample) - 1, 2 * -(-k // SAMPLE_STRIDE) + 8)  # ~2k rows expected above it
        threshold = np.partition(sample, len(sample) - 1 - rank)[len(sample) - 1 - rank]
        above = np.flatnonzero(scores >= threshold)
        if k <= len(above) <= 16 * k + 1000:  # else the sample misled (ties, a skewed spread): partition
            candidates = above
    if candidates is None:
        kth = scores[np.argpartition(-scores, k - 1)[k - 1]] if k < len(scores) else scores.min()
        # argpartition leaves ties at the k-th score to chance: take the lowest rows tied with it
        greater = np.flatnonzero(scores > kth)
        candidates = np.concatenate([greater, np.flatnonzero(scores == kth)[: k - len(greater)]])
    order = np.lexsort((candidates, -scores[candidates]))[:k]
    return candidates[order]
