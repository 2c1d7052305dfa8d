"""A vector segment damaged by a killed write is found by `doctor` and repaired by `doctor --fix`.

chromadb persists its HNSW files every 1,000 records; a process killed while it writes them leaves
labels the files no longer hold (reproduced with SIGKILL during upserts): those chunks drop out of
dense search and the next write fails. The damage is made here deterministically by putting back
the HNSW files of an earlier state under a newer id map.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.config import Settings
from assistant.errors import IndexCorruptError
from assistant.ingest import ingest
from assistant.maintenance import check, rebuild_vectors, unreadable_chunks
from assistant.store.index import Index

pytestmark = pytest.mark.integration


def write_notes(path: Path, first: int, count: int) -> None:
    """``count`` one-sentence articles in one JSONL file: many chunks, little embedding time."""
    lines = [json.dumps({"id": f"note-{n}", "title": f"Note {n}", "text": f"Depot {n} shipped {n * 7 % 997} crates of apples to harbour {n % 13}."}) for n in range(first, first + count)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def run(*args: str) -> subprocess.CompletedProcess[str]:
    """The CLI in its own process: chromadb caches a store per process, so damage made on disk
    under a process that has the store open would not be seen (and could be written over)."""
    return subprocess.run([sys.executable, "-m", "assistant", *args], capture_output=True, text=True, timeout=600, env=os.environ.copy())


def damage_vectors(index_dir: Path, articles: Path) -> None:
    """Ingest 1,200 chunks (HNSW persisted), keep its files, ingest 1,200 more, put the old files back."""
    write_notes(articles / "a.jsonl", 0, 1200)
    assert run("ingest", "--index", str(index_dir), str(articles)).returncode == 0
    segment = next(p.parent for p in (index_dir / "chroma").glob("*/data_level0.bin") if p.stat().st_size > 1_000_000)
    snapshot = {f: f.read_bytes() for f in segment.glob("*.bin")}
    write_notes(articles / "b.jsonl", 1200, 1200)
    assert run("ingest", "--index", str(index_dir), str(articles)).returncode == 0
    for f, data in snapshot.items():
        f.write_bytes(data)


def test_doctor_finds_and_repairs_unreadable_vectors(tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    index_dir, articles = tmp_path / "index", tmp_path / "articles"
    articles.mkdir()
    damage_vectors(index_dir, articles)

    found = run("doctor", "--json", "--index", str(index_dir))
    assert found.returncode == 6 and "Traceback" not in found.stderr
    [problem] = [p for p in json.loads(found.stdout)["problems"] if "cannot read" in p]
    assert int(problem.split()[0]) >= 900, problem  # the vectors added after the restored files

    fixed = run("doctor", "--fix", "--index", str(index_dir))
    assert fixed.returncode == 0, fixed.stderr
    again = run("ingest", "--json", "--index", str(index_dir), str(articles))
    assert again.returncode == 0, again.stderr
    embedded = json.loads(again.stdout)["chunks_embedded"]
    assert 900 <= embedded < 2400, "only what the repair dropped is embedded again"

    settings = Settings(index=index_dir)
    index = Index(settings, embedder)
    assert index.collection.count() == 2400 and len(index.manifest.articles) == 2400
    assert unreadable_chunks(index) == [] and check(index) == []
    # Notes 1000-1999 were written between the two persisted states, so their vectors were the damaged ones.
    sample = index.collection.get(where={"article_id": {"$in": ["note-1000", "note-1500", "note-1999"]}}, include=["embeddings"])
    assert len(sample["ids"]) == 3
    for chunk_id, vector in zip(sample["ids"], sample["embeddings"]):
        assert index.collection.query(query_embeddings=[vector], n_results=1)["ids"][0] == [chunk_id], "found by dense search again"


def test_a_write_to_a_damaged_segment_is_a_typed_error(tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    from assistant.store.chroma import writing as _writing

    class Damaged(Exception):
        pass

    Damaged.__name__ = "InternalError"
    with pytest.raises(IndexCorruptError, match="doctor --fix"):
        with _writing():
            raise Damaged("Error in compaction: Failed to apply logs to the hnsw segment writer")


def test_a_repair_killed_before_its_final_rename_is_finished_when_the_index_is_opened(tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    articles = tmp_path / "articles"
    articles.mkdir()
    write_notes(articles / "a.jsonl", 0, 30)
    settings = Settings(index=tmp_path / "index")
    ingest([articles], settings)
    index = Index(settings, embedder)
    rebuild_vectors(index, skip=set())  # a complete copy, swapped in
    index.refresh_sidecar(writer=True)  # as doctor --fix does after it
    assert index.collection.count() == 30 and check(index) == []
    # The state a kill between "delete the old collection" and "rename the copy" leaves:
    copy = index._client.create_collection("articles__rebuild", metadata=index.collection.metadata, embedding_function=None)
    page = index.collection.get(include=["embeddings", "documents", "metadatas"])
    copy.add(ids=page["ids"], embeddings=page["embeddings"], documents=page["documents"], metadatas=page["metadatas"])
    index._client.delete_collection("articles")

    reopened = Index(settings, embedder)
    assert reopened.collection.name == "articles" and reopened.collection.count() == 30
    assert check(reopened) == []
