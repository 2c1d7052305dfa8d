"""Nothing lost, nothing duplicated: SIGKILL an ingest midway, re-run, check the index exactly;
one writer at a time; readers keep answering while an ingest runs."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from assistant.chunking import chunk_article
from assistant.config import Settings
from assistant.embeddings import LocalMiniLM
from assistant.errors import IndexBusyError
from assistant.ingest import ingest
from assistant.maintenance import check
from assistant.store.chroma import all_ids
from assistant.store.index import Index

pytestmark = pytest.mark.integration
WORDS = (
    "market council energy minister inflation storm election court vaccine league merger satellite harvest drought "
    "parliament startup tariff pipeline museum orchestra glacier refinery airline festival railway senator lawsuit"
).split()


def write_corpus(folder: Path, count: int, seed: int = 7) -> list[Path]:
    """``count`` plain-text articles of 3-6 paragraphs of generated sentences (deterministic)."""
    rng = random.Random(seed)
    folder.mkdir(parents=True)
    paths = []
    for n in range(count):
        paragraphs = []
        for _ in range(rng.randint(3, 6)):
            sentences = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 20))).capitalize() + f" {rng.randint(1, 999)}." for _ in range(rng.randint(3, 6))]
            paragraphs.append(" ".join(sentences))
        path = folder / f"article_{n:04d}.txt"
        path.write_text(f"Report number {n}\n" + "\n".join(paragraphs) + "\n", encoding="utf-8")
        paths.append(path)
    return paths


def expected_chunk_ids(paths: list[Path], settings: Settings, embedder: LocalMiniLM) -> set[str]:
    from assistant.articles import load_paths

    loaded = load_paths(paths)
    return {
        chunk.id
        for article in loaded.articles
        for chunk in chunk_article(article.id, article.content_hash, article.text, embedder.token_spans, settings.chunk_tokens, settings.chunk_overlap_sentences)
    }


def recorded_articles(index_dir: Path) -> int:
    import chromadb

    client = chromadb.PersistentClient(path=str(index_dir / "chroma"))
    try:
        return client.get_collection("articles__manifest").count()
    except Exception:  # not created yet
        return 0


def test_sigkill_midway_then_rerun_gives_exact_index(tmp_path: Path) -> None:
    paths = write_corpus(tmp_path / "articles", 220)
    index_dir = tmp_path / "index"
    env = {**os.environ, "ASSISTANT_INDEX": str(index_dir), "ASSISTANT_COMMIT_CHUNKS": "48"}
    process = subprocess.Popen([sys.executable, "-m", "assistant", "ingest", str(tmp_path / "articles")], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 600
    try:
        while recorded_articles(index_dir) < 20:  # a few groups committed, far from the end
            assert process.poll() is None, "ingest finished before it could be killed; lower ASSISTANT_COMMIT_CHUNKS"
            assert time.monotonic() < deadline
            time.sleep(0.2)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    committed = recorded_articles(index_dir)
    assert 0 < committed < 220, "the kill must land midway"

    settings = Settings(index=index_dir, commit_chunks=48)
    embedder = LocalMiniLM()
    wanted = expected_chunk_ids(paths, settings, embedder)
    report = ingest([tmp_path / "articles"], settings)

    assert report.added + report.unchanged == 220
    assert report.unchanged >= committed - 1  # at most the group being written at the kill is redone
    index = Index(settings, embedder)
    ids = all_ids(index.collection)
    assert len(ids) == len(set(ids)), "no duplicate chunk ids"
    assert set(ids) == wanted, "no orphan and no missing chunk"
    assert report.chunks_embedded < len(wanted), "work stored before the kill is not embedded again"
    assert len(index.manifest.articles) == 220
    assert check(index) == []

    again = ingest([tmp_path / "articles"], settings)
    assert again.chunks_embedded == 0 and again.unchanged == 220


def test_second_writer_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    write_corpus(tmp_path / "articles", 3)
    settings = Settings(index=tmp_path / "index")
    ingest([tmp_path / "articles"], settings)
    holder = Index(settings, LocalMiniLM())
    lock = holder.write_lock()
    try:
        with pytest.raises(IndexBusyError, match="another 'assistant ingest'"):
            Index(settings, LocalMiniLM()).write_lock(wait_seconds=0.5)
    finally:
        lock.release()
    Index(settings, LocalMiniLM()).write_lock(wait_seconds=0.5).release()


def test_ask_answers_while_an_ingest_runs(tmp_path: Path) -> None:
    seeds = Path(__file__).resolve().parents[2] / "seeds"
    index_dir = tmp_path / "index"
    ingest([seeds], Settings(index=index_dir))
    write_corpus(tmp_path / "more", 150, seed=11)
    env = {**os.environ, "ASSISTANT_INDEX": str(index_dir), "ASSISTANT_COMMIT_CHUNKS": "32"}
    writer = subprocess.Popen([sys.executable, "-m", "assistant", "ingest", str(tmp_path / "more")], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        while recorded_articles(index_dir) <= 4:  # the writer is committing
            assert writer.poll() is None, writer.stderr.read().decode() if writer.stderr else ""
            time.sleep(0.2)
        reader = subprocess.run(
            [sys.executable, "-m", "assistant", "ask", "--json", "How much has Microsoft invested in OpenAI?"],
            env=env, capture_output=True, text=True, timeout=300,
        )
        assert reader.returncode == 0, reader.stderr
        assert "$13 billion" in reader.stdout
        assert writer.poll() is None or writer.returncode == 0
    finally:
        writer.wait(timeout=600)
    assert writer.returncode == 0
