"""ChromaChunks (the reader of a shared collection) counts the collection once, but asks again while
that count is below what a query wants: a chat opened on a small or empty collection sees what
other clients add later."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from assistant.store.readers import ChromaChunks
from assistant.types import Filters


def test_a_reader_opened_on_an_empty_collection_sees_chunks_added_later(tmp_path: Path) -> None:
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    import chromadb

    collection = chromadb.PersistentClient(path=str(tmp_path / "chroma")).get_or_create_collection("chunks", embedding_function=None, metadata={"hnsw:space": "cosine"})
    reader = ChromaChunks(collection)
    query = np.asarray([1.0, 0.0, 0.0], dtype=np.float32)
    assert reader.nearest(query, 5, Filters()) == []
    collection.add(ids=["a:0:0-1", "b:0:0-1"], embeddings=[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]], documents=["x", "y"], metadatas=[{"published_day": 1}, {"published_day": 2}])
    found = reader.nearest(query, 5, Filters())
    assert [chunk_id for chunk_id, _ in found] == ["a:0:0-1", "b:0:0-1"] and reader.count() == 2
