"""An ingest that changes a little extends the sidecar (a new segment, deleted rows) instead of
rebuilding it, and queries read the extended sidecar as they would a rebuilt one."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from assistant.config import Settings
from assistant.ingest import ingest
from assistant.retrieval import Retriever
from assistant.store.chroma import all_ids
from assistant.store.index import Index
from assistant.store.sidecar import MAX_SEGMENTS
from assistant.types import Filters

pytestmark = pytest.mark.integration
SEEDS = Path(__file__).resolve().parents[2] / "seeds"
QUESTIONS = ["How much has Microsoft invested in OpenAI?", "When was Mistral founded?", "What does the EU AI Act ban?", "Who is Mistral's chief executive?"]


def ranking(settings: Settings, embedder) -> list[list[str]]:  # type: ignore[no-untyped-def]
    retriever = Retriever(Index(settings, embedder), settings)
    return [[p.chunk_id for p in retriever.retrieve(q, 5, Filters())] for q in QUESTIONS]


def test_a_small_ingest_appends_a_segment_and_ranks_as_a_rebuild(tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "articles"
    shutil.copytree(SEEDS, folder)
    last = sorted(folder.glob("*.txt"))[-1]
    held_back = last.read_text(encoding="utf-8")
    last.unlink()
    grown = Settings(index=tmp_path / "grown")
    ingest([folder], grown, index=Index(grown, embedder, create=True))
    last.write_text(held_back, encoding="utf-8")
    ingest([folder], grown, index=Index(grown, embedder, create=True))

    index = Index(grown, embedder)
    meta = index.sidecar.read_meta()
    assert meta is not None and len(meta.segments) == 2, "the second ingest appended a segment"
    assert not (grown.index / "sidecar.stale").exists() and index.snapshot_current()
    assert sorted(index.sidecar.live_ids()) == sorted(all_ids(index.collection))

    whole = Settings(index=tmp_path / "whole")
    ingest([folder], whole, index=Index(whole, embedder, create=True))
    assert len(Index(whole, embedder).sidecar.read_meta().segments) == 1  # type: ignore[union-attr]
    assert ranking(grown, embedder) == ranking(whole, embedder)


def test_changed_and_pruned_articles_leave_no_row_behind(tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "articles"
    shutil.copytree(SEEDS, folder)
    settings = Settings(index=tmp_path / "index")
    ingest([folder], settings, index=Index(settings, embedder, create=True))
    changed, gone = sorted(folder.glob("*.txt"))[1:3]
    changed.write_text(changed.read_text(encoding="utf-8") + "\nThe company opened an office in Bordeaux in 2024.\n", encoding="utf-8")
    gone.unlink()
    ingest([folder], settings, index=Index(settings, embedder, create=True), prune=True)

    index = Index(settings, embedder)
    assert len(index.sidecar.read_meta().segments) == 2  # type: ignore[union-attr]
    assert sorted(index.sidecar.live_ids()) == sorted(all_ids(index.collection))
    frequencies, documents = index.sidecar.document_frequencies()
    assert documents == len(all_ids(index.collection)), "deleted rows are not counted in the IDF"
    assert "bordeaux" in frequencies and frequencies["bordeaux"] == 1
    retriever = Retriever(index, settings)
    found = retriever.retrieve("Where did the company open an office in 2024?", 5, Filters())
    assert "Bordeaux" in found[0].text
    assert gone.stem not in {p.article_id for p in retriever.retrieve("What is in the deleted article?", 20, Filters())}


def test_too_many_segments_are_merged_by_a_rebuild(tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(index=tmp_path / "index")
    for n in range(MAX_SEGMENTS + 1):
        note = tmp_path / f"note{n}.txt"
        note.write_text(f"Harbour note {n}\nThe depot shipped {n * 7} crates of apples to harbour {n} on Monday.\n", encoding="utf-8")
        ingest([note], settings, index=Index(settings, embedder, create=True))
    meta = Index(settings, embedder).sidecar.read_meta()
    assert meta is not None and len(meta.segments) < MAX_SEGMENTS and meta.articles == MAX_SEGMENTS + 1
