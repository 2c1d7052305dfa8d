"""Changing the chunking settings re-chunks every article in place, and the index then answers
exactly like one built from scratch with those settings (BM25 sidecar included)."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.config import Settings
from assistant.embeddings import LocalMiniLM
from assistant.ingest import ingest
from assistant.maintenance import check
from assistant.retrieval import Retriever
from assistant.store.chroma import all_ids
from assistant.store.index import Index

pytestmark = pytest.mark.integration
SEEDS = Path(__file__).resolve().parents[2] / "seeds"
QUESTION = "How much has Microsoft invested in OpenAI?"


def ranking(settings: Settings, embedder: LocalMiniLM) -> list[str]:
    return [p.chunk_id for p in Retriever(Index(settings, embedder), settings).retrieve(QUESTION, 5)]


def test_new_chunking_settings_rechunk_and_refresh_bm25(tmp_path: Path) -> None:
    embedder = LocalMiniLM()
    old = Settings(index=tmp_path / "changed", chunk_overlap_sentences=1, chunk_tokens=120)
    ingest([SEEDS], old)
    new = Settings(index=tmp_path / "changed", chunk_overlap_sentences=0, chunk_tokens=200)
    report = ingest([SEEDS], new)
    assert report.updated == len(list(SEEDS.glob("*.txt"))) and report.chunks_embedded > 0
    fresh = Settings(index=tmp_path / "fresh", chunk_overlap_sentences=0, chunk_tokens=200)
    ingest([SEEDS], fresh)

    changed_index = Index(new, embedder)
    assert check(changed_index) == []
    assert sorted(all_ids(changed_index.collection)) == sorted(all_ids(Index(fresh, embedder).collection))
    meta = changed_index.sidecar.read_meta()
    assert meta is not None
    assert sorted(changed_index.sidecar.live_ids()) == sorted(all_ids(changed_index.collection)), "the sidecar indexes exactly the stored chunks"
    assert ranking(new, embedder) == ranking(fresh, embedder)
    assert ingest([SEEDS], new).chunks_embedded == 0


def test_switching_title_embedding_re_embeds_every_chunk_in_place(tmp_path: Path) -> None:
    embedder = LocalMiniLM()
    with_titles = Settings(index=tmp_path / "index")
    ingest([SEEDS], with_titles)
    index = Index(with_titles, embedder)
    chunk_id = next(c for c in all_ids(index.collection) if not c.rsplit(":", 1)[1].startswith("0-"))  # not an article's first chunk (which starts with its title)
    before = index.collection.get(ids=[chunk_id], include=["embeddings", "documents", "metadatas"])

    without = Settings(index=tmp_path / "index", embed_titles=False)
    report = ingest([SEEDS], without)
    assert report.updated == len(list(SEEDS.glob("*.txt"))) and report.chunks_embedded == len(all_ids(index.collection))
    after = Index(without, embedder).collection.get(ids=[chunk_id], include=["embeddings"])
    text = before["documents"][0]
    assert after["embeddings"][0] == pytest.approx(embedder.embed_query(text), abs=1e-5), "the chunk alone is embedded"
    assert before["embeddings"][0] == pytest.approx(embedder.embed_query(f"{before['metadatas'][0]['title']}\n{text}"), abs=1e-5)
    assert ingest([SEEDS], without).chunks_embedded == 0
