"""What retrieval asks of stored chunks (the ChunkReader protocol), answered by Chroma itself.

The other implementation is the sidecar's read snapshot (store/sidecar.py); store/index.py chooses
which one a query reads. Out of scope: writing, and ranking (retrieval.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from ..types import Filters
from .chroma import by_ids

if TYPE_CHECKING:
    import numpy as np


class ChunkReader(Protocol):
    """The questions retrieval asks of the stored chunks."""

    def count(self) -> int: ...

    def nearest(self, vector: np.ndarray, n: int, filters: Filters) -> list[tuple[str, float]]:
        """(chunk id, cosine similarity) of the ``n`` nearest chunks within ``filters``, best first."""
        ...

    def similarities(self, ids: list[str], vector: np.ndarray) -> dict[str, float]:
        """Cosine similarity of each of ``ids`` (that is stored and readable) to ``vector``."""
        ...

    def passages(self, ids: list[str]) -> dict[str, tuple[str, dict[str, Any]]]:
        """chunk id → (text, metadata) for those of ``ids`` that are stored."""
        ...


def chroma_where(filters: Filters) -> dict[str, Any] | None:
    """``filters``' since/until/source as one Chroma where clause (None when they filter nothing)."""
    first, last = filters.day_range()
    clauses: list[dict[str, Any]] = []
    if first is not None:
        clauses.append({"published_day": {"$gte": first}})
    if last is not None:
        clauses += [{"published_day": {"$lte": last}}, {"published_day": {"$gte": 0}}]
    if filters.source:
        clauses.append({"source": {"$eq": filters.source}})
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


class ChromaChunks:
    """The ChunkReader of a Chroma collection (a `chroma run` server, or an embedded index while a writer holds it)."""

    def __init__(self, collection: Any) -> None:
        self.collection = collection
        self._size: int | None = None  # asked once: a round trip per query otherwise

    def count(self) -> int:
        if self._size is None:
            self._size = int(self.collection.count())
        return self._size

    def nearest(self, vector: np.ndarray, n: int, filters: Filters) -> list[tuple[str, float]]:
        if not self.count():
            return []
        result = self.collection.query(query_embeddings=[vector.tolist()], n_results=min(n, self.count()), where=chroma_where(filters), include=["distances"])
        return [(chunk_id, 1.0 - float(distance)) for chunk_id, distance in zip(result["ids"][0], result["distances"][0])]

    def similarities(self, ids: list[str], vector: np.ndarray) -> dict[str, float]:
        import numpy as np

        return {chunk_id: float(np.dot(np.asarray(stored, dtype=np.float32), vector)) for got in by_ids(self.collection, ids, ["embeddings"]) for chunk_id, stored in zip(got["ids"], got["embeddings"])}

    def passages(self, ids: list[str]) -> dict[str, tuple[str, dict[str, Any]]]:
        return {chunk_id: (text, meta) for got in by_ids(self.collection, ids, ["documents", "metadatas"]) for chunk_id, text, meta in zip(got["ids"], got["documents"], got["metadatas"])}
