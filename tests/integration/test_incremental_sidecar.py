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


def test_an_ingest_after_a_finished_one_reads_only_the_entries_it_touches(tmp_path: Path, embedder, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from assistant.maintenance import check
    from assistant.store.manifest import ChromaManifestStore

    folder = tmp_path / "articles"
    shutil.copytree(SEEDS, folder)
    settings = Settings(index=tmp_path / "index")
    ingest([folder], settings, index=Index(settings, embedder, create=True))
    changed = sorted(folder.glob("*.txt"))[1]
    changed.write_text(changed.read_text(encoding="utf-8") + "\nThe company opened an office in Bordeaux in 2024.\n", encoding="utf-8")
    note = tmp_path / "note.txt"
    note.write_text("Harbour note\nThe depot shipped 14 crates of apples on Monday.\n", encoding="utf-8")

    loads: list[list[str] | None] = []
    original = ChromaManifestStore.load
    monkeypatch.setattr(ChromaManifestStore, "load", lambda self, ids=None: loads.append(ids) or original(self, ids))
    report = ingest([changed, note], settings, index=Index(settings, embedder, create=True))
    assert (report.added, report.updated) == (1, 1)
    assert loads == [[changed.stem, "note"]], "only the two articles' entries were read"

    monkeypatch.setattr(ChromaManifestStore, "load", original)
    index = Index(settings, embedder)
    assert check(index) == [], "the digest, counts and sidecar a partial writer left agree with the whole index"
    assert index.sidecar.read_meta().articles == len(list(folder.glob("*.txt"))) + 1  # type: ignore[union-attr]
    found = Retriever(index, settings).retrieve("Where did the company open an office in 2024?", 5, Filters())
    assert "Bordeaux" in found[0].text


def test_too_many_segments_are_merged_from_the_sidecar_not_rebuilt(tmp_path: Path, embedder, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(index=tmp_path / "index")
    notes = []
    for n in range(MAX_SEGMENTS + 2):
        note = tmp_path / f"note{n}.txt"
        note.write_text(f"Harbour note {n}\nThe depot shipped {n * 7} crates of apples to harbour {n} on Monday.\n", encoding="utf-8")
        notes.append(note)
    ingest([SEEDS], settings, index=Index(settings, embedder, create=True))

    def no_rebuild(self: Index) -> None:
        raise AssertionError("a small ingest rebuilt the whole sidecar from Chroma")

    monkeypatch.setattr(Index, "rebuild_sidecar", no_rebuild)
    for note in notes:
        ingest([note], settings, index=Index(settings, embedder, create=True))
    index = Index(settings, embedder)
    meta = index.sidecar.read_meta()
    assert meta is not None and len(meta.segments) <= MAX_SEGMENTS and meta.articles == len(list(SEEDS.glob("*.txt"))) + len(notes)
    assert sorted(p.name for p in (settings.index / "sidecar").glob("seg-*")) == sorted(meta.segments), "merged segments were removed"
    assert sorted(index.sidecar.live_ids()) == sorted(all_ids(index.collection))

    monkeypatch.undo()
    whole = Settings(index=tmp_path / "whole")
    ingest([SEEDS, *notes], whole, index=Index(whole, embedder, create=True))
    assert ranking(settings, embedder) == ranking(whole, embedder)
    # the notes differ by a number only: per-segment length normalisation may order the rest of them differently
    question = "How many crates did the depot ship to harbour 6?"
    for built in (settings, whole):
        assert "harbour 6" in Retriever(Index(built, embedder), built).retrieve(question, 1, Filters())[0].text
