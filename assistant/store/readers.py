"""What retrieval asks of stored chunks (the ChunkReader protocol, answered here by Chroma itself)
and of a word index (the Lexical protocol).

The other ChunkReader is the sidecar's read snapshot (store/sidecar.py); the Lexical ones are the
sidecar's BM25 and, for clients of a Chroma server, store/server_lexical.py. store/index.py chooses
which ones a query reads. Out of scope: writing, and ranking (retrieval.py).
"""

from __future__ import annotations

from collections.abc import Mapping
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

    def days_of(self, ids: list[str]) -> dict[str, int]:
        """chunk id → publication day number (-1: unknown) for at least ``ids``."""
        ...


class Lexical(Protocol):
    """Word search over the stored chunks."""

    def search(self, question: str, n: int, filters: Filters) -> list[tuple[str, float]]:
        """The ``n`` best (chunk id, score) for the words of ``question`` within ``filters``, best first."""
        ...

    def document_frequencies(self) -> tuple[Mapping[str, int], int]:
        """(term → chunks containing it, number of chunks), for weighing a question's terms."""
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
        self._size: int | None = None  # asked once (again only while it is below what a query asks for)
        self._days: dict[str, int] = {}  # publication days seen in answers so far

    def count(self) -> int:
        if self._size is None:
            self._size = int(self.collection.count())
        return self._size

    def nearest(self, vector: np.ndarray, n: int, filters: Filters) -> list[tuple[str, float]]:
        if self.count() < n:  # a small (or empty) shared collection may have grown since it was counted
            self._size = int(self.collection.count())
        if not self._size:
            return []
        result = self.collection.query(query_embeddings=[vector.tolist()], n_results=min(n, self._size), where=chroma_where(filters), include=["distances", "metadatas"])
        self._remember_days(result["ids"][0], result["metadatas"][0])
        return [(chunk_id, 1.0 - float(distance)) for chunk_id, distance in zip(result["ids"][0], result["distances"][0])]

    def days_of(self, ids: list[str]) -> dict[str, int]:
        missing = [chunk_id for chunk_id in dict.fromkeys(ids) if chunk_id not in self._days]
        for got in by_ids(self.collection, missing, ["metadatas"]):
            self._remember_days(got["ids"], got["metadatas"])
        return self._days

    def _remember_days(self, ids: list[str], metadatas: list[Any]) -> None:
        for chunk_id, meta in zip(ids, metadatas):
            self._days[chunk_id] = int((meta or {}).get("published_day", -1))

    def similarities(self, ids: list[str], vector: np.ndarray) -> dict[str, float]:
        import numpy as np

        return {chunk_id: float(np.dot(np.asarray(stored, dtype=np.float32), vector)) for got in by_ids(self.collection, ids, ["embeddings"]) for chunk_id, stored in zip(got["ids"], got["embeddings"])}

    def passages(self, ids: list[str]) -> dict[str, tuple[str, dict[str, Any]]]:
        return {chunk_id: (text, meta) for got in by_ids(self.collection, ids, ["documents", "metadatas"]) for chunk_id, text, meta in zip(got["ids"], got["documents"], got["metadatas"])}
